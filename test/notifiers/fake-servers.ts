// Loopback stand-ins for PagerDuty's Events API v2 and Slack's Web API, for notifier tests and the
// end-to-end test. Real HTTP(S) servers on 127.0.0.1 that record what they receive and answer like the
// real APIs; `failNext` queues canned failures (429 with Retry-After, 5xx, ok:false errors).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CannedResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** True when `openssl` can be run (needed for the HTTPS PagerDuty stand-in). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A throwaway self-signed certificate for 127.0.0.1 (P-256, valid one day), generated with openssl. */
export function loopbackCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: http.ServerResponse, r: CannedResponse): void {
  const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res.writeHead(r.status, { 'content-type': typeof r.body === 'string' ? 'text/plain' : 'application/json', ...r.headers });
  res.end(body);
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: http.Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

export interface FakePagerDuty {
  /** Put this in the receiver's `pagerdutyServer` (pdjs builds `https://${server}/v2/enqueue`). */
  server: string;
  /** PEM of the self-signed certificate: pass `pagerdutyAgentOptions: { ca }` to createNotifiers. */
  ca: string;
  /** Every request, in order (including the ones answered with a canned failure). */
  requests: { path: string; body: unknown; headers: http.IncomingHttpHeaders }[];
  /** Accepted events only. */
  events: Record<string, unknown>[];
  failNext(r: CannedResponse): void;
  close(): Promise<void>;
}

/** HTTPS on 127.0.0.1 with a fresh self-signed cert; answers 202 like PagerDuty, 400 for a malformed event. */
export async function startFakePagerDuty(): Promise<FakePagerDuty> {
  const { key, cert } = loopbackCert();
  const queue: CannedResponse[] = [];
  const requests: FakePagerDuty['requests'] = [];
  const events: Record<string, unknown>[] = [];
  const server = https.createServer({ key, cert }, async (req, res) => {
    const text = await readBody(req);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    requests.push({ path: req.url ?? '', body, headers: req.headers });
    const canned = queue.shift();
    if (canned) return reply(res, canned);
    const ev = body as Record<string, unknown>;
    if (req.method !== 'POST' || req.url !== '/v2/enqueue') return reply(res, { status: 404, body: { status: 'not found' } });
    const errors: string[] = [];
    if (typeof ev.routing_key !== 'string' || ev.routing_key.length !== 32) errors.push("'routing_key' must be 32 characters");
    if (!['trigger', 'acknowledge', 'resolve'].includes(String(ev.event_action))) errors.push("'event_action' is invalid");
    if (ev.event_action === 'trigger' && typeof ev.payload !== 'object') errors.push("'payload' is missing or blank");
    if (errors.length) return reply(res, { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } });
    events.push(ev);
    reply(res, { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: ev.dedup_key } });
  });
  const port = await listen(server);
  return { server: `127.0.0.1:${port}`, ca: cert, requests, events, failNext: (r) => void queue.push(r), close: closer(server) };
}

export interface SlackCall {
  method: string;
  /** Form fields as sent (blocks and metadata still JSON strings). */
  fields: Record<string, string>;
  authorization: string | undefined;
}

export interface FakeSlackMessage {
  channel: string;
  text: string;
  blocks: unknown;
  /** Thread reply texts, in order. */
  replies: string[];
  /** Message metadata as posted (`{ event_type, event_payload }`), or undefined. */
  metadata?: unknown;
  /** Thread replies with their ts and metadata. */
  thread: { ts: string; text: string; metadata?: unknown }[];
}

export interface FakeSlack {
  /** Put this in the receiver's `slackApiUrl`. */
  apiUrl: string;
  calls: SlackCall[];
  /** Messages by ts as they stand now (after chat.update), with thread replies. */
  messages: Map<string, FakeSlackMessage>;
  failNext(r: CannedResponse): void;
  /**
   * The next call matching `when` is carried out (the message is posted, as Slack would) but never answered: the
   * connection stays open. Resolves with the call once it was carried out, so a test can kill the client mid-send.
   */
  holdNext(when: (call: SlackCall) => boolean): Promise<SlackCall>;
  close(): Promise<void>;
}

/**
 * Plain HTTP on 127.0.0.1 serving chat.postMessage, chat.update, conversations.history, conversations.replies and
 * conversations.list like Slack: any `#name` is channel C0VIGIL01; message metadata is kept and returned with
 * `include_all_metadata`.
 */
export async function startFakeSlack(opts: { token?: string; realTime?: boolean } = {}): Promise<FakeSlack> {
  // Message ts are `<seconds>.<seq>`: 2026-01-05 08:00 UTC by default; with realTime, the second the message is
  // posted, as Slack's are (for a client on the real clock: conversations.history's `oldest` compares with it).
  const tsSeconds = () => (opts.realTime ? Math.floor(Date.now() / 1000) : 1767600000);
  const queue: CannedResponse[] = [];
  const holds: { when: (c: SlackCall) => boolean; done: (c: SlackCall) => void }[] = [];
  const calls: SlackCall[] = [];
  const messages: FakeSlack['messages'] = new Map();
  const names = new Set<string>(['llm-oncall']);
  let seq = 0;
  const withMeta = (m: { metadata?: unknown }, include: boolean) => (include && m.metadata !== undefined ? { metadata: m.metadata } : {});
  const server = http.createServer(async (req, res) => {
    const fields = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const method = (req.url ?? '').replace(/^\/api\//, '');
    const call = { method, fields, authorization: req.headers.authorization };
    calls.push(call);
    // Slack knows a channel whether or not this call succeeds.
    if (fields.channel?.startsWith('#')) names.add(fields.channel.slice(1));
    const canned = queue.shift();
    if (canned) return reply(res, canned);
    const hold = holds.findIndex((h) => h.when(call));
    const answer = (r: CannedResponse) => {
      if (hold < 0) return reply(res, r);
      holds.splice(hold, 1)[0].done(call); // done, not answered
    };
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) return answer({ status: 200, body: { ok: false, error: 'invalid_auth' } });
    if (method === 'conversations.list') {
      return answer({ status: 200, body: { ok: true, channels: [...names].map((name) => ({ id: 'C0VIGIL01', name })), response_metadata: { next_cursor: '' } } });
    }
    const channel = fields.channel?.startsWith('#') ? (method.startsWith('conversations.') ? '' : 'C0VIGIL01') : fields.channel;
    if (!channel) return answer({ status: 200, body: { ok: false, error: 'channel_not_found' } });
    const metadata = fields.metadata ? JSON.parse(fields.metadata) : undefined;
    const include = fields.include_all_metadata === 'true';
    if (method === 'chat.postMessage') {
      const ts = `${tsSeconds()}.${String(++seq).padStart(6, '0')}`;
      if (fields.thread_ts) {
        const parent = messages.get(fields.thread_ts);
        if (!parent) return answer({ status: 200, body: { ok: false, error: 'thread_not_found' } });
        parent.replies.push(fields.text ?? '');
        parent.thread.push({ ts, text: fields.text ?? '', ...(metadata ? { metadata } : {}) });
      } else {
        messages.set(ts, { channel, text: fields.text ?? '', blocks: fields.blocks ? JSON.parse(fields.blocks) : undefined, replies: [], thread: [], ...(metadata ? { metadata } : {}) });
      }
      return answer({ status: 200, body: { ok: true, channel, ts, message: { text: fields.text } } });
    }
    if (method === 'chat.update') {
      const m = messages.get(fields.ts ?? '');
      if (!m || m.channel !== channel) return answer({ status: 200, body: { ok: false, error: 'message_not_found' } });
      m.text = fields.text ?? '';
      m.blocks = fields.blocks ? JSON.parse(fields.blocks) : undefined;
      return answer({ status: 200, body: { ok: true, channel, ts: fields.ts, text: m.text } });
    }
    if (method === 'conversations.history') {
      const oldest = Number(fields.oldest ?? 0);
      const list = [...messages]
        .filter(([ts, m]) => m.channel === channel && Number(ts) >= oldest)
        .reverse()
        .map(([ts, m]) => ({ type: 'message', ts, text: m.text, ...withMeta(m, include) }));
      return answer({ status: 200, body: { ok: true, messages: list, has_more: false, response_metadata: { next_cursor: '' } } });
    }
    if (method === 'conversations.replies') {
      const m = messages.get(fields.ts ?? '');
      if (!m || m.channel !== channel) return answer({ status: 200, body: { ok: false, error: 'thread_not_found' } });
      const list = [{ type: 'message', ts: fields.ts, text: m.text, ...withMeta(m, include) }, ...m.thread.map((t) => ({ type: 'message', ts: t.ts, thread_ts: fields.ts, text: t.text, ...withMeta(t, include) }))];
      return answer({ status: 200, body: { ok: true, messages: list, has_more: false, response_metadata: { next_cursor: '' } } });
    }
    answer({ status: 200, body: { ok: false, error: 'unknown_method' } });
  });
  const port = await listen(server);
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    messages,
    failNext: (r) => void queue.push(r),
    holdNext: (when) => new Promise((done) => holds.push({ when, done })),
    close: closer(server),
  };
}
