// Slack through @slack/web-api 8: a Block Kit message on trigger; on update/resolve, chat.update of that
// same message plus a thread reply. One HTTP attempt per API call: the client's own retries (10 over
// 30 min by default) are off (`retries: 0`), a 429 throws at once (`rejectRateLimitedCalls`) and every
// call has a timeout; the outbox does the retrying. A client is built per delivery (cheap), with a fetch
// that is looked up at call time (so msw, installed later, still sees it), carries the outbox's abort
// signal, and records the status and Retry-After of what came back.
//
// Exactly once across a crash mid-send: every message and thread reply carries a marker in its message
// metadata (`vigil_notification`, naming the group's dedup key, the outbox row and the part). When the outbox
// retries a row (attempt 2 or later: the last try may have reached Slack unseen), the notifier first looks
// for that marker (conversations.history for a message, conversations.replies for a thread reply) and, when
// found, takes the existing message instead of posting a duplicate. Looking needs the channel's id: a
// `#name` is resolved once per process with conversations.list. Scopes: chat:write, plus channels:history and
// channels:read (groups:* for private channels) for the look-up; without them a retry posts again
// (at-least-once, as before).
import type { ErrorCode as SdkErrorCode, LogLevel, Logger, WebClient } from '@slack/web-api';

/**
 * The SDK is loaded at the first delivery: a daemon with no Slack receiver does not hold it (about 1 MB of heap).
 * Its error codes, by value (the SDK's `ErrorCode` strings), so classifying needs nothing loaded.
 */
const ErrorCode = {
  RequestError: 'slack_webapi_request_error',
  HTTPError: 'slack_webapi_http_error',
  PlatformError: 'slack_webapi_platform_error',
  RateLimitedError: 'slack_webapi_rate_limited_error',
} as const satisfies Record<string, `${SdkErrorCode}`>;
const LOG_ERROR = 'error' as LogLevel;
let sdk: Promise<typeof import('@slack/web-api')> | null = null;
const loadSdk = () => (sdk ??= import('@slack/web-api'));
import { systemClock, type Clock } from '../clock.ts';
import {
  evidenceEntries,
  formatDuration,
  formatTime,
  durationMs,
  statusEmoji,
  statusOf,
  statusWords,
  summaryOf,
  plainText,
  timeline,
  truncate,
} from './format.ts';
import { isRetryableStatus, ok, parseRetryAfter, permanent, retryable, transportFailure } from './result.ts';
import type { DeliveryResult, Notification, Notifier, Receiver } from './types.ts';

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

export interface SlackOptions {
  /** Per API call. Default 10 000 ms. */
  timeoutMs?: number;
  /** Fetch to use (default: `globalThis.fetch`, looked up at call time). */
  fetch?: typeof fetch;
  clock?: Clock;
}

// Slack errors that say "try again later"; every other `ok:false` is a configuration problem.
const TRANSIENT_SLACK_ERRORS = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
// The message we want to edit is gone or not ours: post a fresh one instead of failing forever.
const MESSAGE_GONE = new Set(['message_not_found', 'cant_update_message']);

type Block = { type: string; [field: string]: unknown };

/** Slack mrkdwn needs only these three escaped. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: truncate(text, 3000) });

/** The message for a notification: Block Kit plus the plain-text fallback (pure; exported for tests). */
export function slackMessage(n: Notification): { text: string; blocks: Block[] } {
  const header: Block = { type: 'header', text: { type: 'plain_text', text: truncate(`${statusEmoji(n)} ${statusWords(n)}: ${summaryOf(n)}`, 150), emoji: true } };
  const text = truncate(`${statusEmoji(n)} ${plainText(n)}`, 3000);
  if (n.action === 'test') {
    const body = `This is a test from Vigil: the route to owner *${esc(n.owner)}* through receiver *${esc(n.receiver)}* works. No action needed.`;
    return { text, blocks: [header, { type: 'section', text: mrkdwn(body) }] };
  }
  const i = n.incident;
  const lines = [`*What:* ${esc(i.summary)}`, `*When:* ${timeline(n)}`, `*Owner:* ${esc(n.owner)}`];
  if (i.flapping) lines.push('*Flapping:* yes, it keeps changing state; it stays open until it settles');
  const blocks: Block[] = [header, { type: 'section', text: mrkdwn(lines.join('\n')) }];
  const ev = evidenceEntries(n);
  // A section holds at most 10 fields.
  for (let k = 0; k < ev.length; k += 10) {
    blocks.push({ type: 'section', fields: ev.slice(k, k + 10).map(([name, v]) => mrkdwn(`*${esc(name)}*\n${esc(v)}`)) });
  }
  if (n.links.length > 0) {
    // Links, not buttons: URL buttons make Slack call the app's interactivity endpoint, which we don't run.
    blocks.push({ type: 'section', text: mrkdwn(n.links.map((l) => `<${esc(l.href)}|${esc(l.text).replace(/\|/g, '/')}>`).join('  ·  ')) });
  }
  const ctx = [`detector \`${esc(i.detector)}\``, `key \`${esc(i.key)}\``];
  if (i.labels.provider) ctx.push(`provider ${esc(i.labels.provider)}`);
  if (i.labels.model) ctx.push(`model ${esc(i.labels.model)}`);
  ctx.push(`incident ${esc(i.id)}`);
  blocks.push({ type: 'context', elements: [mrkdwn(ctx.join('  ·  '))] });
  return { text, blocks };
}

/**
 * The thread reply under the original message on resolve (with duration) or update. A group's update names
 * each alert by what it is now: which are firing and which resolved.
 */
export function slackThreadReply(n: Notification): string {
  const group = n.alerts && n.alerts.length > 1 ? n.alerts : null;
  const keys = (state: 'firing' | 'resolved') => (group ?? []).filter((a) => a.state === state).map((a) => a.key);
  if (statusOf(n) === 'RESOLVED') {
    const at = n.incident.resolvedAt ?? n.incident.lastSeen;
    const all = group ? ` All recovered: ${keys('resolved').join(', ')}.` : '';
    return truncate(`${statusEmoji(n)} RESOLVED after ${formatDuration(durationMs(n))} (at ${formatTime(at)}).${all}`, 3000);
  }
  if (group) {
    const resolved = keys('resolved');
    return truncate(`${statusEmoji(n)} Still ${statusWords(n)}: firing ${keys('firing').join(', ')}${resolved.length ? `; resolved ${resolved.join(', ')}` : ''}.`, 3000);
  }
  return `${statusEmoji(n)} Still ${statusWords(n)}, ${timeline(n)}.`;
}

export const MARKER_EVENT = 'vigil_notification';

/** The marker a message or thread reply carries, unique per outbox row and part. */
export function deliveryMarker(n: Notification, part: 'message' | 'reply'): { event_type: string; event_payload: Record<string, string | number> } {
  return { event_type: MARKER_EVENT, event_payload: { delivery: `${n.dedupKey}/${n.id}/${part}`, dedup_key: n.dedupKey, action: n.action } };
}

type SlackMessage = { ts?: string; metadata?: { event_type?: string; event_payload?: { delivery?: unknown } } };

function carries(m: SlackMessage, marker: ReturnType<typeof deliveryMarker>): boolean {
  return m.metadata?.event_type === marker.event_type && m.metadata?.event_payload?.delivery === marker.event_payload.delivery;
}

/** Slack channel, group and DM ids (what conversations.* accept). */
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;
/** Bounds on a look-up: pages of history or channel list read before giving up (and posting). */
const LOOKUP_PAGES = 5;

/** `channel:ts` → parts. Channel ids never contain a colon; ts is `1700000000.000100`. */
export function parseSlackRef(ref: string): { channel: string; ts: string } | null {
  const at = ref.indexOf(':');
  if (at <= 0 || at === ref.length - 1) return null;
  return { channel: ref.slice(0, at), ts: ref.slice(at + 1) };
}

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LOG_ERROR,
  setName() {},
};

export function createSlackNotifier(opts: SlackOptions = {}): Notifier {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const clock = opts.clock ?? systemClock;
  // `#name` → channel id, learnt from conversations.list and from every post's answer (per API URL).
  const channelIds = new Map<string, string>();

  return {
    kind: 'slack',
    async deliver(n: Notification, r: Receiver, signal?: AbortSignal): Promise<DeliveryResult> {
      if (!r.slackToken) return permanent(`receiver ${r.name} has no Slack token`);
      if (!r.slackChannel) return permanent(`receiver ${r.name} has no Slack channel`);
      const secrets = [r.slackToken];
      const seen: { status?: number; retryAfter?: string | null } = {};
      const { WebClient } = await loadSdk();
      const client = new WebClient(r.slackToken, {
        slackApiUrl: r.slackApiUrl ?? DEFAULT_SLACK_API_URL,
        timeout: timeoutMs,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        logger: silent,
        logLevel: LOG_ERROR,
        fetch: async (url, init) => {
          const res = await (opts.fetch ?? globalThis.fetch)(url, {
            ...(init as RequestInit),
            signal: signal && init?.signal ? AbortSignal.any([init.signal, signal]) : (signal ?? init?.signal),
          });
          seen.status = res.status;
          seen.retryAfter = res.headers.get('retry-after');
          return res;
        },
      });
      const msg = slackMessage(n);
      // A test notification has no outbox row to name; everything else may be a retry of a send we never saw end.
      const retry = n.action !== 'test' && (n.attempt ?? 1) > 1;
      const apiUrl = r.slackApiUrl ?? DEFAULT_SLACK_API_URL;
      const post = async () => {
        const marker = deliveryMarker(n, 'message');
        if (retry) {
          const found = await findMessage(client, apiUrl, r.slackChannel!, marker, n.queuedAt);
          if (found) return ok(found);
        }
        const res = await client.chat.postMessage({
          channel: r.slackChannel!,
          text: msg.text,
          blocks: msg.blocks,
          unfurl_links: false,
          unfurl_media: false,
          ...(n.action === 'test' ? {} : { metadata: marker }),
        });
        if (res.channel && !CHANNEL_ID.test(r.slackChannel!)) channelIds.set(`${apiUrl}|${r.slackChannel}`, res.channel);
        return ok(`${res.channel ?? r.slackChannel}:${res.ts}`);
      };
      try {
        const prior = n.action === 'update' || n.action === 'resolve' ? (n.priorRef ? parseSlackRef(n.priorRef) : null) : null;
        if (!prior) return await post();
        try {
          await client.chat.update({ channel: prior.channel, ts: prior.ts, text: msg.text, blocks: msg.blocks });
        } catch (err) {
          if (platformError(err) && MESSAGE_GONE.has(platformError(err)!)) return await post();
          throw err;
        }
        // Editing alone notifies nobody; the thread reply does (and records the duration). Once only.
        const marker = deliveryMarker(n, 'reply');
        if (!(retry && (await findReply(client, prior, marker)))) {
          await client.chat.postMessage({ channel: prior.channel, thread_ts: prior.ts, text: slackThreadReply(n), metadata: marker });
        }
        return ok(`${prior.channel}:${prior.ts}`);
      } catch (err) {
        return classify(err, seen, signal, secrets);
      }
    },
  };

  /** `channel:ts` of the top-level message carrying `marker` since `since`, or null (also when we cannot look). */
  async function findMessage(client: WebClient, apiUrl: string, channel: string, marker: ReturnType<typeof deliveryMarker>, since: number | undefined): Promise<string | null> {
    return lookup(async () => {
      const id = await channelId(client, apiUrl, channel);
      if (!id) return null;
      let cursor: string | undefined;
      for (let page = 0; page < LOOKUP_PAGES; page++) {
        const res = await client.conversations.history({
          channel: id,
          include_all_metadata: true,
          limit: 200,
          // A minute of slack for clock differences between us and Slack.
          ...(since !== undefined ? { oldest: String(Math.max(0, since - 60_000) / 1000) } : {}),
          ...(cursor ? { cursor } : {}),
        });
        const hit = (res.messages as SlackMessage[] | undefined)?.find((m) => carries(m, marker));
        if (hit?.ts) return `${id}:${hit.ts}`;
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!cursor) return null;
      }
      return null;
    });
  }

  async function findReply(client: WebClient, parent: { channel: string; ts: string }, marker: ReturnType<typeof deliveryMarker>): Promise<boolean> {
    const found = await lookup(async () => {
      let cursor: string | undefined;
      for (let page = 0; page < LOOKUP_PAGES; page++) {
        const res = await client.conversations.replies({ channel: parent.channel, ts: parent.ts, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) });
        if ((res.messages as SlackMessage[] | undefined)?.some((m) => carries(m, marker))) return true;
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!cursor) return null;
      }
      return null;
    });
    return found === true;
  }

  async function channelId(client: WebClient, apiUrl: string, channel: string): Promise<string | null> {
    if (CHANNEL_ID.test(channel)) return channel;
    const key = `${apiUrl}|${channel}`;
    const known = channelIds.get(key);
    if (known) return known;
    const name = channel.replace(/^#/, '');
    let cursor: string | undefined;
    for (let page = 0; page < LOOKUP_PAGES; page++) {
      const res = await client.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) });
      const hit = res.channels?.find((c) => c.name === name);
      if (hit?.id) {
        channelIds.set(key, hit.id);
        return hit.id;
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    return null;
  }

  function classify(err: unknown, seen: { status?: number; retryAfter?: string | null }, signal: AbortSignal | undefined, secrets: string[]): DeliveryResult {
    const e = err as { code?: string; retryAfter?: number; statusCode?: number; original?: unknown; data?: { error?: string; response_metadata?: { retryAfter?: number } } };
    if (e?.code === ErrorCode.RateLimitedError) return retryable('slack rate limited (HTTP 429)', (e.retryAfter ?? 0) * 1000);
    const pe = platformError(err);
    if (pe !== undefined) {
      const ra = e.data?.response_metadata?.retryAfter;
      if (TRANSIENT_SLACK_ERRORS.has(pe)) return retryable(`slack ${pe}`, typeof ra === 'number' ? ra * 1000 : undefined, secrets);
      return permanent(`slack ${pe}`, secrets);
    }
    if (e?.code === ErrorCode.HTTPError && typeof e.statusCode === 'number') {
      const msg = `slack HTTP ${e.statusCode}`;
      return isRetryableStatus(e.statusCode) ? retryable(msg, undefined, secrets) : permanent(msg, secrets);
    }
    // A 429 whose Retry-After the client could not read (an HTTP-date) comes back as a plain Error.
    if (seen.status === 429) return retryable('slack rate limited (HTTP 429)', parseRetryAfter(seen.retryAfter, clock.now()));
    if (e?.code === ErrorCode.RequestError) return transportFailure(e.original, timeoutMs, signal, secrets);
    return transportFailure(err, timeoutMs, signal, secrets);
  }
}

/**
 * Run a look-up for an earlier attempt. Slack saying "try later" (or the network failing) fails the delivery
 * (the outbox retries, and looks again); any other refusal (a missing scope, not in the channel) means we
 * cannot look: null, and the caller posts (at-least-once).
 */
async function lookup<T>(fn: () => Promise<T | null>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    const pe = platformError(err);
    if (pe !== undefined && !TRANSIENT_SLACK_ERRORS.has(pe)) return null;
    throw err;
  }
}

function platformError(err: unknown): string | undefined {
  const e = err as { code?: string; data?: { error?: unknown } };
  return e?.code === ErrorCode.PlatformError ? String(e.data?.error ?? 'unknown_error') : undefined;
}
