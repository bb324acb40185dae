// The incidents engine end to end on a ManualClock: signals in, notifications out through fake notifiers.
import { describe, expect, it } from 'vitest';
import { ownerReceivers } from '../../src/incidents/config.ts';
import { BASE_ALERTS, MIN, SEC, T0, harness, signal } from './helpers.ts';

const FAST = BASE_ALERTS.replace('group_wait: 30s', 'group_wait: 0s');

describe('pending → firing → resolved', () => {
  it('keeps a new incident pending for `for`, then fires and notifies after group_wait', async () => {
    const h = harness();
    // A drift signal: group_wait holds its first notification (only confirmed availability failures skip it).
    const inc = (await h.manager.ingest(signal('openai-canary', 'firing', { detector: 'latency' }), { forMs: 2 * MIN }))!;
    expect(inc.state).toBe('pending');
    await h.run(1 * MIN);
    expect((await h.manager.listIncidents())[0].state).toBe('pending');
    expect(h.slack.delivered).toHaveLength(0);
    await h.run(1 * MIN);
    expect((await h.manager.listIncidents())[0].state).toBe('firing');
    expect(h.slack.delivered).toHaveLength(0); // group_wait 30s still running
    await h.run(30 * SEC);
    expect(h.slack.actions()).toEqual(['trigger:new']);
    expect(h.pagerduty.actions()).toEqual(['trigger:new']);
    const sentAt = h.slack.delivered[0].at - T0;
    expect(sentAt).toBeGreaterThanOrEqual(2.5 * MIN);
    expect(sentAt).toBeLessThanOrEqual(2.5 * MIN + 5 * SEC);
  });

  it('an incident that recovers while pending is cancelled and nobody hears of it', async () => {
    const h = harness();
    await h.manager.ingest(signal('openai-canary', 'firing'), { forMs: 5 * MIN });
    await h.run(2 * MIN);
    await h.manager.ingest(signal('openai-canary', 'resolved'));
    await h.run(10 * MIN);
    const [inc] = await h.manager.listIncidents();
    expect(inc.state).toBe('resolved');
    expect(h.slack.attempts).toHaveLength(0);
    expect(h.pagerduty.attempts).toHaveLength(0);
    expect((await h.manager.incident(inc.id))!.events.map((e) => e.kind)).toEqual(['pending', 'cancelled']);
  });

  it('the same key while open updates one incident (stable dedup key); a resolve for nothing is ignored', async () => {
    const h = harness(FAST);
    expect(await h.manager.ingest(signal('x', 'resolved'))).toBeNull();
    const a = (await h.manager.ingest(signal('x', 'firing')))!;
    await h.run(MIN);
    const b = (await h.manager.ingest(signal('x', 'firing', { summary: 'x failing: 3 confirmed failures' })))!;
    expect(b.id).toBe(a.id);
    expect(b.dedupKey).toBe('availability:x');
    expect(await h.manager.listIncidents()).toHaveLength(1);
    expect((await h.manager.listIncidents())[0].summary).toBe('x failing: 3 confirmed failures');
    expect(h.slack.actions()).toEqual(['trigger:new']);
  });
});

describe('page on confirmation', () => {
  it('a confirmed critical availability failure pages at once; siblings follow as one update when group_wait ends', async () => {
    const h = harness();
    await h.manager.ingest(signal('openai-a', 'firing'));
    await h.run(1 * SEC, 1 * SEC);
    expect(h.pagerduty.actions()).toEqual(['trigger:new']);
    expect(h.slack.actions()).toEqual(['trigger:new']);
    expect(h.pagerduty.delivered[0].at - T0).toBeLessThanOrEqual(1 * SEC);
    for (const k of ['openai-b', 'openai-c']) {
      await h.manager.ingest(signal(k, 'firing'));
      await h.run(3 * SEC, 1 * SEC);
    }
    await h.run(20 * SEC, 1 * SEC);
    expect(h.slack.actions()).toEqual(['trigger:new']); // the siblings settle for group_wait
    await h.run(20 * SEC, 1 * SEC);
    expect(h.slack.actions()).toEqual(['trigger:new', 'update:changed']);
    const update = h.slack.delivered[1];
    expect(update.n.alerts!.map((a) => a.key)).toEqual(['openai-a', 'openai-b', 'openai-c']);
    // At the end of the group_wait the group would have had, after the last sibling settled.
    expect(update.at - T0).toBeGreaterThanOrEqual(30 * SEC);
    expect(update.at - T0).toBeLessThanOrEqual(37 * SEC + 5 * SEC);
    expect(h.pagerduty.actions()).toEqual(['trigger:new']); // PagerDuty keeps its one incident
  });

  it('wakes the running engine: the page goes out without waiting for the next tick', async () => {
    const h = harness();
    h.manager.start(60_000);
    try {
      await h.clock.advance(1);
      await h.manager.ingest(signal('openai-a', 'firing'));
      for (let i = 0; i < 50 && h.pagerduty.delivered.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
      expect(h.pagerduty.actions()).toEqual(['trigger:new']);
      expect(h.pagerduty.delivered[0].at).toBe(T0 + 1);
    } finally {
      await h.manager.stop();
    }
  });

  it('warnings, other detectors and flapping incidents still wait for group_wait', async () => {
    const h = harness();
    await h.manager.ingest(signal('w', 'firing', { severity: 'warning' }));
    await h.manager.ingest(signal('lat', 'firing', { detector: 'latency', labels: { provider: 'gemini' } }));
    await h.run(25 * SEC, 5 * SEC);
    expect(h.slack.delivered).toHaveLength(0);
    await h.run(10 * SEC, 5 * SEC);
    expect(h.slack.delivered.map((d) => d.n.incident.key).sort()).toEqual(['lat', 'w']);
    // Flap damping: a key that flips often is flapping when it fires again, and waits.
    const f = harness(BASE_ALERTS.replace('defaults:', 'defaults:\n  flap: { flips: 3, window: 30m }'));
    await f.manager.ingest(signal('f', 'firing'));
    await f.run(1 * MIN, 5 * SEC);
    await f.manager.ingest(signal('f', 'resolved'));
    await f.run(1 * MIN, 5 * SEC);
    await f.manager.ingest(signal('f', 'firing'));
    const inc = (await f.manager.listIncidents({ state: 'open' }))[0];
    expect(inc.flapping).toBe(true);
    const before = f.pagerduty.delivered.length;
    await f.run(5 * SEC, 5 * SEC);
    expect(f.pagerduty.delivered.length).toBe(before);
  });
});

describe('grouping', () => {
  it('five probes of one provider failing together: one notification per receiver listing all five', async () => {
    const h = harness();
    const keys = ['openai-a', 'openai-b', 'openai-c', 'openai-d', 'openai-e'];
    // A drift detector: the first notification waits for group_wait (a critical availability failure would page at once).
    const lat = { detector: 'latency' };
    for (const k of keys) {
      await h.manager.ingest(signal(k, 'firing', lat));
      await h.run(3 * SEC, 3 * SEC);
    }
    // Another provider is its own group.
    await h.manager.ingest(signal('gemini-a', 'firing', { ...lat, labels: { provider: 'gemini' } }));
    await h.run(1 * MIN);
    const openai = h.slack.delivered.filter((d) => d.n.incident.labels.provider === 'openai');
    expect(openai).toHaveLength(1);
    expect(openai[0].n.alerts!.map((a) => a.key)).toEqual(keys);
    expect(openai[0].n.incident.summary).toMatch(/^5 alerts firing for detector=latency, provider=openai: openai-a, openai-b/);
    expect(openai[0].n.incident.evidence.alerts_firing).toBe(5);
    expect(h.pagerduty.delivered.filter((d) => d.n.incident.labels.provider === 'openai')).toHaveLength(1);
    expect(h.slack.delivered).toHaveLength(2);
    expect(h.slack.delivered.find((d) => d.n.incident.labels.provider === 'gemini')!.n.alerts).toBeUndefined();

    // Recoveries batch at group_interval; the group resolves once all five are back.
    for (const k of keys.slice(0, 4)) await h.manager.ingest(signal(k, 'resolved', lat));
    await h.run(6 * MIN);
    const updates = h.slack.delivered.filter((d) => d.n.action === 'update');
    expect(updates).toHaveLength(1);
    expect(updates[0].n.incident.summary).toMatch(/^1 alert firing for detector=latency, provider=openai: openai-e; resolved: openai-a, openai-b, openai-c, openai-d \(/);
    expect(openai[0].n.priorRef).toBeNull();
    expect(updates[0].n.priorRef).toBe(openai[0].ref); // chat.update of the same message
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'trigger:new']); // PagerDuty hears no updates
    await h.manager.ingest(signal('openai-e', 'resolved', lat));
    await h.run(6 * MIN);
    const openaiPd = h.pagerduty.delivered.filter((d) => d.n.dedupKey === openai[0].n.dedupKey);
    expect(openaiPd.map((d) => d.n.action)).toEqual(['trigger', 'resolve']);
    const resolve = h.slack.delivered.find((d) => d.n.action === 'resolve')!;
    expect(resolve.n.incident.summary).toMatch(/^resolved: all 5 alerts/);
    expect(resolve.n.priorRef).toBe(openai[0].ref);
  });

  it('a group that resolves before group_wait sends nothing', async () => {
    const h = harness();
    await h.manager.ingest(signal('blip', 'firing', { detector: 'latency' }));
    await h.run(10 * SEC);
    await h.manager.ingest(signal('blip', 'resolved', { detector: 'latency' }));
    await h.run(10 * MIN);
    expect(h.slack.attempts).toHaveLength(0);
    expect(h.pagerduty.attempts).toHaveLength(0);
  });
});

describe('repeat interval', () => {
  it('reminds chat receivers while still firing; PagerDuty never repeats', async () => {
    const h = harness(FAST.replace('repeat_interval: 4h', 'repeat_interval: 1h'));
    await h.manager.ingest(signal('x', 'firing'));
    await h.run(2.5 * 60 * MIN, MIN);
    expect(h.slack.actions()).toEqual(['trigger:new', 'update:repeat', 'update:repeat']);
    const times = h.slack.delivered.map((d) => Math.round((d.at - T0) / MIN));
    expect(times).toEqual([1, 60, 120]); // queued on the hour, delivered by the next tick
    expect(h.pagerduty.actions()).toEqual(['trigger:new']);
  });
});

describe('silences', () => {
  it('silenced: no notification; once the silence ends while still firing it is sent, and its resolve too', async () => {
    const h = harness(FAST);
    await h.manager.createSilence({ matchers: { provider: 'openai' }, startsAt: T0, endsAt: T0 + 60 * MIN, comment: 'planned upgrade', createdBy: 'ana' });
    await h.manager.ingest(signal('openai-canary', 'firing'));
    await h.manager.ingest(signal('gemini-canary', 'firing', { labels: { provider: 'gemini' } }));
    await h.run(59 * MIN, MIN);
    expect(h.slack.delivered.map((d) => d.n.incident.key)).toEqual(['gemini-canary']);
    await h.run(2 * MIN, MIN);
    expect(h.slack.delivered.map((d) => d.n.incident.key)).toEqual(['gemini-canary', 'openai-canary']);
    await h.manager.ingest(signal('openai-canary', 'resolved'));
    await h.run(6 * MIN, MIN);
    expect(h.slack.delivered.filter((d) => d.n.incident.key === 'openai-canary').map((d) => d.n.action)).toEqual(['trigger', 'resolve']);
  });

  it('the resolve contract: triggered, then silenced, then recovered → the resolve still goes out', async () => {
    const h = harness(FAST);
    await h.manager.ingest(signal('openai-canary', 'firing'));
    await h.run(MIN);
    expect(h.pagerduty.actions()).toEqual(['trigger:new']);
    const s = await h.manager.createSilence({ matchers: { probe: 'openai-canary' }, startsAt: h.clock.now(), endsAt: h.clock.now() + 24 * 60 * MIN, comment: 'known', createdBy: 'bo' });
    await h.manager.ingest(signal('openai-canary', 'firing', { summary: 'still failing' }));
    await h.run(10 * MIN, MIN); // silenced while firing: no update, no reminder
    expect(h.slack.actions()).toEqual(['trigger:new']);
    await h.manager.ingest(signal('openai-canary', 'resolved'));
    await h.run(6 * MIN, MIN);
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'resolve:resolved']);
    expect(h.slack.actions()).toEqual(['trigger:new', 'resolve:resolved']);
    expect(await h.manager.deleteSilence(s.id)).toBe(true);
    expect(await h.manager.deleteSilence(s.id)).toBe(false);
  });

  it('a silence never starts reminders; a silenced new member does not change the message', async () => {
    const h = harness(FAST.replace('repeat_interval: 4h', 'repeat_interval: 30m'));
    await h.manager.createSilence({ matchers: { probe: 'openai-b' }, startsAt: T0, endsAt: T0 + 600 * MIN, comment: 'flaky', createdBy: 'cy' });
    await h.manager.ingest(signal('openai-b', 'firing'));
    await h.run(2 * 60 * MIN, MIN);
    expect(h.slack.attempts).toHaveLength(0);
  });
});

describe('maintenance windows', () => {
  const YAML = `${FAST}
maintenance:
  - name: gemini-weekly
    matchers: { provider: gemini }
    cron: "0 10 * * 1"        # Mondays 10:00 Berlin = 09:00 UTC in January
    timezone: Europe/Berlin
    duration: 1h
    mode: mute
  - name: anthropic-upgrade
    matchers: { provider: anthropic }
    starts_at: "2026-01-05T08:30:00Z"
    ends_at: "2026-01-05T09:30:00Z"
    mode: pause
`;

  it('mute: probes run, incidents open, nobody hears until the window ends', async () => {
    const h = harness(YAML); // T0 is Monday 2026-01-05 09:00 UTC
    expect(h.manager.isPaused({ provider: 'gemini' })).toBe(false);
    await h.manager.ingest(signal('gemini-canary', 'firing', { labels: { provider: 'gemini' } }));
    await h.run(59 * MIN, MIN);
    expect((await h.manager.listIncidents())[0].state).toBe('firing');
    expect(h.slack.attempts).toHaveLength(0);
    await h.run(2 * MIN, MIN);
    expect(h.slack.actions()).toEqual(['trigger:new']);
    expect(h.slack.delivered[0].at).toBe(T0 + 60 * MIN);
  });

  it('pause: isPaused tells the scheduler to skip matching probes, only inside the window', async () => {
    const h = harness(YAML);
    expect(h.manager.isPaused({ provider: 'anthropic', probe: 'claude-canary' })).toBe(true);
    expect(h.manager.isPaused({ provider: 'openai' })).toBe(false);
    expect(h.manager.isPaused({ provider: 'anthropic' }, T0 + 31 * MIN)).toBe(false);
    expect(h.manager.isPaused({ provider: 'anthropic' }, T0 - 31 * MIN)).toBe(false);
    // A recurring window a week later.
    expect(h.manager.isPaused({ provider: 'gemini' }, T0 + 7 * 24 * 60 * MIN + 5 * MIN)).toBe(false); // mute, not pause
    const t = await h.manager.routesTest({ provider: 'gemini', owner: 'search-team', severity: 'critical' });
    expect(t.muted).toMatch(/maintenance gemini-weekly \(mute\)/);
  });
});

describe('escalation', () => {
  const YAML = `
owners:
  search-team:
    slack: "#search-oncall"
    pagerduty: "\${PD_SEARCH_ROUTING_KEY}"
    escalation: { page_after: 15m }
receivers:
  slack: { token: "\${SLACK_BOT_TOKEN}" }
routes:
  - notify: [slack, pagerduty]
defaults: { group_wait: 30s }
`;

  it('warning: Slack at once, PagerDuty only if still firing after page_after', async () => {
    const h = harness(YAML);
    await h.manager.ingest(signal('x', 'firing', { severity: 'warning' }));
    await h.run(MIN);
    expect(h.slack.actions()).toEqual(['trigger:new']);
    expect(h.pagerduty.delivered).toHaveLength(0);
    await h.run(13 * MIN);
    expect(h.pagerduty.delivered).toHaveLength(0);
    await h.run(2 * MIN);
    expect(h.pagerduty.actions()).toEqual(['trigger:escalated']);
    const pagedAfter = h.pagerduty.delivered[0].at - T0;
    expect(pagedAfter).toBeGreaterThanOrEqual(15 * MIN);
    expect(pagedAfter).toBeLessThanOrEqual(15 * MIN + 10 * SEC);
  });

  it('critical pages at once (after group_wait)', async () => {
    const h = harness(YAML);
    await h.manager.ingest(signal('x', 'firing', { severity: 'critical' }));
    await h.run(MIN);
    expect(h.pagerduty.actions()).toEqual(['trigger:new']);
    expect(h.pagerduty.delivered[0].at - T0).toBeLessThanOrEqual(35 * SEC);
  });

  it('a warning that recovers before page_after never reaches PagerDuty, not even a resolve', async () => {
    const h = harness(YAML);
    await h.manager.ingest(signal('x', 'firing', { severity: 'warning' }));
    await h.run(5 * MIN);
    await h.manager.ingest(signal('x', 'resolved'));
    await h.run(30 * MIN);
    expect(h.slack.actions()).toEqual(['trigger:new', 'resolve:resolved']);
    expect(h.pagerduty.attempts).toHaveLength(0);
  });
});

describe('flapping', () => {
  it('N flips in M minutes: stays firing, marked flapping, resolves after M quiet; no notification storm', async () => {
    const h = harness(FAST);
    // fire, resolve, fire, resolve (4th flip → held), fire, resolve... every 2 minutes.
    for (let i = 0; i < 8; i++) {
      await h.manager.ingest(signal('flappy', i % 2 === 0 ? 'firing' : 'resolved'));
      await h.run(2 * MIN, MIN);
    }
    const open = await h.manager.listIncidents({ state: 'open' });
    expect(open).toHaveLength(1);
    expect(open[0].state).toBe('firing');
    expect(open[0].flapping).toBe(true);
    const triggersSoFar = h.pagerduty.delivered.length;
    expect(triggersSoFar).toBeLessThanOrEqual(3); // first incident's trigger+resolve, second's trigger
    // Quiet (last signal said resolved, at 14m) for the window: it resolves at 44m.
    await h.run(27 * MIN, MIN);
    expect(await h.manager.listIncidents({ state: 'open' })).toHaveLength(1);
    await h.run(10 * MIN, MIN);
    expect(await h.manager.listIncidents({ state: 'open' })).toHaveLength(0);
    const last = h.pagerduty.delivered[h.pagerduty.delivered.length - 1];
    expect(last.n.action).toBe('resolve');
    // Slack was told it is flapping (an update), once.
    expect(h.slack.delivered.filter((d) => d.n.action === 'update' && d.n.incident.flapping)).toHaveLength(1);
    const events = (await h.manager.incident(open[0].id))!.events.map((e) => e.kind);
    expect(events).toContain('flapping');
    expect(events[events.length - 1]).toBe('resolved');
  });

  it('a flapping incident that keeps failing settles as firing, no longer flapping', async () => {
    const h = harness(FAST);
    for (let i = 0; i < 5; i++) {
      await h.manager.ingest(signal('f', i % 2 === 0 ? 'firing' : 'resolved'));
      await h.run(MIN, MIN);
    }
    expect((await h.manager.listIncidents({ state: 'open' }))[0].flapping).toBe(true);
    await h.run(31 * MIN, MIN);
    const [inc] = await h.manager.listIncidents({ state: 'open' });
    expect(inc.state).toBe('firing');
    expect(inc.flapping).toBe(false);
  });
});

describe('inhibition', () => {
  it('while the control probe fails, other alerts create no notifications; their resolves are not suppressed', async () => {
    const h = harness(`${FAST}
inhibit_rules:
  - source: { detector: availability, key: control }
    target: { detector: availability }
`);
    await h.manager.ingest(signal('openai-canary', 'firing'));
    await h.run(MIN); // before the control fails: notified
    await h.manager.ingest(signal('control', 'firing', { labels: { provider: 'egress' } }));
    await h.manager.ingest(signal('gemini-canary', 'firing', { labels: { provider: 'gemini' } }));
    await h.run(MIN);
    expect(h.slack.delivered.map((d) => d.n.incident.key).sort()).toEqual(['control', 'openai-canary']);
    await h.manager.ingest(signal('openai-canary', 'resolved'));
    await h.run(6 * MIN, MIN);
    expect(h.slack.delivered.filter((d) => d.n.incident.key === 'openai-canary').map((d) => d.n.action)).toEqual(['trigger', 'resolve']);
    await h.manager.ingest(signal('control', 'resolved'));
    await h.run(6 * MIN, MIN);
    expect(h.slack.delivered.some((d) => d.n.incident.key === 'gemini-canary')).toBe(true);
  });
});

describe('owners and receivers', () => {
  it('receivers are built per owner from the live config; an owner without Slack falls back to the console', async () => {
    const h = harness(FAST);
    await h.manager.ingest(signal('x', 'firing', { severity: 'warning', labels: { owner: 'nobody' } }));
    await h.run(MIN);
    expect(h.slack.attempts).toHaveLength(0);
    expect(h.console.actions()).toEqual(['trigger:new']);
    await h.manager.ingest(signal('y', 'firing'));
    await h.run(MIN);
    const d = h.slack.delivered[0];
    expect(d.receiver).toMatchObject({ kind: 'slack', slackChannel: '#search-oncall', slackToken: 'xoxb-test-token-0123456789', slackApiUrl: 'http://127.0.0.1:1/api/' });
    expect(h.pagerduty.delivered[0].receiver).toMatchObject({ routingKey: 'pd-search-routing-key-0123456789', pagerdutyServer: '127.0.0.1' });
    expect(d.n.links).toEqual([
      { href: `http://vigil.test:9464/api/incidents/${d.n.incidentId}`, text: 'Incident in Vigil' },
      { href: 'https://wiki.example.com/runbooks/llm', text: 'Runbook' },
    ]);
    // Nothing secret in the database.
    const dump = JSON.stringify(h.store.db.prepare('SELECT * FROM outbox').all()) + JSON.stringify(h.store.db.prepare('SELECT * FROM notify_groups').all());
    expect(dump).not.toContain('xoxb-test-token');
    expect(dump).not.toContain('pd-search-routing-key');
  });

  it('ownerReceivers lists what `vigil alerts test <owner>` can reach, and why not the rest', () => {
    const h = harness(FAST);
    const mine = ownerReceivers(h.cfg.current, 'search-team');
    expect(mine.receivers.map((r) => r.name)).toEqual(['search-team/slack', 'search-team/pagerduty']);
    expect(mine.problems).toEqual([]);
    expect(ownerReceivers(h.cfg.current, 'ghost')).toEqual({
      receivers: [],
      problems: ['slack: owner "ghost" has no slack channel in alerts/', 'pagerduty: owner "ghost" has no pagerduty routing key in alerts/'],
    });
  });
});
