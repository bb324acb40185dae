// Store write throughput and size: `npm exec -- node bench/store.ts` (or ./node_modules/.bin/node bench/store.ts).
// Prints results/s for single-result commits and for batched commits, DB size per 100k results, and the time of
// rollup, latestResults, a one-probe-one-day query and retention over that data. Temp files under os.tmpdir().
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ProbeResult } from '../src/domain.ts';
import { HOUR_MS, Store } from '../src/store/store.ts';
import { makeResult } from '../test/store/fixtures/gen.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-store-'));
const PROBES = 50;
const STEP = 60_000 / PROBES; // 50 probes every 60 s
const gen = (n: number, offset = 0): ProbeResult[] =>
  Array.from({ length: n }, (_, i) => makeResult(offset + i, { probes: PROBES, stepMs: STEP }));

function time<T>(fn: () => T): { ms: number; out: T } {
  const t = performance.now();
  const out = fn();
  return { ms: performance.now() - t, out };
}
async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; out: T }> {
  const t = performance.now();
  const out = await fn();
  return { ms: performance.now() - t, out };
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const size = (p: string) => statSync(p).size + (statSync(`${p}-wal`, { throwIfNoEntry: false })?.size ?? 0);

try {
  // 1. One commit per result, as the daemon writes each probe result when it completes.
  for (const durability of ['normal', 'full'] as const) {
    const n = durability === 'normal' ? 20_000 : 2_000;
    const rs = gen(n);
    const s = Store.open(join(dir, `single-${durability}.db`), { durability });
    const { ms } = time(() => rs.forEach((r) => s.insertResult(r)));
    console.log(`single insert (synchronous=${durability.toUpperCase()}): ${fmt((n / ms) * 1000)} results/s (${fmt(n)} in ${ms.toFixed(0)} ms, ${((ms * 1000) / n).toFixed(1)} µs each)`);
    s.close();
  }

  // 2. Batched commits (each size on a fresh file).
  for (const batch of [10, 100, 1000]) {
    const n = 100_000;
    const rs = gen(n);
    const path = join(dir, `batch-${batch}.db`);
    const s = Store.open(path);
    const { ms } = time(() => {
      for (let i = 0; i < n; i += batch) s.insertResults(rs.slice(i, i + batch));
    });
    console.log(`batched insert (${batch}/txn): ${fmt((n / ms) * 1000)} results/s (${fmt(n)} in ${ms.toFixed(0)} ms)`);
    s.close();
    if (batch === 100) console.log(`DB size per 100k results: ${(size(path) / 1e6).toFixed(1)} MB (${fmt(size(path) / n)} B/result, after close/checkpoint)`);
  }

  // 3. Reads and maintenance over 100k results (50 probes × 33 h).
  const s = Store.open(join(dir, 'batch-100.db'));
  const last = makeResult(99_999, { probes: PROBES, stepMs: STEP }).startedAt;
  const first = makeResult(0, { probes: PROBES, stepMs: STEP }).startedAt;
  // Longest event-loop stall while rollup/retention run (they yield between hours/batches).
  const stall = async <T>(fn: () => Promise<T>) => {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const out = await timeAsync(fn);
    h.disable();
    return { ...out, maxStallMs: h.max / 1e6 };
  };
  const r = await stall(() => s.rollup(last + HOUR_MS));
  console.log(`rollup of ${fmt(r.out.written)} probe-hours from 100k results: ${r.ms.toFixed(0)} ms (longest event-loop stall ${r.maxStallMs.toFixed(1)} ms)`);
  const l = time(() => s.latestResults());
  console.log(`latestResults (${l.out.size} probes): ${l.ms.toFixed(2)} ms`);
  const q = time(() => s.results({ probe: 'probe-7', since: last - 24 * HOUR_MS }));
  console.log(`results(one probe, last 24 h: ${q.out.length} rows): ${q.ms.toFixed(2)} ms`);
  const c = time(() => s.countResults({ since: first + 6 * HOUR_MS }));
  console.log(`countResults(since): ${c.ms.toFixed(2)} ms`);
  const ret = await stall(() => s.applyRetention(last, { rawRetentionMs: 12 * HOUR_MS, rollupRetentionMs: 30 * 24 * HOUR_MS }));
  console.log(`applyRetention deleting ${fmt(ret.out.rawDeleted)} raw rows (default batches of 500): ${ret.ms.toFixed(0)} ms (longest event-loop stall ${ret.maxStallMs.toFixed(1)} ms)`);
  s.close();

  // 4. One hour of 10,000 probes every 60 s (600k results): rollup must not stall the loop for long.
  const big = Store.open(join(dir, 'big.db'));
  const BIG = 10_000;
  const ins = time(() => {
    for (let i = 0; i < 60 * BIG; i += 1000) {
      big.insertResults(Array.from({ length: 1000 }, (_, k) => makeResult(i + k, { probes: BIG, stepMs: 6 })));
    }
  });
  console.log(`10,000 probes × 1 h: ${fmt(60 * BIG)} results inserted (1000/txn) at ${fmt((60 * BIG * 1000) / ins.ms)} results/s`);
  const t0 = makeResult(0).startedAt;
  const br = await stall(() => big.rollup(t0 + 2 * HOUR_MS));
  console.log(`  rollup of ${fmt(br.out.written)} probe-hours: ${br.ms.toFixed(0)} ms (longest event-loop stall ${br.maxStallMs.toFixed(1)} ms)`);
  const bl = time(() => big.latestResults());
  console.log(`  latestResults (${fmt(bl.out.size)} probes): ${bl.ms.toFixed(0)} ms`);
  big.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
