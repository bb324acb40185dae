// Groups resolve per alert: each alert resolves on its own evidence, a group's update names exactly what is
// firing and what resolved, and PagerDuty's incident closes once none of the group's firing alerts pages.
import { describe, expect, it } from 'vitest';
import { slackThreadReply } from '../../src/notifiers/slack.ts';
import { MIN, SEC, harness, signal } from './helpers.ts';

// One group for every alert of a provider, both receivers, warnings page only after two hours.
const SHARED = `
owners:
  search-team:
    slack: "#search-oncall"
    pagerduty: "\${PD_SEARCH_ROUTING_KEY}"
    escalation: { page_after: 2h }
receivers:
  slack: { token: "\${SLACK_BOT_TOKEN}" }
routes:
  - match: { provider: openai }
    notify: [pagerduty, slack]
    group_by: [provider]
defaults: { group_wait: 30s, group_interval: 5m }
`;

describe('groups resolve per alert', () => {
  it('a canary recovers while a slow safety probe still fails: PagerDuty resolves; Slack names who is firing and who resolved', async () => {
    const h = harness(SHARED);
    await h.manager.ingest(signal('openai-canary', 'firing'));
    await h.manager.ingest(signal('benign-kill-openai', 'firing', { severity: 'warning', labels: { kind: 'benign' } }));
    await h.run(1 * MIN, 5 * SEC);
    expect(h.pagerduty.actions()).toEqual(['trigger:new']);
    expect(h.slack.actions()).toEqual(['trigger:new', 'update:changed']);

    await h.manager.ingest(signal('openai-canary', 'resolved'));
    await h.run(6 * MIN, 5 * SEC);
    // The page is over: the only alert still firing is a warning that does not page (yet).
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'resolve:resolved']);
    const update = h.slack.delivered.at(-1)!;
    expect(update.n.action).toBe('update');
    expect(update.n.incident.summary).toMatch(/^1 alert firing for provider=openai: benign-kill-openai; resolved: openai-canary \(/);
    expect(slackThreadReply(update.n)).toBe(':warning: Still FIRING warning: firing benign-kill-openai; resolved openai-canary.');
    expect((await h.manager.listIncidents({ state: 'open' })).map((i) => i.key)).toEqual(['benign-kill-openai']);

    // The safety probe resolves on its own evidence an hour later: Slack's message resolves; PagerDuty hears nothing more.
    await h.run(50 * MIN, MIN);
    await h.manager.ingest(signal('benign-kill-openai', 'resolved', { labels: { kind: 'benign' } }));
    await h.run(6 * MIN, 5 * SEC);
    expect(h.slack.actions().at(-1)).toBe('resolve:resolved');
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'resolve:resolved']);
    expect(slackThreadReply(h.slack.delivered.at(-1)!.n)).toMatch(/^:white_check_mark: RESOLVED after .*\. All recovered: benign-kill-openai, openai-canary\.$/);
  });

  it('a warning still firing after page_after pages again under the same key, as a new PagerDuty incident', async () => {
    const h = harness(SHARED.replace('page_after: 2h', 'page_after: 20m'));
    await h.manager.ingest(signal('openai-canary', 'firing'));
    await h.manager.ingest(signal('slow-warning', 'firing', { severity: 'warning' }));
    await h.run(1 * MIN, 5 * SEC);
    await h.manager.ingest(signal('openai-canary', 'resolved'));
    await h.run(10 * MIN, 5 * SEC);
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'resolve:resolved']);
    await h.run(12 * MIN, 5 * SEC);
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'resolve:resolved', 'trigger:escalated']);
    const [first, , again] = h.pagerduty.delivered;
    expect(again.n.dedupKey).toBe(first.n.dedupKey);
    await h.manager.ingest(signal('slow-warning', 'resolved'));
    await h.run(6 * MIN, 5 * SEC);
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'resolve:resolved', 'trigger:escalated', 'resolve:resolved']);
  });

  it('an alert that resolved and fired again is one firing alert, never named resolved beside itself', async () => {
    const h = harness(SHARED);
    await h.manager.ingest(signal('openai-a', 'firing'));
    await h.manager.ingest(signal('openai-b', 'firing'));
    await h.run(1 * MIN, 5 * SEC);
    await h.manager.ingest(signal('openai-a', 'resolved'));
    await h.run(2 * MIN, 5 * SEC);
    await h.manager.ingest(signal('openai-a', 'firing')); // a new incident of the same key joins the same open group
    await h.run(6 * MIN, 5 * SEC);
    const last = h.slack.delivered.at(-1)!;
    expect(last.n.incident.summary).toMatch(/^2 alerts firing for provider=openai: openai-b, openai-a \(/);
    expect(last.n.incident.summary).not.toMatch(/resolved/);
    expect(last.n.alerts!.map((a) => `${a.key}:${a.state}`)).toEqual(['openai-b:firing', 'openai-a:firing']);
    expect((await h.manager.listIncidents()).filter((i) => i.key === 'openai-a').map((i) => i.state)).toEqual(['firing', 'resolved']);
  });

  it('a silenced alert still firing is named as silenced, not as resolved', async () => {
    const h = harness(SHARED);
    await h.manager.ingest(signal('openai-a', 'firing'));
    await h.manager.ingest(signal('openai-b', 'firing'));
    await h.manager.ingest(signal('openai-c', 'firing'));
    await h.run(1 * MIN, 5 * SEC);
    await h.manager.createSilence({ matchers: { probe: 'openai-b' }, startsAt: h.clock.now(), endsAt: h.clock.now() + 60 * MIN, comment: 'known', createdBy: 'ana' });
    await h.manager.ingest(signal('openai-c', 'resolved'));
    await h.run(6 * MIN, 5 * SEC);
    expect(h.slack.delivered.at(-1)!.n.incident.summary).toMatch(/^1 alert firing for provider=openai: openai-a; resolved: openai-c; silenced: openai-b \(/);
  });
});
