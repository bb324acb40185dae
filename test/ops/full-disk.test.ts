// A full disk: probe results and signals are kept in memory (bounded) and written once the disk has room again,
// an outage that began meanwhile still becomes an incident, and one notification says what was missed.
// The disk fills through node:sqlite itself (fixtures/disk-full.mjs: every write fails with SQLITE_FULL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
// @ts-expect-error a plain-JS fixture shared with child processes (--import)
import { arm, disarm } from './fixtures/disk-full.mjs';
import { Daemon } from '../../src/daemon.ts';
import { Spill } from '../../src/health/spill.ts';
import { createLogger } from '../../src/log.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import type { Notification, Notifier, ReceiverKind } from '../../src/notifiers/types.ts';
import { makeResult } from '../fixtures.ts';
import { writeConfig } from '../daemon/helpers.ts';

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Spill', () => {
  it('keeps the newest results within its bound, counts the dropped, and keeps what a failed write did not take', async () => {
    const s = new Spill(() => 3);
    const at = (i: number) => Date.UTC(2026, 0, 5, 12, 0, i);
    for (let i = 0; i < 5; i++) s.addResult(makeResult({ startedAt: at(i), outcome: 'failed', errorClass: 'server_error', confirmed: true }), at(i));
    expect(s.pending).toBe(3);
    expect(s.droppedTotal).toBe(2);
    s.addSignal({ detector: 'availability', key: 'p1', severity: 'critical', status: 'firing', summary: 'x', evidence: {}, labels: {}, at: at(5) }, at(5));
    expect(await s.flush(() => Promise.reject(new Error('database or disk is full')), () => {}, () => at(6))).toBeNull();
    expect(s.pending).toBe(3);
    const written: number[] = [];
    const ingested: string[] = [];
    const summary = await s.flush(
      async (rs) => void written.push(...rs.map((r) => r.startedAt)),
      (sig) => void ingested.push(sig.key),
      () => at(9),
      2,
    );
    expect(written).toEqual([at(2), at(3), at(4)]);
    expect(ingested).toEqual(['p1']);
    expect(summary).toMatchObject({ from: at(0), to: at(9), written: 3, dropped: 2, signals: 1, failing: { p1: 5 } });
    expect(s.active).toBe(false);
    expect(await s.flush(async () => {}, () => {}, () => at(10))).toBeNull();

    // Signals held (the lease not back yet) with nothing to write: the attempt settles at once, and the next one,
    // no longer held, replays them.
    s.addSignal({ detector: 'availability', key: 'p2', severity: 'critical', status: 'firing', summary: 'y', evidence: {}, labels: {}, at: at(11) }, at(11));
    const replayed: string[] = [];
    expect(await s.flush(async () => {}, (sig) => void replayed.push(sig.key), () => at(12), 500, true)).toBeNull();
    expect(replayed).toEqual([]);
    expect(await s.flush(async () => {}, (sig) => void replayed.push(sig.key), () => at(13), 500, false)).toMatchObject({ signals: 1, written: 0 });
    expect(replayed).toEqual(['p2']);
  });
});

describe('the daemon on a full disk', () => {
  let fleet: SimFleet;
  const logs: string[] = [];
  const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }), json: true });
  let dir = '';
  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: { latency: { ttfbMs: 1, ttftMs: 2, perTokenMs: 1, jitter: 0, diurnal: null } } });
  });
  afterAll(async () => {
    disarm();
    await fleet.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps results and the outage in memory, then writes them, opens the incident and says what was missed', async () => {
    dir = writeConfig({ every: '1s', confirm: 0 });
    const env = {
      OPENAI_BASE_URL: fleet.urls.openai,
      ANTHROPIC_BASE_URL: fleet.urls.anthropic,
      GEMINI_BASE_URL: fleet.urls.gemini,
      GATEWAY_BASE_URL: fleet.urls.gateway,
      OPENAI_API_KEY: 'sk-test-openai-0123456789',
      ANTHROPIC_API_KEY: 'sk-ant-test-0123456789',
      GEMINI_API_KEY: 'gemini-test-0123456789',
      GATEWAY_API_KEY: 'gateway-test-0123456789',
    };
    const delivered: { at: number; n: Notification }[] = [];
    const recorder = (kind: ReceiverKind): Notifier => ({
      kind,
      deliver: async (n) => (delivered.push({ at: Date.now(), n }), { ok: true, retryable: false, ref: `${kind}:${n.dedupKey}` }),
    });
    const notifiers = { console: recorder('console'), slack: recorder('slack'), pagerduty: recorder('pagerduty') };
    const d = await Daemon.start({ configDir: dir, env, log, listen: { port: 0 }, incidentTickMs: 200, spillRetryMs: 300, notifiers });
    try {
      await until('first results stored', async () => (await d.store.countResults({ probe: 'openai-canary' })) >= 1);
      const before = await d.store.countResults({ probe: 'openai-canary' });
      const fullAt = Date.now();
      arm();
      fleet.openai.setOutage(true);

      // The outage is noticed and kept in memory while nothing can be written.
      await until('results and the firing signal in memory', () => d.spill.pending >= 8 && d.spill.pendingSignals >= 1);
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      expect(metrics).toMatch(/^vigil_store_writable 0$/m);
      expect(metrics).toMatch(/^vigil_store_pending_results [1-9]\d*$/m);
      const health = (await (await fetch(`${d.url}/healthz`)).json()) as { checks: { name: string; ok: boolean; detail: string }[] };
      expect(health.checks.find((c) => c.name === 'store')).toMatchObject({ ok: false });
      expect(logs.join('')).toContain('result kept in memory');
      // The outage pages now, from memory, though nothing can be stored: once, to the routed receiver.
      await until('an emergency page', () => delivered.some((x) => x.n.incident.key === 'openai-canary'));
      const emergency = delivered.filter((x) => x.n.incident.key === 'openai-canary');
      expect(emergency).toHaveLength(1);
      expect(emergency[0].n).toMatchObject({ action: 'trigger', incident: { state: 'firing', severity: 'critical' } });
      expect(emergency[0].n.incident.summary).toMatch(/sent from memory: Vigil cannot write its store/);
      expect(d.spill.active).toBe(true);
      // Long enough for the lone instance to lose its lease (its renewals are writes): the replay must wait for it.
      await until('the lease lost', () => !d.leader.isLeader, 20_000);

      // The disk has room again: everything is written, the outage becomes an incident, one summary says what was missed.
      disarm();
      await until('memory written out', () => !d.spill.active);
      const failedDuring = await d.store.countResults({ probe: 'openai-canary', since: fullAt });
      expect(await d.store.countResults({ probe: 'openai-canary' })).toBeGreaterThan(before);
      expect(failedDuring).toBeGreaterThanOrEqual(2);
      const incidents = d.store.db.prepare('SELECT key, detector, summary FROM incidents').all() as { key: string; detector: string; summary: string }[];
      expect(incidents.map((i) => i.key)).toContain('openai-canary');
      const missed = incidents.find((i) => i.key === 'vigil:store');
      expect(missed?.summary).toMatch(/^Vigil could not write its store for \d+ min .*results kept in memory and written now.*probes failing meanwhile: .*openai-canary/);
      const outbox = d.store.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number };
      expect(outbox.n).toBeGreaterThan(0);
      // After recovery the engine's own notification follows, under the same dedup key (PagerDuty merges them).
      await until('the engine delivers the incident', () => delivered.filter((x) => x.n.incident.key === 'openai-canary').length >= 2 || delivered.some((x) => x.n.id > 0 && x.n.dedupKey === emergency[0].n.dedupKey));
      expect(delivered.some((x) => x.n.id > 0 && x.n.dedupKey === emergency[0].n.dedupKey)).toBe(true);
      expect(logs.join('')).toContain('store writes work again: what was missed');
      expect(await (await fetch(`${d.url}/metrics`)).text()).toMatch(/^vigil_store_writable 1$/m);
    } finally {
      disarm();
      await d.stop();
    }
  }, 90_000);
});
