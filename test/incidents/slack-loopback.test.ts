// The engine with the real Slack notifier against a Slack-compatible loopback server: one grouped message,
// a 503 outage retried from the outbox, the resolve as chat.update of the same message plus a thread reply.
import { afterEach, describe, expect, it } from 'vitest';
import { createSlackNotifier } from '../../src/notifiers/slack.ts';
import { startFakeSlack } from '../notifiers/fake-servers.ts';
import type { FakeSlack } from '../notifiers/fake-servers.ts';
import { ENV, MIN, SEC, harness, signal } from './helpers.ts';

let slack: FakeSlack | null = null;
afterEach(async () => {
  await slack?.close();
  slack = null;
});

describe('engine + Slack notifier on loopback', () => {
  it('five failing probes → one message; outage retried; resolve updates that message', async () => {
    slack = await startFakeSlack({ token: ENV.SLACK_BOT_TOKEN });
    const h = harness(`
owners:
  search-team: { slack: "#search-oncall" }
receivers:
  slack: { token: "\${SLACK_BOT_TOKEN}", api_url: "${slack.apiUrl}" }
routes:
  - notify: [slack]
defaults: { group_wait: 30s, group_interval: 1m }
`);
    h.manager.outbox['o'].notifiers.slack = createSlackNotifier({ timeoutMs: 5000, clock: h.clock });
    slack.failNext({ status: 503, body: 'unavailable' });
    slack.failNext({ status: 503, body: 'unavailable' });
    const keys = ['openai-a', 'openai-b', 'openai-c', 'openai-d', 'openai-e'];
    // A drift detector's alerts: grouped by group_wait into one message (an availability page would go at once).
    for (const k of keys) await h.manager.ingest(signal(k, 'firing', { detector: 'latency' }));
    await h.run(5 * MIN, 5 * SEC);
    // A 503 on the post; the retry first looks for the message (a lost answer may hide a posted message):
    // the channel list gets the second 503; the third attempt looks, finds nothing and posts.
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'conversations.list', 'conversations.list', 'conversations.history', 'chat.postMessage']);
    expect(slack.messages.size).toBe(1);
    const [[ts, msg]] = [...slack.messages];
    for (const k of keys) expect(msg.text).toContain(k);
    expect(msg.channel).toBe('C0VIGIL01');

    for (const k of keys) await h.manager.ingest(signal(k, 'resolved', { detector: 'latency' }));
    await h.run(2 * MIN, 5 * SEC);
    expect(slack.messages.size).toBe(1);
    expect(slack.calls.filter((c) => c.method === 'chat.update').map((c) => c.fields.ts)).toEqual([ts]);
    expect(slack.messages.get(ts)!.text).toMatch(/resolved/i);
    expect(slack.messages.get(ts)!.replies).toHaveLength(1);
    const hist = (await h.manager.incident((await h.manager.listIncidents())[0].id))!.notifications;
    expect(hist.map((n) => `${n.action}:${n.status}:${n.ref}`)).toEqual([`trigger:sent:C0VIGIL01:${ts}`, `resolve:sent:C0VIGIL01:${ts}`]);
    expect(hist[0].attempts.map((a) => a.ok)).toEqual([false, false, true]);
  });
});
