// The drift detectors across a restart (DriftWatch with a real store): the learnt states come back as they were
// from the last save plus the results stored after it, even when raw retention has pruned the history the
// baseline was learnt from; without the save, only the stored window could be rebuilt (the test can fail).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { VigilConfig } from '../../src/config/types.ts';
import { DRIFT_STATE_DETECTOR } from '../../src/detectors/drift-persist.ts';
import { DriftWatch } from '../../src/detectors/drift-watch.ts';
import type { ProbeResult, Signal } from '../../src/domain.ts';
import { createRng } from '../../src/sim/rng.ts';
import { Store } from '../../src/store/store.ts';
import { DAY, MIN, T0, refusalResult, result, schedule, spec } from './drift-fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const benign = Array.from({ length: 6 }, (_, i) => spec(`benign-${i}`, { kind: 'benign' }));
const canary = spec('canary', { kind: 'canary', schedule: { everyMs: 5 * MIN, timezone: 'UTC' } });
const config = { probes: [...benign, canary], detectors: {}, consumers: [] } as unknown as VigilConfig;

/** Benign prompts refused at `rate(t)`, and a canary answering ~40 tokens, from `from` to `to`. */
function history(seed: number, from: number, to: number, rate: (t: number) => number): ProbeResult[] {
  const rng = createRng(seed);
  const out: ProbeResult[] = [];
  for (const [s, t] of schedule(benign, from, to)) out.push(refusalResult(s, t, rng() < rate(t)));
  for (let t = from; t < to; t += 5 * MIN) out.push(result(canary, t, { tokensOut: 38 + Math.round(rng() * 4) }));
  return out.sort((a, b) => a.startedAt - b.startedAt);
}

describe('DriftWatch across a restart', () => {
  it('resumes from its save plus the results stored after it: nothing learnt is lost, the next change fires alike', async () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-drift-watch-'));
    dirs.push(d);
    const store = Store.open(join(d, 'vigil.db'));
    const live = new DriftWatch(config);
    await live.restore(store, T0);

    // Six weeks of calm, stored and observed as they come; saved at the end of week five.
    const saveAt = T0 + 35 * DAY;
    const calm = history(1, T0, T0 + 42 * DAY, () => 0.02);
    const before = calm.filter((r) => r.startedAt < saveAt);
    const after = calm.filter((r) => r.startedAt >= saveAt);
    await store.insertResults(before);
    for (const r of before) expect(live.observe(r)).toEqual([]);
    await live.save(store, saveAt);
    // A slow probe finishes after the save although it started before the last result the save had seen.
    const late = refusalResult(benign[0], saveAt - 12 * MIN, false);
    await store.insertResults([late, ...after]);
    for (const r of [late, ...after]) expect(live.observe(r)).toEqual([]);
    // Crash: no save. Raw retention keeps the last 14 days only.
    const now = T0 + 42 * DAY;
    await store.sql.run('DELETE FROM probe_results WHERE started_at < ?', [now - 14 * DAY]);
    await store.close();

    const store2 = Store.open(join(d, 'vigil.db'));
    const resumed = new DriftWatch(config);
    const restored = await resumed.restore(store2, now);
    expect(restored.signals).toEqual([]);
    expect(resumed.states()).toEqual(live.states());

    // Without the save, the pruned history's learning is gone (what the save protects; the test can fail).
    await store2.sql.run('DELETE FROM detector_state WHERE detector = ?', [DRIFT_STATE_DETECTOR]);
    const rebuilt = new DriftWatch(config);
    await rebuilt.restore(store2, now);
    expect(rebuilt.states()).not.toEqual(live.states());

    // The next over-refusal fires at the same result on the live and the resumed watch.
    const shift = history(2, now, now + 5 * DAY, () => 0.15).filter((r) => r.probeId !== canary.id);
    const fire = (w: DriftWatch) => shift.flatMap((r) => w.observe(r)).filter((s: Signal) => s.status === 'firing');
    const a = fire(live);
    expect(a.map((s) => s.key)).toEqual(['openai:gpt-4o-mini:benign']);
    expect(fire(resumed)).toEqual(a);
    await store2.close();
  });

  it('keeps an unreadable save from stopping the start: it rebuilds from the stored window instead', async () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-drift-watch-'));
    dirs.push(d);
    const store = Store.open(join(d, 'vigil.db'));
    const calm = history(3, T0, T0 + 10 * DAY, () => 0.02);
    await store.insertResults(calm);
    await store.sql.run('INSERT INTO detector_state (detector, key, state, updated_at) VALUES (?, ?, ?, ?)', [DRIFT_STATE_DETECTOR, 'default', '{"version":1,"trunc', T0]);
    const w = new DriftWatch(config);
    await w.restore(store, T0 + 10 * DAY);
    const replayed = new DriftWatch(config);
    for (const r of calm) replayed.observe(r);
    expect(w.states()).toEqual(replayed.states());
    await store.close();
  });

  it('does not rewrite an unchanged save (the daemon saves at start, right after loading)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-drift-watch-'));
    dirs.push(d);
    const store = Store.open(join(d, 'vigil.db'));
    const first = new DriftWatch(config);
    await first.restore(store, T0);
    for (const r of history(3, T0, T0 + DAY, () => 0.05)) first.observe(r);
    await first.save(store, T0 + DAY);
    const at = async () => (await store.sql.get<{ updated_at: number }>('SELECT updated_at FROM detector_state WHERE detector = ?', [DRIFT_STATE_DETECTOR]))!.updated_at;
    expect(await at()).toBe(T0 + DAY);
    const second = new DriftWatch(config);
    await second.restore(store, T0 + DAY + MIN);
    await second.save(store, T0 + DAY + 2 * MIN);
    expect(await at()).toBe(T0 + DAY);
    // Once it learns something, the next save writes.
    second.observe(result(canary, T0 + DAY + 3 * MIN, { tokensOut: 40 }));
    await second.save(store, T0 + DAY + 4 * MIN);
    expect(await at()).toBe(T0 + DAY + 4 * MIN);
    await store.close();
  });
});
