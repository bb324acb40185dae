// PagerDuty Events API v2 through @pagerduty/pdjs, wrapped so that one deliver() is exactly one HTTP
// attempt. pdjs (2.2.4) has three habits we neutralise (research/pitfalls.md):
//  - it resolves on 400/429/5xx instead of throwing: we classify by status;
//  - it retries a 429 itself, 3 times, 20 s apart (`retryCount` is ignored): we pass `retryTimeout: 0`
//    and an `agent` function, which node-fetch calls at the start of every attempt; a second call can
//    only be pdjs's 429 retry, so we abort our signal there and node-fetch rejects before sending;
//  - its `requestTimeout` is a no-op timer that keeps the process alive: `requestTimeout: 0` plus our
//    own AbortSignal.timeout.
// The agent also records the status and Retry-After of the one response (pdjs hides the 429 from us).
import http from 'node:http';
import https from 'node:https';
import type { event } from '@pagerduty/pdjs';

/** Loaded at the first delivery: a daemon with no PagerDuty receiver does not hold the SDK (about 3 MB of heap). */
let sdk: Promise<typeof import('@pagerduty/pdjs')> | null = null;
const loadSdk = () => (sdk ??= import('@pagerduty/pdjs'));
import { systemClock, type Clock } from '../clock.ts';
import { incidentLink, summaryOf, truncate } from './format.ts';
import { isRetryableStatus, ok, parseRetryAfter, permanent, retryable, transportFailure } from './result.ts';
import type { DeliveryResult, Notification, Notifier, Receiver } from './types.ts';

export const DEFAULT_PAGERDUTY_SERVER = 'events.pagerduty.com';
/** PagerDuty's limit is 1024; the issue asks for under it. */
export const SUMMARY_MAX = 1023;

export interface PagerDutyOptions {
  /** Per HTTP attempt. Default 10 000 ms. */
  timeoutMs?: number;
  /** `source` when the incident names no probe target. Default `vigil`. */
  instance?: string;
  /** TLS options for the https.Agent (e.g. `{ ca }` for a private or loopback test server). */
  agentOptions?: https.AgentOptions;
  clock?: Clock;
}

type PdSeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: PdSeverity;
    timestamp: string;
    component?: string;
    group?: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links?: { href: string; text: string }[];
  client?: string;
  client_url?: string;
}

export function pdSeverity(s: string): PdSeverity {
  return s === 'critical' || s === 'warning' || s === 'info' ? s : 'error';
}

/** The Events API v2 body for a notification (pure; exported for tests and `vigil alerts test`). */
export function pagerDutyEvent(n: Notification, routingKey: string, action: 'trigger' | 'resolve', instance = 'vigil'): PagerDutyEvent {
  if (action === 'resolve') return { routing_key: routingKey, event_action: 'resolve', dedup_key: n.dedupKey };
  const i = n.incident;
  const test = n.action === 'test';
  const payload: NonNullable<PagerDutyEvent['payload']> = {
    summary: truncate(summaryOf(n) + (i.flapping && !test ? ' (flapping)' : ''), SUMMARY_MAX),
    source: test ? instance : (i.labels.target ?? i.labels.probe ?? instance),
    severity: test ? 'info' : pdSeverity(i.severity),
    timestamp: new Date(n.action === 'update' ? i.lastSeen : i.firstSeen).toISOString(),
    class: test ? 'test' : (i.labels.error_class ?? i.detector),
    custom_details: test
      ? { owner: n.owner, receiver: n.receiver, note: 'Sent by `vigil alerts test`; resolved straight away.' }
      : {
          owner: n.owner,
          first_seen: new Date(i.firstSeen).toISOString(),
          flapping: i.flapping,
          detector: i.detector,
          key: i.key,
          incident_id: i.id,
          evidence: { ...i.evidence },
          labels: i.labels,
        },
  };
  if (!test && i.labels.model) payload.component = i.labels.model;
  if (!test && i.labels.provider) payload.group = i.labels.provider;
  const ev: PagerDutyEvent = { routing_key: routingKey, event_action: 'trigger', dedup_key: n.dedupKey, payload, client: 'Vigil' };
  if (n.links.length > 0) ev.links = n.links.map((l) => ({ href: l.href, text: l.text }));
  const self = incidentLink(n);
  if (self) ev.client_url = self.href;
  return ev;
}

export function createPagerDutyNotifier(opts: PagerDutyOptions = {}): Notifier {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const instance = opts.instance ?? 'vigil';
  const clock = opts.clock ?? systemClock;

  async function send(body: PagerDutyEvent, server: string, signal: AbortSignal | undefined): Promise<DeliveryResult> {
    const secrets = [body.routing_key];
    const stop = new AbortController();
    const timeout = AbortSignal.timeout(timeoutMs);
    const seen: { status?: number; retryAfter?: string } = {};
    const agent = new https.Agent({ ...opts.agentOptions, keepAlive: false });
    const addRequest = (agent as unknown as AgentInternals).addRequest.bind(agent);
    (agent as unknown as AgentInternals).addRequest = (req, o) => {
      req.once('response', (res) => {
        seen.status = res.statusCode;
        const ra = res.headers['retry-after'];
        if (typeof ra === 'string') seen.retryAfter = ra;
      });
      return addRequest(req, o);
    };
    let attempts = 0;
    try {
      const { event } = await loadSdk();
      const res = await event({
        server,
        data: body as never,
        requestTimeout: 0,
        retryTimeout: 0,
        redirect: 'manual',
        signal: AbortSignal.any(signal ? [stop.signal, timeout, signal] : [stop.signal, timeout]),
        agent: () => {
          if (++attempts > 1) stop.abort();
          return agent;
        },
      } as Parameters<typeof event>[0]);
      return classify(res.status, res.data, seen.retryAfter, body, secrets);
    } catch (err) {
      // A rejection after a response means: pdjs's 429 retry was stopped, or the body was not JSON.
      if (seen.status !== undefined) return classify(seen.status, undefined, seen.retryAfter, body, secrets);
      // node-fetch 2 rejects every abort with the same AbortError: ask the signals which one fired.
      if (timeout.aborted && !signal?.aborted) return retryable(`timeout after ${timeoutMs} ms`);
      return transportFailure(err, timeoutMs, signal, secrets);
    } finally {
      agent.destroy();
    }
  }

  function classify(status: number, data: unknown, retryAfter: string | undefined, body: PagerDutyEvent, secrets: string[]): DeliveryResult {
    if (status >= 200 && status < 300) {
      const key = (data as { dedup_key?: unknown } | undefined)?.dedup_key;
      return ok(typeof key === 'string' ? key : body.dedup_key);
    }
    const d = data as { message?: unknown; errors?: unknown } | undefined;
    const detail = [typeof d?.message === 'string' ? d.message : '', Array.isArray(d?.errors) ? d.errors.join('; ') : ''].filter(Boolean).join(': ');
    const error = `pagerduty HTTP ${status}${detail ? ` ${detail}` : ''}`;
    if (isRetryableStatus(status)) return retryable(error, status === 429 ? parseRetryAfter(retryAfter, clock.now()) : undefined, secrets);
    return permanent(error, secrets);
  }

  return {
    kind: 'pagerduty',
    async deliver(n: Notification, r: Receiver, signal?: AbortSignal): Promise<DeliveryResult> {
      if (!r.routingKey) return permanent(`receiver ${r.name} has no PagerDuty routing key`);
      const server = r.pagerdutyServer ?? DEFAULT_PAGERDUTY_SERVER;
      const resolving = n.action === 'resolve' || (n.action === 'update' && n.incident.state === 'resolved');
      if (resolving) return send(pagerDutyEvent(n, r.routingKey, 'resolve', instance), server, signal);
      // An `update` re-sends the trigger: PagerDuty folds it into the open alert by dedup_key (no new page).
      const trig = await send(pagerDutyEvent(n, r.routingKey, 'trigger', instance), server, signal);
      if (n.action !== 'test' || !trig.ok) return trig;
      // A test proves the route, then closes itself so nobody has to resolve it by hand.
      const res = await send(pagerDutyEvent(n, r.routingKey, 'resolve', instance), server, signal);
      return res.ok ? trig : { ...res, error: `test trigger accepted (dedup_key ${n.dedupKey}) but its resolve failed: ${res.error}` };
    },
  };
}

interface AgentInternals {
  addRequest(req: http.ClientRequest, options: unknown): void;
}
