// The notifiers against real loopback servers configured through the API URL options (no msw here):
// Slack over plain HTTP via `slackApiUrl`, PagerDuty over HTTPS via `pagerdutyServer` + a trusted CA.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifiers, sendTestNotification } from '../../src/notifiers/index.ts';
import type { Receiver } from '../../src/notifiers/types.ts';
import { hasOpenssl, startFakePagerDuty, startFakeSlack, type FakePagerDuty, type FakeSlack } from './fake-servers.ts';
import { notification, resolved } from './fixtures.ts';

const KEY = 'R0UTINGKEY0123456789abcdefABCDEF';

describe('slack on a loopback server (slackApiUrl)', () => {
  let fake: FakeSlack;
  let receiver: Receiver;
  beforeAll(async () => {
    fake = await startFakeSlack({ token: 'xoxb-loopback' });
    receiver = { name: 'team-slack', kind: 'slack', slackToken: 'xoxb-loopback', slackChannel: '#search-oncall', slackApiUrl: fake.apiUrl };
  });
  afterAll(() => fake.close());

  it('posts, then updates the same message and replies in its thread on resolve', async () => {
    const { slack } = createNotifiers({ timeoutMs: 5000 });
    const trig = await slack.deliver(notification(), receiver);
    expect(trig).toEqual({ ok: true, retryable: false, ref: 'C0VIGIL01:1767600000.000001' });
    const res = await slack.deliver(resolved({ priorRef: trig.ref! }), receiver);
    expect(res).toEqual({ ok: true, retryable: false, ref: 'C0VIGIL01:1767600000.000001' });
    expect(fake.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.postMessage']);
    const msg = fake.messages.get('1767600000.000001')!;
    expect(msg.text).toMatch(/^:white_check_mark: \[RESOLVED\]/);
    expect(msg.replies).toEqual([':white_check_mark: RESOLVED after 12m 30s (at 2026-01-05 09:12:30 UTC).']);
    expect(fake.messages.size).toBe(1);
  });

  it('a 429 from a real server is one request and a retryable result with its Retry-After', async () => {
    const before = fake.calls.length;
    fake.failNext({ status: 429, headers: { 'retry-after': '12' }, body: { ok: false, error: 'ratelimited' } });
    const res = await createNotifiers({ timeoutMs: 5000 }).slack.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, retryAfterMs: 12_000, error: 'slack rate limited (HTTP 429)' });
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.calls.length - before).toBe(1);
  });

  it('a wrong token is a permanent failure', async () => {
    const res = await createNotifiers().slack.deliver(notification(), { ...receiver, slackToken: 'xoxb-wrong' });
    expect(res).toEqual({ ok: false, retryable: false, error: 'slack invalid_auth' });
  });

  it('connection refused → retryable', async () => {
    const dead = await startFakeSlack();
    const url = dead.apiUrl;
    await dead.close();
    const res = await createNotifiers({ timeoutMs: 2000 }).slack.deliver(notification(), { ...receiver, slackApiUrl: url });
    expect(res.retryable).toBe(true);
    expect(res.error).toMatch(/^network error/);
  });
});

describe('slack: a retry never duplicates what an unseen earlier attempt posted', () => {
  let fake: FakeSlack;
  let receiver: Receiver;
  beforeAll(async () => {
    fake = await startFakeSlack({ token: 'xoxb-loopback' });
    receiver = { name: 'team-slack', kind: 'slack', slackToken: 'xoxb-loopback', slackChannel: '#llm-oncall', slackApiUrl: fake.apiUrl };
  });
  afterAll(() => fake.close());

  it('a trigger whose answer was lost: the retry finds the posted message by its marker and takes it', async () => {
    const queuedAt = Date.parse('2026-01-05T08:00:00Z'); // the fake's ts start then
    const first = { ...notification({ id: 7, dedupKey: 'vigil-aaa' }), attempt: 1, queuedAt };
    // The first attempt's answer never arrives (the process dies, or a timeout fires): the message is posted all the same.
    const held = fake.holdNext((c) => c.method === 'chat.postMessage');
    const lost = createNotifiers({ timeoutMs: 300 }).slack.deliver(first, receiver);
    await held;
    expect((await lost).ok).toBe(false);
    expect(fake.messages.size).toBe(1);
    const [ts] = [...fake.messages.keys()];

    const { slack } = createNotifiers({ timeoutMs: 5000 });
    const before = fake.calls.length;
    const again = await slack.deliver({ ...first, attempt: 2 }, receiver);
    expect(again).toEqual({ ok: true, retryable: false, ref: `C0VIGIL01:${ts}` });
    expect(fake.messages.size).toBe(1);
    expect(fake.calls.slice(before).map((c) => c.method)).toEqual(['conversations.list', 'conversations.history']);
    expect(fake.calls.at(-1)!.fields).toMatchObject({ channel: 'C0VIGIL01', include_all_metadata: 'true', oldest: String((queuedAt - 60_000) / 1000) });

    // Another row (another outbox id) of the same group is a new message: the marker names the row, not the group.
    const other = await slack.deliver({ ...first, id: 8, attempt: 2 }, receiver);
    expect(other.ref).not.toBe(again.ref);
    expect(fake.messages.size).toBe(2);
  });

  it('a resolve retried after its thread reply went out: the message is updated again, the reply not repeated', async () => {
    const { slack } = createNotifiers({ timeoutMs: 5000 });
    const trig = await slack.deliver({ ...notification({ id: 20, dedupKey: 'vigil-bbb' }), attempt: 1 }, receiver);
    const ts = trig.ref!.split(':')[1];
    const res = resolved({ id: 21, dedupKey: 'vigil-bbb', priorRef: trig.ref! });
    expect((await slack.deliver({ ...res, attempt: 1 }, receiver)).ok).toBe(true);
    expect((await slack.deliver({ ...res, attempt: 2 }, receiver)).ok).toBe(true);
    expect(fake.messages.get(ts)!.replies).toHaveLength(1);
    expect(fake.calls.slice(-4).map((c) => c.method)).toEqual(['chat.update', 'chat.postMessage', 'chat.update', 'conversations.replies']);
  });

  it('a channel given by id needs no channel list; a look-up Slack refuses (missing scope) falls back to posting', async () => {
    const { slack } = createNotifiers({ timeoutMs: 5000 });
    const byId = { ...receiver, slackChannel: 'C0VIGIL01' };
    const before = fake.calls.length;
    await slack.deliver({ ...notification({ id: 30 }), attempt: 2 }, byId);
    expect(fake.calls.slice(before).map((c) => c.method)).toEqual(['conversations.history', 'chat.postMessage']);

    const size = fake.messages.size;
    fake.failNext({ status: 200, body: { ok: false, error: 'missing_scope', needed: 'channels:history' } });
    const res = await slack.deliver({ ...notification({ id: 31 }), attempt: 2 }, byId);
    expect(res.ok).toBe(true);
    expect(fake.messages.size).toBe(size + 1);
    // Slack saying "later" is not "cannot look": the delivery is retried.
    fake.failNext({ status: 200, body: { ok: false, error: 'ratelimited' } });
    const later = await slack.deliver({ ...notification({ id: 32 }), attempt: 2 }, byId);
    expect(later).toMatchObject({ ok: false, retryable: true });
    expect(fake.messages.size).toBe(size + 1);
  });
});

describe.skipIf(!hasOpenssl())('pagerduty on a loopback HTTPS server (pagerdutyServer + CA)', () => {
  let fake: FakePagerDuty;
  let receiver: Receiver;
  beforeAll(async () => {
    fake = await startFakePagerDuty();
    receiver = { name: 'team-pager', kind: 'pagerduty', routingKey: KEY, pagerdutyServer: fake.server };
  });
  afterAll(() => fake.close());

  it('triggers and resolves with one dedup key', async () => {
    const { pagerduty } = createNotifiers({ timeoutMs: 5000, pagerdutyAgentOptions: { ca: fake.ca } });
    expect(await pagerduty.deliver(notification(), receiver)).toEqual({ ok: true, retryable: false, ref: 'availability/openai-canary' });
    expect(await pagerduty.deliver(resolved(), receiver)).toEqual({ ok: true, retryable: false, ref: 'availability/openai-canary' });
    expect(fake.events.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', 'availability/openai-canary'],
      ['resolve', 'availability/openai-canary'],
    ]);
    expect(fake.requests[0].path).toBe('/v2/enqueue');
    expect(fake.requests[0].headers['user-agent']).toMatch(/^pdjs\//);
  });

  it('a 429 from a real server is one request (pdjs\'s 20 s retry loop never runs)', async () => {
    const before = fake.requests.length;
    fake.failNext({ status: 429, headers: { 'retry-after': '3' }, body: { status: 'throttle event' } });
    const t = performance.now();
    const res = await createNotifiers({ pagerdutyAgentOptions: { ca: fake.ca } }).pagerduty.deliver(notification(), receiver);
    expect(res).toEqual({ ok: false, retryable: true, retryAfterMs: 3000, error: 'pagerduty HTTP 429' });
    expect(performance.now() - t).toBeLessThan(5000);
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.requests.length - before).toBe(1);
  });

  it('a bad routing key is permanent (400 with the error list)', async () => {
    const res = await createNotifiers({ pagerdutyAgentOptions: { ca: fake.ca } }).pagerduty.deliver(notification(), { ...receiver, routingKey: 'short' });
    expect(res).toEqual({ ok: false, retryable: false, error: "pagerduty HTTP 400 Event object is invalid: 'routing_key' must be 32 characters" });
  });

  it('TLS is verified: without the CA the delivery fails (retryable) and nothing is accepted', async () => {
    const before = fake.events.length;
    const res = await createNotifiers({ timeoutMs: 2000 }).pagerduty.deliver(notification(), receiver);
    expect(res.ok).toBe(false);
    expect(res.retryable).toBe(true);
    expect(res.error).toMatch(/self-signed|SELF_SIGNED/i);
    expect(fake.events.length).toBe(before);
  });

  it('vigil alerts test: reports per receiver', async () => {
    const slack = await startFakeSlack();
    try {
      const receivers: Receiver[] = [
        receiver,
        { name: 'team-slack', kind: 'slack', slackToken: 'xoxb-x', slackChannel: '#search', slackApiUrl: slack.apiUrl },
        { name: 'team-slack-broken', kind: 'slack', slackToken: 'xoxb-x', slackChannel: '', slackApiUrl: slack.apiUrl },
      ];
      const reports = await sendTestNotification('search-team', receivers, createNotifiers({ pagerdutyAgentOptions: { ca: fake.ca } }));
      expect(reports.map((r) => [r.receiver, r.status])).toEqual([
        ['team-pager', 'ok'],
        ['team-slack', 'ok'],
        ['team-slack-broken', 'error'],
      ]);
      expect(reports[0].ref).toMatch(/^vigil-test\/search-team\/team-pager\/\d+$/);
      expect(fake.events.slice(-2).map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
      expect(slack.calls).toHaveLength(1);
    } finally {
      await slack.close();
    }
  });
});
