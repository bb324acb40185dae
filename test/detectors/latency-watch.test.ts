// The daemon's side of the latency detector (LatencyWatch): state restored from the store without replaying
// results, compact per-probe state, and a wall clock that steps back (NTP) without a false page or lost state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBaseline, savedBody, serialiseLatencyState } from '../../src/detectors/latency/persist.ts';
import { LatencyWatch } from '../../src/detectors/latency/watch.ts';
import type { ProbeSpec, Signal } from '../../src/domain.ts';
import { Store } from '../../src/store/store.ts';
import { makeResultFor, makeSpec } from '../fixtures.ts';
import { DAY, HOUR, MIN, generate } from './latency-helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function openStore(): Store {
  const d = mkdtempSync(join(tmpdir(), 'vigil-latency-watch-'));
  dirs.push(d);
  return Store.open(join(d, 'vigil.db'));
}

const start = Date.UTC(2026, 0, 5); // a Monday
const spec: ProbeSpec = makeSpec({ id: 'canary', stream: true, schedule: { everyMs: 5 * MIN, timezone: 'UTC' } });
const resultAt = (t: number, totalMs: number) =>
  makeResultFor(spec, t, { timings: { connectMs: 0, tlsMs: null, ttfbMs: 50, ttftMs: totalMs * 0.4, totalMs, outputTokensPerSec: 40 } });

function feed(watch: LatencyWatch, points: { t: number; value: number }[]): Signal[] {
  return points.flatMap((p) => watch.observe(resultAt(p.t, p.value)));
}

describe('LatencyWatch', () => {
  it('survives the wall clock stepping back an hour (NTP): no page, every result learnt, state kept across a restart', async () => {
    const store = openStore();
    const watch = new LatencyWatch(store);
    await watch.sync([spec], start);
    const calm = generate({ start, days: 10, stepMs: 5 * MIN, timezone: 'UTC', baseMs: 900, seed: 4 });
    expect(feed(watch, calm)).toEqual([]);
    const before = watch.stateOf('canary')!.total.count;
    // The clock steps back one hour and carries on: the hour is repeated with new (normal) values.
    const stepBack = calm.at(-1)!.t - HOUR;
    const repeated = generate({ start: stepBack, days: 1, stepMs: 5 * MIN, timezone: 'UTC', baseMs: 900, seed: 5 });
    const signals = feed(watch, repeated);
    expect(signals).toEqual([]);
    const state = watch.stateOf('canary')!;
    expect(state.total.count).toBe(before + repeated.length);
    // The detector's own clock never ran backwards.
    expect(state.total.lastT).toBe(calm.at(-1)!.t - HOUR + (repeated.length - 1) * 5 * MIN);
    await watch.save(stepBack + DAY);
    const saved = serialiseLatencyState(state);
    await store.close();

    // Restart: the state comes back from the store as it was (nothing replayed), and a slowdown still pages once.
    const store2 = Store.open(store.path);
    const watch2 = new LatencyWatch(store2);
    await watch2.sync([spec], stepBack + DAY);
    expect(serialiseLatencyState(watch2.stateOf('canary')!)).toBe(saved);
    const t0 = repeated.at(-1)!.t + 5 * MIN;
    const slow = generate({ start: t0, days: 1, stepMs: 5 * MIN, timezone: 'UTC', baseMs: 900, seed: 6, incidents: [{ start: t0 + 6 * HOUR, end: t0 + 8 * HOUR, factor: 3 }] });
    const fired = feed(watch2, slow).filter((s) => s.status === 'firing' && s.key === 'canary:total');
    expect(fired).toHaveLength(1);
    expect(fired[0].at).toBeGreaterThanOrEqual(t0 + 6 * HOUR);
    expect(fired[0].at).toBeLessThan(t0 + 8 * HOUR);
    await store2.close();
  });

  it('a restored state is decoded when the probe\'s first result arrives, and that result continues it', async () => {
    const store = openStore();
    const watch = new LatencyWatch(store);
    await watch.sync([spec], start);
    const calm = generate({ start, days: 3, stepMs: 5 * MIN, timezone: 'UTC', baseMs: 900, seed: 8 });
    feed(watch, calm);
    const learnt = watch.stateOf('canary')!.total.count;
    await watch.save(start + 3 * DAY);
    const watch2 = new LatencyWatch(store);
    await watch2.sync([spec], start + 3 * DAY);
    // No stateOf() first: the first result itself must find the stored state, not a fresh one.
    watch2.observe(resultAt(start + 3 * DAY, 900));
    expect(watch2.stateOf('canary')!.total.count).toBe(learnt + 1);
    await store.close();
  });

  it('keeps per-probe state compact: nothing allocated before the first value, a few kB after weeks', async () => {
    const store = openStore();
    const watch = new LatencyWatch(store);
    const specs = Array.from({ length: 50 }, (_, i) => makeSpec({ id: `p${i}`, schedule: { everyMs: 5 * MIN, timezone: 'UTC' } }));
    await watch.sync(specs, start);
    const empty = serialiseLatencyState(watch.stateOf('p0')!);
    expect(empty.length).toBeLessThan(1200);
    expect(watch.stateOf('p0')!.total.baseline.how).toBeNull();
    const points = generate({ start, days: 21, stepMs: 5 * MIN, timezone: 'UTC', baseMs: 900, seed: 2 });
    for (const p of points) watch.observe(makeResultFor(specs[0], p.t, { timings: { connectMs: 0, tlsMs: null, ttfbMs: 50, ttftMs: p.value / 2, totalMs: p.value, outputTokensPerSec: 40 } }));
    const full = watch.stateOf('p0')!;
    // 168 buckets × 3 float32 per metric, plus the ring of recent calls and a few numbers.
    expect(full.total.baseline.how!.byteLength).toBe(168 * 3 * 4);
    expect(serialiseLatencyState(full).length).toBeLessThan(8_000);
    await store.close();
  });

  it('restores a state saved before records had their own start, as learning (no new warm-up, nothing lost)', async () => {
    const store = openStore();
    const watch = new LatencyWatch(store);
    await watch.sync([spec], start);
    feed(watch, generate({ start, days: 10, stepMs: 5 * MIN, timezone: 'UTC', baseMs: 900, seed: 4 }));
    const state = watch.stateOf('canary')!;
    expect(state.total.recordsFrom).not.toBeNull();
    // The older format: the same state without the field.
    const old = JSON.parse(savedBody('UTC', state));
    delete old.state.ttft.recordsFrom;
    delete old.state.total.recordsFrom;
    const back = decodeBaseline(JSON.stringify(old), 'UTC')!;
    expect(back.total.recordsFrom).toBe(state.total.firstT);
    expect(back.total.count).toBe(state.total.count);
    expect(back.total.rec).toEqual(state.total.rec);
    await store.close();
  });
});
