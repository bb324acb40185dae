// The incidents engine and its outbox on both store engines, and fenced by the leader lease: a deposed leader
// claims nothing, a new leader re-queues only what an older token left in flight, a follower starting touches
// nothing, and each notification reaches the receiver once.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { Leader } from '../../src/cluster/leader.ts';
import { IncidentManager } from '../../src/incidents/manager.ts';
import { Store } from '../../src/store/store.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';
import { alertsFromYaml, BASE_ALERTS, FakeNotifier, MIN, signal, T0 } from './helpers.ts';

const FAST = BASE_ALERTS.replace('group_wait: 30s', 'group_wait: 0s');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(BACKENDS)('incidents on the store (%s)', (backend) => {
  /** `n` instances on one store, each with its own connection (Postgres), lease and engine; one clock, one set of receivers. */
  const setup = async (n: number) => {
    const target = await freshStoreTarget(backend);
    const clock = new ManualClock(T0);
    const cfg = alertsFromYaml(FAST);
    const slack = new FakeNotifier('slack', clock);
    const pagerduty = new FakeNotifier('pagerduty', clock);
    const consoleN = new FakeNotifier('console', clock);
    const shared = backend === 'sqlite' ? await Store.connect(target, { clock }) : null;
    const nodes: { store: Store; leader: Leader; manager: IncidentManager }[] = [];
    for (let i = 0; i < n; i++) {
      const store = shared ?? (await Store.connect(target, { clock }));
      const leader = new Leader({ sql: store.sql, instance: `i${i}`, location: `loc${i}`, ttlMs: 60_000, renewMs: 5_000 });
      const manager = new IncidentManager({ store, clock, config: () => cfg, notifiers: { slack, pagerduty, console: consoleN }, lease: leader, random: () => 0.5 });
      nodes.push({ store, leader, manager });
    }
    cleanups.push(async () => {
      for (const x of nodes) await x.manager.stop();
      await Promise.all([...new Set(nodes.map((x) => x.store))].map((s) => s.close()));
    });
    return { clock, slack, pagerduty, nodes, sql: nodes[0].store.sql };
  };
  /** Depose the holder as the database sees it (its lease expires) while it still believes it leads. */
  const expireLease = (sql: Store['sql']) => sql.run(`UPDATE leader_lease SET expires_at = 0`);

  it.skipIf(skipBackend(backend))('signal → incident → page and Slack once; silences, listing and prune work', async () => {
    const { clock, slack, pagerduty, nodes } = await setup(1);
    const [{ leader, manager }] = nodes;
    expect(await leader.campaign()).toBe(true);
    const inc = await manager.ingest(signal('openai-canary', 'firing'));
    expect(inc?.state).toBe('firing');
    await manager.tick();
    expect(pagerduty.actions()).toEqual(['trigger:new']);
    expect(slack.actions()).toEqual(['trigger:new']);
    const sil = await manager.createSilence({ matchers: { probe: 'other' }, startsAt: T0, endsAt: T0 + 60 * MIN, comment: 'c', createdBy: 't' });
    expect(await manager.liveSilenceCount()).toBe(1);
    expect((await manager.listSilences()).api.map((s) => s.id)).toEqual([sil.id]);
    expect(await manager.deleteSilence(sil.id)).toBe(true);
    expect(await manager.liveSilenceCount()).toBe(0);
    await clock.advance(MIN);
    await manager.ingest(signal('openai-canary', 'resolved'));
    await manager.tick();
    await clock.advance(6 * MIN); // group_interval
    await manager.tick();
    expect(pagerduty.actions().map((x) => x.split(':')[0])).toEqual(['trigger', 'resolve']);
    const detail = (await manager.incident(inc!.id))!;
    expect(detail.notifications.map((x) => `${x.receiver}:${x.action}:${x.status}`).sort()).toEqual(
      ['pagerduty:resolve:sent', 'pagerduty:trigger:sent', 'slack:resolve:sent', 'slack:trigger:sent'],
    );
    expect(detail.events.length).toBeGreaterThan(1);
    await clock.advance(MIN);
    expect(await manager.prune(clock.now())).toBe(1);
    expect(await manager.listIncidents()).toEqual([]);
  });

  it.skipIf(skipBackend(backend))('a deposed leader claims nothing; the new leader sends each notification once', async () => {
    const { slack, pagerduty, nodes, sql } = await setup(2);
    const [a, b] = nodes;
    expect(await a.leader.campaign()).toBe(true);
    slack.down = true; // Slack's row stays queued for a retry; PagerDuty's goes out
    await a.manager.ingest(signal('openai-canary', 'firing'));
    await a.manager.tick();
    expect(pagerduty.delivered).toHaveLength(1);
    slack.down = false;
    await expireLease(sql);
    expect(await b.leader.campaign()).toBe(true);
    expect(a.leader.isLeader).toBe(true); // A has not noticed yet (its own clock says the lease holds)
    // A's round: every claim is fenced in the database, so it sends nothing even though it thinks it leads.
    await a.manager.evaluate();
    const ra = await a.manager.outbox.deliverDue();
    expect(ra.sent).toBe(0);
    expect(slack.attempts.filter((x) => x.n.action === 'trigger')).toHaveLength(1); // only the failed attempt
    // B delivers the retry when it is due; PagerDuty hears nothing twice.
    const rows = await b.manager.outbox.rows();
    await sql.run(`UPDATE outbox SET next_attempt_at = 0 WHERE status = 'queued'`);
    const rb = await b.manager.tick();
    expect(rb.delivery.sent).toBe(1);
    expect(slack.delivered).toHaveLength(1);
    expect(pagerduty.delivered).toHaveLength(1);
    expect(rows.map((r) => r.receiver).sort()).toEqual(['pagerduty', 'slack']);
  });

  it.skipIf(skipBackend(backend))('a new leader re-queues rows an older token left sending; a follower starting touches none', async () => {
    const { pagerduty, nodes, sql } = await setup(3);
    const [a, b, c] = nodes;
    expect(await a.leader.campaign()).toBe(true);
    await a.manager.ingest(signal('openai-canary', 'firing'));
    await a.manager.evaluate();
    // A claims its rows (as a round does) and dies before sending.
    const token = a.leader.token!;
    await sql.run(`UPDATE outbox SET status = 'sending', attempts = attempts + 1, claim_token = ?`, [token]);
    // A follower's engine starting beside the live leader leaves A's rows alone.
    expect(await c.manager.recover()).toBe(0);
    expect((await sql.all(`SELECT status FROM outbox WHERE status = 'sending'`)).length).toBe(2);
    await expireLease(sql);
    expect(await b.leader.campaign()).toBe(true);
    expect(b.leader.token).toBeGreaterThan(token);
    const report = await b.manager.tick(); // first tick: recover, then deliver
    expect(report.delivery.sent).toBe(2);
    expect(pagerduty.delivered).toHaveLength(1);
    expect(pagerduty.delivered[0].n.attempt).toBe(2);
    // A's late outcome write for a row B now owns is refused (its claim no longer stands).
    const row = (await sql.get<{ id: number }>(`SELECT id FROM outbox WHERE receiver = 'pagerduty'`))!;
    await sql.run(`UPDATE outbox SET status = 'sending', claim_token = ? WHERE id = ?`, [b.leader.token!, row.id]);
    const stale = await sql.run(`UPDATE outbox SET status = 'queued' WHERE id = ? AND status = 'sending' AND claim_token IS NOT DISTINCT FROM ?`, [row.id, token]);
    expect(stale.changes).toBe(0);
  });

  it.skipIf(skipBackend(backend))('an instance that does not lead delivers nothing', async () => {
    const { pagerduty, nodes } = await setup(2);
    const [a, b] = nodes;
    expect(await a.leader.campaign()).toBe(true);
    expect(await b.leader.campaign()).toBe(false);
    await a.manager.ingest(signal('openai-canary', 'firing'));
    await a.manager.evaluate();
    expect((await b.manager.outbox.deliverDue()).sent).toBe(0);
    expect(pagerduty.delivered).toHaveLength(0);
    expect((await a.manager.outbox.deliverDue()).sent).toBe(2);
    expect(pagerduty.delivered).toHaveLength(1);
  });
});
