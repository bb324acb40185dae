// Slack notifier against msw (which intercepts the global fetch the Slack client uses).
import { http, HttpResponse, delay } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createSlackNotifier, slackMessage } from '../../src/notifiers/slack.ts';
import type { Receiver } from '../../src/notifiers/types.ts';
import { MIN, notification, resolved, T0 } from './fixtures.ts';

const API = 'https://slack.test/api/';
const receiver: Receiver = { name: 'search-slack', kind: 'slack', slackToken: 'xoxb-test-token-1234', slackChannel: '#search-oncall', slackApiUrl: API };

type Call = { method: string; fields: Record<string, string>; auth: string | null };
let calls: Call[] = [];
let ts = 0;
const record = async (request: Request): Promise<Call> => {
  const c = { method: new URL(request.url).pathname.replace('/api/', ''), fields: Object.fromEntries(new URLSearchParams(await request.text())), auth: request.headers.get('authorization') };
  calls.push(c);
  return c;
};
const slackOk = http.post(`${API}:method`, async ({ request }) => {
  const c = await record(request);
  if (c.method === 'chat.update') return HttpResponse.json({ ok: true, channel: c.fields.channel, ts: c.fields.ts });
  return HttpResponse.json({ ok: true, channel: 'C024BE91L', ts: `1767603600.00010${++ts}` });
});
const server = setupServer(slackOk);
const clock = new ManualClock(T0 + 20 * MIN);
// Built BEFORE server.listen() on purpose: the notifier must still go through msw.
const slack = createSlackNotifier({ timeoutMs: 300, clock });

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  server.resetHandlers();
  calls = [];
  ts = 0;
});
afterAll(() => server.close());

const respond = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  server.use(
    http.post(`${API}:method`, async ({ request }) => {
      await record(request);
      return typeof body === 'string' ? new HttpResponse(body, { status, headers }) : HttpResponse.json(body as Record<string, unknown>, { status, headers });
    }),
  );

const FIRING_BLOCKS = [
  { type: 'header', text: { type: 'plain_text', text: ':rotating_light: FIRING critical: openai-canary failing: 3 of 3 probes failed (server_error)', emoji: true } },
  {
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: '*What:* openai-canary failing: 3 of 3 probes failed (server_error)\n*When:* since 2026-01-05 09:00:00 UTC (for 5m 0s)\n*Owner:* search-team',
    },
  },
  {
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: '*failures*\n3' },
      { type: 'mrkdwn', text: '*window*\n3' },
      { type: 'mrkdwn', text: '*last_status*\n503' },
      { type: 'mrkdwn', text: '*p95_ms*\n2412.5' },
      { type: 'mrkdwn', text: '*confirmed*\nyes' },
      { type: 'mrkdwn', text: '*retry_after_s*\n-' },
    ],
  },
  { type: 'section', text: { type: 'mrkdwn', text: '<http://127.0.0.1:9464/api/incidents/inc-1|Incident in Vigil>  ·  <https://runbooks.example.com/openai-down|Runbook>' } },
  { type: 'context', elements: [{ type: 'mrkdwn', text: 'detector `availability`  ·  key `openai-canary`  ·  provider openai  ·  model gpt-4o-mini  ·  incident inc-1' }] },
];
const FIRING_TEXT =
  ':rotating_light: [FIRING critical] openai-canary failing: 3 of 3 probes failed (server_error) | since 2026-01-05 09:00:00 UTC (for 5m 0s) | owner search-team | failures=3 window=3 last_status=503 p95_ms=2412.5 confirmed=yes retry_after_s=- | Incident in Vigil: http://127.0.0.1:9464/api/incidents/inc-1 | Runbook: https://runbooks.example.com/openai-down';

describe('slack payloads', () => {
  it('trigger → chat.postMessage with Block Kit and a text fallback, field by field', async () => {
    const res = await slack.deliver(notification({ receiver: 'search-slack' }), receiver);
    expect(res).toEqual({ ok: true, retryable: false, ref: 'C024BE91L:1767603600.000101' });
    expect(calls).toHaveLength(1);
    expect(calls[0].method).toBe('chat.postMessage');
    expect(calls[0].auth).toBe('Bearer xoxb-test-token-1234');
    const { blocks, metadata, ...rest } = calls[0].fields;
    expect(rest).toEqual({ channel: '#search-oncall', text: FIRING_TEXT, unfurl_links: 'false', unfurl_media: 'false' });
    // The marker a retry looks for: the group's dedup key, the outbox row and the part.
    expect(JSON.parse(metadata)).toEqual({
      event_type: 'vigil_notification',
      event_payload: { delivery: 'availability/openai-canary/42/message', dedup_key: 'availability/openai-canary', action: 'trigger' },
    });
    expect(JSON.parse(blocks)).toEqual(FIRING_BLOCKS);
    expect(JSON.stringify(calls[0].fields)).not.toContain('xoxb');
  });

  it('resolve with a prior ref → chat.update of that message, then a thread reply with the duration', async () => {
    const res = await slack.deliver(resolved({ receiver: 'search-slack', priorRef: 'C024BE91L:1767603600.000101' }), receiver);
    expect(res).toEqual({ ok: true, retryable: false, ref: 'C024BE91L:1767603600.000101' });
    expect(calls.map((c) => c.method)).toEqual(['chat.update', 'chat.postMessage']);
    const { blocks, ...update } = calls[0].fields;
    expect(update).toEqual({
      channel: 'C024BE91L',
      ts: '1767603600.000101',
      text:
        ':white_check_mark: [RESOLVED] openai-canary failing: 3 of 3 probes failed (server_error) | from 2026-01-05 09:00:00 UTC to 2026-01-05 09:12:30 UTC (lasted 12m 30s) | owner search-team | failures=3 window=3 last_status=503 p95_ms=2412.5 confirmed=yes retry_after_s=- | Incident in Vigil: http://127.0.0.1:9464/api/incidents/inc-1 | Runbook: https://runbooks.example.com/openai-down',
    });
    const b = JSON.parse(blocks);
    expect(b[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: ':white_check_mark: RESOLVED: openai-canary failing: 3 of 3 probes failed (server_error)', emoji: true } });
    expect(b[1].text.text).toBe(
      '*What:* openai-canary failing: 3 of 3 probes failed (server_error)\n*When:* from 2026-01-05 09:00:00 UTC to 2026-01-05 09:12:30 UTC (lasted 12m 30s)\n*Owner:* search-team',
    );
    expect(b.slice(2)).toEqual(FIRING_BLOCKS.slice(2));
    const { metadata, ...replyFields } = calls[1].fields;
    expect(replyFields).toEqual({ channel: 'C024BE91L', thread_ts: '1767603600.000101', text: ':white_check_mark: RESOLVED after 12m 30s (at 2026-01-05 09:12:30 UTC).' });
    expect(JSON.parse(metadata).event_payload.delivery).toBe('availability/openai-canary/42/reply');
  });

  it('update with a prior ref → chat.update plus a "still firing" thread reply', async () => {
    const n = notification({ action: 'update', priorRef: 'C024BE91L:1767603600.000101' }, { flapping: true, lastSeen: T0 + 4 * 60 * MIN });
    const res = await slack.deliver(n, receiver);
    expect(res.ref).toBe('C024BE91L:1767603600.000101');
    expect(calls.map((c) => c.method)).toEqual(['chat.update', 'chat.postMessage']);
    expect(JSON.parse(calls[0].fields.blocks)[0].text.text).toBe(':rotating_light: FIRING critical flapping: openai-canary failing: 3 of 3 probes failed (server_error)');
    expect({ ...calls[1].fields, metadata: undefined }).toEqual({
      metadata: undefined,
      channel: 'C024BE91L',
      thread_ts: '1767603600.000101',
      text: ':rotating_light: Still FIRING critical flapping, since 2026-01-05 09:00:00 UTC (for 4h 0m).',
    });
  });

  it('resolve without a prior ref → a new message saying resolved', async () => {
    const res = await slack.deliver(resolved(), receiver);
    expect(res).toEqual({ ok: true, retryable: false, ref: 'C024BE91L:1767603600.000101' });
    expect(calls.map((c) => c.method)).toEqual(['chat.postMessage']);
    expect(calls[0].fields.thread_ts).toBeUndefined();
    expect(JSON.parse(calls[0].fields.blocks)[0].text.text).toMatch(/^:white_check_mark: RESOLVED: /);
  });

  it('the message to update is gone → posts a new one', async () => {
    server.use(
      http.post(`${API}chat.update`, async ({ request }) => (await record(request), HttpResponse.json({ ok: false, error: 'message_not_found' }))),
    );
    const res = await slack.deliver(resolved({ priorRef: 'C024BE91L:1.2' }), receiver);
    expect(res).toEqual({ ok: true, retryable: false, ref: 'C024BE91L:1767603600.000101' });
    expect(calls.map((c) => [c.method, c.fields.channel])).toEqual([['chat.update', 'C024BE91L'], ['chat.postMessage', '#search-oncall']]);
  });

  it('a test posts a test message', async () => {
    const res = await slack.deliver(notification({ action: 'test', receiver: 'search-slack' }), receiver);
    expect(res.ok).toBe(true);
    expect(JSON.parse(calls[0].fields.blocks)).toEqual([
      { type: 'header', text: { type: 'plain_text', text: ':test_tube: TEST: Vigil test notification for search-team (receiver search-slack)', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: 'This is a test from Vigil: the route to owner *search-team* through receiver *search-slack* works. No action needed.' } },
    ]);
    expect(calls[0].fields.text).toBe(':test_tube: [TEST] Vigil test notification for search-team (receiver search-slack). No action needed.');
  });

  it('escapes mrkdwn and keeps the header within 150 characters', () => {
    const m = slackMessage(notification({}, { summary: `<!channel> & ${'y'.repeat(300)}` }));
    expect((m.blocks[0] as any).text.text).toHaveLength(150);
    expect((m.blocks[1] as any).text.text).toMatch(/^\*What:\* &lt;!channel&gt; &amp; y/);
  });

  it('refuses a receiver without channel or token, without any request', async () => {
    expect(await slack.deliver(notification(), { ...receiver, slackChannel: undefined })).toEqual({ ok: false, retryable: false, error: 'receiver search-slack has no Slack channel' });
    expect(await slack.deliver(notification(), { ...receiver, slackToken: undefined })).toEqual({ ok: false, retryable: false, error: 'receiver search-slack has no Slack token' });
    expect(calls).toHaveLength(0);
  });
});

describe('slack failures: one attempt, classified', () => {
  it('429 with Retry-After → retryable with that delay, exactly one request (the client does not retry)', async () => {
    respond(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': '30' });
    const t = performance.now();
    const res = await slack.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, retryAfterMs: 30_000, error: 'slack rate limited (HTTP 429)' });
    expect(performance.now() - t).toBeLessThan(5000);
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toHaveLength(1);
  });

  it('429 with an HTTP-date Retry-After → delay from the injected clock', async () => {
    respond(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': new Date(clock.now() + 45_000).toUTCString() });
    const res = await slack.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, retryAfterMs: 45_000, error: 'slack rate limited (HTTP 429)' });
    expect(calls).toHaveLength(1);
  });

  it('500 → retryable, one request', async () => {
    respond(500, 'oops');
    const res = await slack.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, error: 'slack HTTP 500' });
    expect(calls).toHaveLength(1);
  });

  it('404 (wrong API URL) → permanent', async () => {
    respond(404, 'not found');
    expect(await slack.deliver(notification(), receiver)).toEqual({ ok: false, retryable: false, error: 'slack HTTP 404' });
  });

  for (const error of ['invalid_auth', 'channel_not_found', 'not_in_channel', 'account_inactive']) {
    it(`ok:false ${error} → permanent`, async () => {
      respond(200, { ok: false, error });
      expect(await slack.deliver(notification(), receiver)).toEqual({ ok: false, retryable: false, error: `slack ${error}` });
      expect(calls).toHaveLength(1);
    });
  }

  for (const error of ['ratelimited', 'internal_error', 'service_unavailable']) {
    it(`ok:false ${error} → retryable`, async () => {
      respond(200, { ok: false, error });
      expect(await slack.deliver(notification(), receiver)).toEqual({ ok: false, retryable: true, error: `slack ${error}` });
      expect(calls).toHaveLength(1);
    });
  }

  it('network error → retryable', async () => {
    server.use(http.post(`${API}:method`, async ({ request }) => (await record(request), HttpResponse.error())));
    const res = await slack.deliver(notification(), receiver);
    expect(res.ok).toBe(false);
    expect(res.retryable).toBe(true);
    expect(res.error).toMatch(/^network error/);
    expect(calls).toHaveLength(1);
  });

  it('timeout → retryable, within the timeout, one request', async () => {
    server.use(http.post(`${API}:method`, async ({ request }) => (await record(request), await delay(3000), HttpResponse.json({ ok: true }))));
    const t = performance.now();
    const res = await slack.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, error: 'timeout after 300 ms' });
    expect(performance.now() - t).toBeLessThan(2500);
    expect(calls).toHaveLength(1);
  });

  it("the caller's abort signal stops it → retryable", async () => {
    server.use(http.post(`${API}:method`, async () => (await delay(3000), HttpResponse.json({ ok: true }))));
    const res = await createSlackNotifier({ timeoutMs: 10_000 }).deliver(notification(), receiver, AbortSignal.timeout(100));
    expect(res).toEqual({ ok: false, retryable: true, error: 'aborted before the provider answered' });
  });

  it('thread reply fails after the update → retryable (the retry re-does an idempotent update)', async () => {
    let n = 0;
    server.use(
      http.post(`${API}:method`, async ({ request }) => {
        await record(request);
        return ++n === 1 ? HttpResponse.json({ ok: true }) : HttpResponse.json({ ok: false, error: 'internal_error' });
      }),
    );
    const res = await slack.deliver(resolved({ priorRef: 'C1:2.3' }), receiver);
    expect(res).toEqual({ ok: false, retryable: true, error: 'slack internal_error' });
    expect(calls.map((c) => c.method)).toEqual(['chat.update', 'chat.postMessage']);
  });
});
