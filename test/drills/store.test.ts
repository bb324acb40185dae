// drill_runs on both engines: a run is `running` from its first journal entry, progress never overwrites the
// final row, lists come newest first, retention keeps running rows.
import { describe, expect, it } from 'vitest';
import type { DrillProgress } from '../../src/chaos/drill-store.ts';
import { DrillStore } from '../../src/chaos/drill-store.ts';
import { Store } from '../../src/store/store.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';

const T = Date.UTC(2026, 0, 5, 12);

const progress = (runId: string, startedAt: number, steps: number): DrillProgress => ({
  runId,
  drillId: 'primary-down',
  owner: 'platform',
  severity: 'warning',
  startedAt,
  injected: 'anthropic: http_status 529',
  journal: Array.from({ length: steps }, (_, i) => ({ at: startedAt + i, step: i === 0 ? 'start' : 'attempt', status: 'info', detail: `step ${i}` })),
  faults: [],
  attempts: [],
  provesConfigOnly: false,
  check: 'fallback',
});

describe.each(BACKENDS)('drill runs in the store (%s)', (backend) => {
  it.skipIf(skipBackend(backend))('running, then final; progress after the end is a no-op; newest first; retention', async () => {
    const store = await Store.connect(await freshStoreTarget(backend));
    try {
      const db = new DrillStore(store.sql);
      await db.progress(progress('r1', T, 1), 'host:1');
      await db.progress(progress('r1', T, 3), 'host:1');
      const running = await db.running();
      expect(running.map((r) => [r.runId, r.verdict, r.journal.length, r.runner])).toEqual([['r1', 'running', 3, 'host:1']]);
      const p = progress('r1', T, 4);
      await db.insert(
        { ...p, finishedAt: T + 10, verdict: 'passed', reason: 'served by openai-gpt', failure: null, servedBy: 'openai-gpt', fallbackLatencyMs: 812.5, baselineMs: 700, rollback: { ok: true, detail: 'cleared' }, findings: [], warnings: [] },
        'host:1',
      );
      // A late progress write (queued before the end) changes nothing.
      await db.progress(progress('r1', T, 2), 'host:1');
      const r1 = (await db.run('r1'))!;
      expect(r1).toMatchObject({ verdict: 'passed', finishedAt: T + 10, fallbackLatencyMs: 812.5, baselineMs: 700, servedBy: 'openai-gpt' });
      expect(r1.journal).toHaveLength(4);
      expect(await db.running()).toEqual([]);
      await db.progress(progress('r2', T + 60_000, 1), 'host:2');
      expect((await db.runs('primary-down', 10)).map((r) => r.runId)).toEqual(['r2', 'r1']);
      expect((await db.runs('primary-down', 1, true))[0]).toHaveProperty('journal');
      expect([...(await db.latest()).values()].map((r) => r.runId)).toEqual(['r2']);
      // Retention never drops a run still marked running.
      expect(await db.prune(T + 3_600_000)).toBe(1);
      expect((await db.runs('primary-down', 10)).map((r) => r.runId)).toEqual(['r2']);
    } finally {
      await store.close();
    }
  });
});
