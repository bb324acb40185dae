// PagerDuty notifier against msw (which intercepts pdjs's node-fetch through node:https).
import { http, HttpResponse, delay } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createPagerDutyNotifier, SUMMARY_MAX } from '../../src/notifiers/pagerduty.ts';
import type { Receiver } from '../../src/notifiers/types.ts';
import { MIN, notification, resolved, T0 } from './fixtures.ts';

const KEY = 'R0UTINGKEY0123456789abcdefABCDEF';
const receiver: Receiver = { name: 'search-pager', kind: 'pagerduty', routingKey: KEY, pagerdutyServer: 'events.test' };
const URL_ = 'https://events.test/v2/enqueue';

let seen: { url: string; body: any; headers: Headers }[] = [];
const record = async (request: Request) => {
  seen.push({ url: request.url, body: JSON.parse(await request.text()), headers: request.headers });
};
const accept = http.post(URL_, async ({ request }) => {
  await record(request);
  const b = seen[seen.length - 1].body;
  return HttpResponse.json({ status: 'success', message: 'Event processed', dedup_key: b.dedup_key }, { status: 202 });
});
const server = setupServer(accept);
const clock = new ManualClock(T0 + 20 * MIN);
const pd = createPagerDutyNotifier({ timeoutMs: 300, clock });

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  server.resetHandlers();
  seen = [];
});
afterAll(() => server.close());

const respond = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  server.use(
    http.post(URL_, async ({ request }) => {
      await record(request);
      return typeof body === 'string' ? new HttpResponse(body, { status, headers }) : HttpResponse.json(body as Record<string, unknown>, { status, headers });
    }),
  );

describe('pagerduty payloads', () => {
  it('sends a trigger with every field, exactly', async () => {
    const res = await pd.deliver(notification(), receiver);
    expect(res).toEqual({ ok: true, retryable: false, ref: 'availability/openai-canary' });
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe(URL_);
    expect(seen[0].headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(seen[0].body).toEqual({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: 'availability/openai-canary',
      payload: {
        summary: 'openai-canary failing: 3 of 3 probes failed (server_error)',
        source: 'provider:openai',
        severity: 'critical',
        timestamp: '2026-01-05T09:00:00.000Z',
        component: 'gpt-4o-mini',
        group: 'openai',
        class: 'server_error',
        custom_details: {
          owner: 'search-team',
          first_seen: '2026-01-05T09:00:00.000Z',
          flapping: false,
          detector: 'availability',
          key: 'openai-canary',
          incident_id: 'inc-1',
          evidence: { failures: 3, window: 3, last_status: 503, p95_ms: 2412.5, confirmed: true, retry_after_s: null },
          labels: { owner: 'search-team', provider: 'openai', model: 'gpt-4o-mini', probe: 'openai-canary', target: 'provider:openai', error_class: 'server_error' },
        },
      },
      links: [
        { href: 'http://127.0.0.1:9464/api/incidents/inc-1', text: 'Incident in Vigil' },
        { href: 'https://runbooks.example.com/openai-down', text: 'Runbook' },
      ],
      client: 'Vigil',
      client_url: 'http://127.0.0.1:9464/api/incidents/inc-1',
    });
  });

  it('sends a resolve with the same dedup key and nothing else', async () => {
    const res = await pd.deliver(resolved(), receiver);
    expect(res).toEqual({ ok: true, retryable: false, ref: 'availability/openai-canary' });
    expect(seen.map((s) => s.body)).toEqual([{ routing_key: KEY, event_action: 'resolve', dedup_key: 'availability/openai-canary' }]);
  });

  it('re-sends the trigger on update (PagerDuty dedups it), stamped with the last evaluation, flapping in the summary', async () => {
    await pd.deliver(notification({ action: 'update' }, { flapping: true, severity: 'warning', labels: { probe: 'p1' } }), receiver);
    const p = seen[0].body.payload;
    expect(seen[0].body.event_action).toBe('trigger');
    expect(p.summary).toBe('openai-canary failing: 3 of 3 probes failed (server_error) (flapping)');
    expect(p.timestamp).toBe('2026-01-05T09:05:00.000Z');
    expect(p.severity).toBe('warning');
    expect(p.source).toBe('p1');
    expect(p.class).toBe('availability');
    expect('component' in p || 'group' in p).toBe(false);
    expect(p.custom_details.flapping).toBe(true);
  });

  it('an update of an incident that is already resolved resolves', async () => {
    await pd.deliver(resolved({ action: 'update' }), receiver);
    expect(seen.map((s) => s.body)).toEqual([{ routing_key: KEY, event_action: 'resolve', dedup_key: 'availability/openai-canary' }]);
  });

  it('keeps the summary under 1024 characters, ending with an ellipsis', async () => {
    await pd.deliver(notification({}, { summary: 'x'.repeat(5000) }), receiver);
    const s: string = seen[0].body.payload.summary;
    expect(s.length).toBe(SUMMARY_MAX);
    expect(s.length).toBeLessThan(1024);
    expect(s.endsWith('…')).toBe(true);
  });

  it('uses the configured API host (EU service region)', async () => {
    const eu: string[] = [];
    server.use(http.post('https://events.eu.pagerduty.com/v2/enqueue', ({ request }) => (eu.push(request.url), HttpResponse.json({ status: 'success' }, { status: 202 }))));
    const res = await pd.deliver(notification(), { ...receiver, pagerdutyServer: 'events.eu.pagerduty.com' });
    expect(res.ok).toBe(true);
    expect(eu).toEqual(['https://events.eu.pagerduty.com/v2/enqueue']);
    expect(seen).toHaveLength(0);
  });

  it('a test triggers with its own dedup key and resolves it at once', async () => {
    const res = await pd.deliver(notification({ action: 'test', dedupKey: 'vigil-test/search-team/search-pager/1' }), receiver);
    expect(res).toEqual({ ok: true, retryable: false, ref: 'vigil-test/search-team/search-pager/1' });
    expect(seen.map((s) => [s.body.event_action, s.body.dedup_key])).toEqual([
      ['trigger', 'vigil-test/search-team/search-pager/1'],
      ['resolve', 'vigil-test/search-team/search-pager/1'],
    ]);
    expect(seen[0].body.payload).toMatchObject({ severity: 'info', class: 'test', summary: 'Vigil test notification for search-team (receiver search-pager)' });
  });

  it('refuses a receiver without a routing key without any request', async () => {
    const res = await pd.deliver(notification(), { ...receiver, routingKey: undefined });
    expect(res).toEqual({ ok: false, retryable: false, error: 'receiver search-pager has no PagerDuty routing key' });
    expect(seen).toHaveLength(0);
  });
});

describe('pagerduty failures: one attempt, classified', () => {
  it('429 with Retry-After → retryable with that delay, exactly one request (pdjs does not retry)', async () => {
    respond(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' }, { 'Retry-After': '7' });
    const t = performance.now();
    const res = await pd.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, retryAfterMs: 7000, error: 'pagerduty HTTP 429' });
    expect(performance.now() - t).toBeLessThan(5000); // pdjs alone would wait 20 s before its retry
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toHaveLength(1);
  });

  it('429 with an HTTP-date Retry-After is measured on the injected clock', async () => {
    respond(429, { status: 'throttle event' }, { 'Retry-After': new Date(clock.now() + 90_000).toUTCString() });
    const res = await pd.deliver(notification(), receiver);
    expect(res.retryable).toBe(true);
    expect(res.retryAfterMs).toBe(90_000);
    expect(seen).toHaveLength(1);
  });

  it('429 without Retry-After → retryable, no delay given', async () => {
    respond(429, { status: 'throttle event' });
    const res = await pd.deliver(notification(), receiver);
    expect(res.retryable).toBe(true);
    expect(res.retryAfterMs).toBeUndefined();
    expect(seen).toHaveLength(1);
  });

  it('500 → retryable, one request', async () => {
    respond(500, { status: 'error', message: 'Internal Server Error' });
    const res = await pd.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, error: 'pagerduty HTTP 500 Internal Server Error' });
    expect(seen).toHaveLength(1);
  });

  it('502 with an HTML body (pdjs rejects on non-JSON) → retryable by status', async () => {
    respond(502, '<html>Bad Gateway</html>', { 'content-type': 'text/html' });
    const res = await pd.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, error: 'pagerduty HTTP 502' });
  });

  it('400 → permanent, with PagerDuty\'s error list, never the routing key', async () => {
    respond(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Length of \'routing_key\' is incorrect (should be 32 characters)', `bad key ${KEY}`] });
    const res = await pd.deliver(notification(), receiver);
    expect(res.ok).toBe(false);
    expect(res.retryable).toBe(false);
    expect(res.error).toBe("pagerduty HTTP 400 Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters); bad key ***");
  });

  it('network error → retryable', async () => {
    server.use(http.post(URL_, () => HttpResponse.error()));
    const res = await pd.deliver(notification(), receiver);
    expect(res.ok).toBe(false);
    expect(res.retryable).toBe(true);
    expect(res.error).toMatch(/^network error/);
  });

  it('timeout → retryable, within the timeout', async () => {
    server.use(http.post(URL_, async ({ request }) => {
      await record(request);
      await delay(3000);
      return HttpResponse.json({ status: 'success' }, { status: 202 });
    }));
    const t = performance.now();
    const res = await pd.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, error: 'timeout after 300 ms' });
    expect(performance.now() - t).toBeLessThan(2500);
    expect(seen).toHaveLength(1);
  });

  it('the caller\'s abort signal stops it → retryable', async () => {
    server.use(http.post(URL_, async () => (await delay(3000), HttpResponse.json({}, { status: 202 }))));
    const slow = createPagerDutyNotifier({ timeoutMs: 10_000 });
    const res = await slow.deliver(notification(), receiver, AbortSignal.timeout(100));
    expect(res).toEqual({ ok: false, retryable: true, error: 'aborted before the provider answered' });
  });

  it('a test whose resolve fails says so', async () => {
    let n = 0;
    server.use(http.post(URL_, () => (++n === 1 ? HttpResponse.json({ status: 'success' }, { status: 202 }) : HttpResponse.json({ message: 'down' }, { status: 503 }))));
    const res = await pd.deliver(notification({ action: 'test', dedupKey: 'vigil-test/x' }), receiver);
    expect(res).toEqual({ ok: false, retryable: true, error: 'test trigger accepted (dedup_key vigil-test/x) but its resolve failed: pagerduty HTTP 503 down' });
  });
});
