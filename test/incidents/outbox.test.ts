// The durable outbox: outages, order, Retry-After, expiry, restarts.
import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/incidents/outbox.ts';
import { BASE_ALERTS, MIN, SEC, T0, harness, signal } from './helpers.ts';

const FAST = BASE_ALERTS.replace('group_wait: 30s', 'group_wait: 0s').replace('group_interval: 5m', 'group_interval: 1m');

describe('retryDelay', () => {
  it('grows exponentially with jitter, caps, and never undercuts Retry-After', () => {
    expect(retryDelay(1, undefined, () => 0)).toBe(5_000);
    expect(retryDelay(1, undefined, () => 0.999999)).toBe(10_000);
    expect(retryDelay(3, undefined, () => 1)).toBe(40_000);
    expect(retryDelay(20, undefined, () => 1)).toBe(300_000);
    expect(retryDelay(1, 120_000, () => 0)).toBe(120_000);
  });
});

describe('receiver outage', () => {
  it('Slack down for 30 simulated minutes: nothing lost, delivered in order afterwards; PagerDuty unaffected', async () => {
    const h = harness(FAST);
    h.slack.down = true;
    await h.manager.ingest(signal('openai-canary', 'firing'));
    await h.run(5 * MIN);
    await h.manager.ingest(signal('gemini-canary', 'firing', { labels: { provider: 'gemini' } }));
    await h.run(5 * MIN);
    await h.manager.ingest(signal('openai-canary', 'resolved'));
    await h.run(20 * MIN);
    expect(h.slack.delivered).toHaveLength(0);
    expect(h.slack.attempts.length).toBeGreaterThan(6); // retried with backoff, not hammered
    expect(h.slack.attempts.length).toBeLessThan(40);
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'trigger:new', 'resolve:resolved']);
    expect(await h.manager.outbox.pendingCount()).toBe(3);

    h.slack.down = false;
    await h.run(6 * MIN); // backoff is capped at 5 minutes
    expect(await h.manager.outbox.pendingCount()).toBe(0);
    const openai = h.slack.delivered.filter((d) => d.n.incident.key === 'openai-canary');
    expect(openai.map((d) => d.n.action)).toEqual(['trigger', 'resolve']);
    expect(openai[1].at).toBeGreaterThanOrEqual(openai[0].at);
    expect(openai[1].n.priorRef).toBe(openai[0].ref); // the resolve updates the message the trigger posted
    expect(h.slack.delivered.filter((d) => d.n.incident.key === 'gemini-canary').map((d) => d.n.action)).toEqual(['trigger']);

    // Every attempt is on the incident's notification history.
    const id = openai[0].n.incidentId;
    const hist = (await h.manager.incident(id))!.notifications.filter((n) => n.receiver === 'slack');
    expect(hist.map((n) => `${n.action}:${n.status}`)).toEqual(['trigger:sent', 'resolve:sent']);
    expect(hist[0].attempts.length).toBeGreaterThan(5);
    expect(hist[0].attempts.slice(0, -1).every((a) => !a.ok && a.retryable && a.error === 'HTTP 503')).toBe(true);
    expect(hist[0].attempts.at(-1)!.ok).toBe(true);
  });

  it('a resolve never overtakes its trigger, even when the trigger is in backoff and the resolve is due', async () => {
    const h = harness(FAST);
    h.pagerduty.down = true;
    await h.manager.ingest(signal('x', 'firing'));
    await h.run(2 * MIN, 5 * SEC);
    await h.manager.ingest(signal('x', 'resolved'));
    await h.run(2 * MIN, 5 * SEC);
    h.pagerduty.down = false;
    // Attempts while down were all the trigger; none was the resolve.
    expect(h.pagerduty.attempts.every((a) => a.n.action === 'trigger')).toBe(true);
    await h.run(10 * MIN, 5 * SEC);
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'resolve:resolved']);
  });

  it('honours Retry-After (429)', async () => {
    const h = harness(FAST);
    h.slack.down = true;
    h.slack.retryAfterMs = 90 * SEC;
    await h.manager.ingest(signal('x', 'firing'));
    await h.run(5 * SEC, 5 * SEC);
    expect(h.slack.attempts).toHaveLength(1);
    h.slack.down = false;
    await h.run(80 * SEC, 5 * SEC);
    expect(h.slack.delivered).toHaveLength(0);
    await h.run(15 * SEC, 5 * SEC);
    expect(h.slack.delivered).toHaveLength(1);
    expect(h.slack.delivered[0].at - h.slack.attempts[0].at).toBeGreaterThanOrEqual(90 * SEC);
  });

  it('a permanent failure does not block the line; it is recorded as failed', async () => {
    const h = harness(FAST);
    h.pagerduty.permanent = true;
    await h.manager.ingest(signal('x', 'firing'));
    await h.run(MIN);
    h.pagerduty.permanent = false;
    await h.manager.ingest(signal('x', 'resolved'));
    await h.run(3 * MIN);
    expect(h.pagerduty.attempts.map((a) => a.n.action)).toEqual(['trigger', 'resolve']);
    const hist = (await h.manager.incident(h.pagerduty.attempts[0].n.incidentId))!.notifications.filter((n) => n.receiver === 'pagerduty');
    expect(hist.map((n) => `${n.action}:${n.status}`)).toEqual(['trigger:failed', 'resolve:sent']);
  });

  it('expiry: a trigger not delivered within expire_after expires; its resolve still goes out afterwards', async () => {
    const h = harness(`${FAST.replace('repeat_interval: 4h', 'repeat_interval: 4h\n  expire_after: 20m')}`);
    h.slack.down = true;
    await h.manager.ingest(signal('x', 'firing'));
    await h.run(10 * MIN, MIN);
    await h.manager.ingest(signal('x', 'resolved'));
    await h.run(12 * MIN, MIN);
    h.slack.down = false;
    await h.run(6 * MIN, MIN);
    const rows = (await h.manager.outbox.rows()).filter((r) => r.receiver === 'slack');
    expect(rows.map((r) => `${r.action}:${r.status}`)).toEqual(['trigger:expired', 'resolve:sent']);
  });
});

describe('restart', () => {
  it('with an open incident: no duplicate trigger; the later resolve is delivered with the same keys', async () => {
    let h = harness(FAST);
    await h.manager.ingest(signal('openai-canary', 'firing'));
    await h.run(2 * MIN);
    expect(h.pagerduty.actions()).toEqual(['trigger:new']);
    expect(h.slack.actions()).toEqual(['trigger:new']);
    const trigger = h.pagerduty.delivered[0].n;
    const slackRef = h.slack.delivered[0].ref;

    h = h.restart();
    // The detector keeps saying it is failing (its memory starts empty after a restart).
    await h.manager.ingest(signal('openai-canary', 'firing'));
    await h.run(10 * MIN);
    expect(h.pagerduty.actions()).toEqual(['trigger:new']);
    expect(h.slack.actions()).toEqual(['trigger:new']);
    expect(await h.manager.listIncidents()).toHaveLength(1);

    h = h.restart();
    await h.manager.ingest(signal('openai-canary', 'resolved'));
    await h.run(2 * MIN);
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'resolve:resolved']);
    expect(h.pagerduty.delivered[1].n.dedupKey).toBe(trigger.dedupKey);
    expect(h.slack.delivered[1].n.priorRef).toBe(slackRef);
    expect((await h.manager.listIncidents())[0].state).toBe('resolved');
  });

  it('a restart during an outage keeps the queue; rows a dead process left "sending" are retried', async () => {
    let h = harness(FAST);
    h.slack.down = true;
    await h.manager.ingest(signal('x', 'firing'));
    await h.run(MIN);
    // Simulate a crash in the middle of a delivery: the row was claimed and never finished.
    h.store.db.prepare(`UPDATE outbox SET status = 'sending' WHERE receiver = 'slack'`).run();
    h = h.restart();
    // The new engine's first tick (or an explicit recover) queues the row again.
    expect(await h.manager.recover()).toBe(1);
    expect((await h.manager.outbox.rows()).filter((r) => r.status === 'sending')).toHaveLength(0);
    h.slack.down = false;
    await h.run(6 * MIN);
    expect(h.slack.actions()).toEqual(['trigger:new']);
    expect(h.pagerduty.actions()).toEqual(['trigger:new']);
  });

  it('a pending incident survives a restart and fires on time', async () => {
    let h = harness(FAST);
    await h.manager.ingest(signal('x', 'firing'), { forMs: 3 * MIN });
    await h.run(MIN);
    h = h.restart();
    await h.run(MIN);
    expect((await h.manager.listIncidents())[0].state).toBe('pending');
    await h.run(2 * MIN);
    expect((await h.manager.listIncidents())[0].state).toBe('firing');
    expect(h.slack.actions()).toEqual(['trigger:new']);
  });
});

describe('prune', () => {
  it('deletes what ended before the cutoff, never open incidents or undelivered rows', async () => {
    const h = harness(FAST);
    await h.manager.ingest(signal('old', 'firing'));
    await h.run(2 * MIN);
    await h.manager.ingest(signal('old', 'resolved'));
    await h.run(3 * MIN);
    h.slack.down = true;
    await h.manager.ingest(signal('open', 'firing'));
    await h.run(2 * MIN);
    const count = (t: string) => (h.store.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    expect(count('incidents')).toBe(2);
    expect(await h.manager.prune(h.clock.now())).toBe(1);
    expect((await h.manager.listIncidents()).map((i) => i.key)).toEqual(['open']);
    expect((await h.manager.outbox.rows()).map((r) => `${r.receiver}:${r.status}`)).toEqual(['pagerduty:sent', 'slack:queued']);
    expect(count('incident_events')).toBe((await h.manager.incident((await h.manager.listIncidents())[0].id))!.events.length);
    h.slack.down = false;
    await h.run(6 * MIN);
    expect(h.slack.actions()).toEqual(['trigger:new', 'resolve:resolved', 'trigger:new']);
  });
});
