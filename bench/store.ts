// Store throughput and maintenance: `npm run bench:store [-- --backend sqlite|postgres] [--url postgres://…]`.
//  1. Writers: 3 processes (3 Vigil instances) each committing single results as probes complete, many in
//     flight (group commit): results/s and per-result commit latency p50/p99. Target ≥ 5,000 results/s, which
//     covers 10,000 probes at one per minute in each of 3 locations with room to spare. The floor measured in
//     the same run: one writer committing one result at a time (no group commit).
//  2. Batched inserts (1000/txn); 3. reads and maintenance over 100k results (rollup, latest, queries, retention,
//     with the longest event-loop stall); 4. one hour of 10,000 probes (600k results) rolled up.
// Postgres without --url: a throwaway cluster (initdb + pg_ctl, default durability) in a temp directory.
// SQLite: temp files under os.tmpdir().
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ProbeResult } from '../src/domain.ts';
import { HOUR_MS, Store } from '../src/store/store.ts';
import { startCluster, type Cluster } from '../test/pg/cluster.ts';
import { makeResult } from '../test/store/fixtures/gen.ts';
import { summary } from './lib.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'sqlite' },
    url: { type: 'string' },
    writers: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '64' },
    // Internal: run as one writer process.
    writer: { type: 'string' },
    offset: { type: 'string', default: '0' },
  },
});

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const PROBES = 50;
const STEP = 60_000 / PROBES;
const gen = (n: number, offset = 0): ProbeResult[] =>
  Array.from({ length: n }, (_, i) => makeResult(offset + i, { probes: PROBES, stepMs: STEP }));


/** One instance: `concurrency` probes in flight, each recording its result and starting the next. */
async function writer(target: string, seconds: number, concurrency: number, offset: number): Promise<void> {
  const store = await Store.connect(target);
  const lat: number[] = [];
  let i = offset;
  // Start together: the parent releases all writers at once through stdin.
  process.stdout.write('ready\n');
  await new Promise((r) => process.stdin.once('data', r));
  const end = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const r = makeResult(i++, { probes: 10_000, stepMs: 6 });
      const t = performance.now();
      await store.insertResult(r);
      lat.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const ms = performance.now() - t0;
  await store.close();
  // Exit once the (large) line is flushed to the pipe.
  process.stdout.write(JSON.stringify({ n: lat.length, ms, lat: lat.map((x) => Math.round(x * 100) / 100) }) + '\n', () => process.exit(0));
}

function runWriter(target: string, offset: number, seconds: number, concurrency: number) {
  const child = spawn(process.execPath, [import.meta.filename, '--writer', target, '--offset', String(offset), '--seconds', String(seconds), '--concurrency', String(concurrency)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) resolve();
    });
  });
  const done = new Promise<{ n: number; ms: number; lat: number[] }>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length))) : reject(new Error(`writer exited ${code}`))));
  });
  return { ready, go: () => child.stdin.end('go\n'), done };
}

async function writers(target: string, n: number, seconds: number, concurrency: number) {
  // The first open migrates; the writers then find the schema in place.
  await (await Store.connect(target)).close();
  const ws = Array.from({ length: n }, (_, k) => runWriter(target, (k + 1) * 10_000_000, seconds, concurrency));
  await Promise.all(ws.map((w) => w.ready));
  const t0 = performance.now();
  ws.forEach((w) => w.go());
  const outs = await Promise.all(ws.map((w) => w.done));
  const wall = performance.now() - t0;
  const total = outs.reduce((a, o) => a + o.n, 0);
  return { total, perSec: (total / Math.max(...outs.map((o) => o.ms))) * 1000, wall, lat: summary(outs.flatMap((o) => o.lat)) };
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; out: T; maxStallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t = performance.now();
  const out = await fn();
  const ms = performance.now() - t;
  h.disable();
  return { ms, out, maxStallMs: h.max / 1e6 };
}

const backend = values.backend === 'postgres' ? 'postgres' : 'sqlite';
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-store-'));
let cluster: Cluster | null = null;
let dbs = 0;
/** A fresh database of the chosen backend. */
async function fresh(name: string): Promise<string> {
  if (backend === 'sqlite') return join(dir, `${name}.db`);
  if (values.url) {
    // A given server: one database per section, named for this run.
    const admin = await Store.connect(values.url);
    const db = `vigil_bench_${process.pid}_${++dbs}`;
    await admin.sql.exec(`CREATE DATABASE ${db}`);
    await admin.close();
    const u = new URL(values.url);
    u.pathname = `/${db}`;
    return u.toString();
  }
  cluster ??= await startCluster();
  return cluster.createDatabase(`${name}_${++dbs}`);
}

async function main(): Promise<void> {
  try {
    console.log(`backend: ${backend}${backend === 'postgres' ? (values.url ? ' (given server)' : ' (throwaway cluster, default durability)') : ''}`);
    const nWriters = Number(values.writers);
    const seconds = Number(values.seconds);

    // 1. Floor, then the instances writing together.
    const floor = await writers(await fresh('floor'), 1, Math.min(seconds, 4), 1);
    console.log(`floor: 1 writer, 1 result per commit: ${fmt(floor.perSec)} results/s (p50 ${floor.lat.p50.toFixed(2)} ms, p99 ${floor.lat.p99.toFixed(2)} ms)`);
    const w = await writers(await fresh('writers'), nWriters, seconds, Number(values.concurrency));
    const met = w.perSec >= 5_000;
    console.log(
      `${nWriters} writers × ${values.concurrency} in flight, ${seconds} s: ${fmt(w.perSec)} results/s ` +
        `(commit latency p50 ${w.lat.p50.toFixed(1)} ms, p99 ${w.lat.p99.toFixed(1)} ms; ${(w.perSec / floor.perSec).toFixed(1)}× the floor) — ` +
        `target ≥ 5,000 results/s: ${met ? 'met' : 'missed'}`,
    );

    // 2. Batched commits.
    const batchTarget = await fresh('batch');
    {
      const n = 100_000;
      const rs = gen(n);
      const s = await Store.connect(batchTarget);
      const { ms } = await timeAsync(async () => {
        for (let i = 0; i < n; i += 1000) await s.insertResults(rs.slice(i, i + 1000));
      });
      console.log(`batched insert (1000/txn): ${fmt((n / ms) * 1000)} results/s (${fmt(n)} in ${ms.toFixed(0)} ms)`);
      await s.close();
      if (backend === 'sqlite') {
        const size = statSync(batchTarget).size;
        console.log(`DB size per 100k results: ${(size / 1e6).toFixed(1)} MB (${fmt(size / n)} B/result, after close/checkpoint)`);
      }
    }

    // 3. Reads and maintenance over those 100k results (50 probes × 33 h).
    {
      const s = await Store.connect(batchTarget);
      const last = makeResult(99_999, { probes: PROBES, stepMs: STEP }).startedAt;
      const first = makeResult(0, { probes: PROBES, stepMs: STEP }).startedAt;
      const r = await timeAsync(() => s.rollup(last + HOUR_MS));
      console.log(`rollup of ${fmt(r.out.written)} probe-hours from 100k results: ${r.ms.toFixed(0)} ms (longest event-loop stall ${r.maxStallMs.toFixed(1)} ms)`);
      const l = await timeAsync(() => s.latestResults());
      console.log(`latestResults (${l.out.size} probes): ${l.ms.toFixed(2)} ms`);
      const q = await timeAsync(() => s.results({ probe: 'probe-7', since: last - 24 * HOUR_MS }));
      console.log(`results(one probe, last 24 h: ${q.out.length} rows): ${q.ms.toFixed(2)} ms`);
      const c = await timeAsync(() => s.countResults({ since: first + 6 * HOUR_MS }));
      console.log(`countResults(since): ${c.ms.toFixed(2)} ms`);
      const ret = await timeAsync(() => s.applyRetention(last, { rawRetentionMs: 12 * HOUR_MS, rollupRetentionMs: 30 * 24 * HOUR_MS }));
      console.log(`applyRetention deleting ${fmt(ret.out.rawDeleted)} raw rows (batches of 500): ${ret.ms.toFixed(0)} ms (longest event-loop stall ${ret.maxStallMs.toFixed(1)} ms)`);
      await s.close();
    }

    // 4. One hour of 10,000 probes every 60 s (600k results): rollup must not stall the loop for long.
    {
      const big = await Store.connect(await fresh('big'));
      const BIG = 10_000;
      const ins = await timeAsync(async () => {
        for (let i = 0; i < 60 * BIG; i += 1000) {
          await big.insertResults(Array.from({ length: 1000 }, (_, k) => makeResult(i + k, { probes: BIG, stepMs: 6 })));
        }
      });
      console.log(`10,000 probes × 1 h: ${fmt(60 * BIG)} results inserted (1000/txn) at ${fmt((60 * BIG * 1000) / ins.ms)} results/s`);
      const t0 = makeResult(0).startedAt;
      const br = await timeAsync(() => big.rollup(t0 + 2 * HOUR_MS));
      console.log(`  rollup of ${fmt(br.out.written)} probe-hours: ${br.ms.toFixed(0)} ms (longest event-loop stall ${br.maxStallMs.toFixed(1)} ms)`);
      const bl = await timeAsync(() => big.latestResults());
      console.log(`  latestResults (${fmt(bl.out.size)} probes): ${bl.ms.toFixed(0)} ms`);
      await big.close();

      // The same 600k results stamped from 3 locations: the rollup also writes one row per probe, hour and location
      // (migration 11). Reported against the location-less rollup above, measured in this run.
      const LOCS = ['eu-west', 'us-east', 'ap-south'];
      const located = await Store.connect(await fresh('located'));
      for (let i = 0; i < 60 * BIG; i += 1000) {
        await located.insertResults(Array.from({ length: 1000 }, (_, k) => ({ ...makeResult(i + k, { probes: BIG, stepMs: 6 }), location: LOCS[(i + k) % 3] })));
      }
      const lr = await timeAsync(() => located.rollup(t0 + 2 * HOUR_MS));
      const locRows = (await located.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM probe_rollups_hourly_location'))!.n;
      console.log(
        `  same, from 3 locations: rollup of ${fmt(lr.out.written)} probe-hours + ${fmt(Number(locRows))} per-location rows: ${lr.ms.toFixed(0)} ms ` +
          `(${(lr.ms / br.ms).toFixed(2)}× the location-less rollup; longest event-loop stall ${lr.maxStallMs.toFixed(1)} ms)`,
      );
      await located.close();
    }
  } finally {
    await (cluster as Cluster | null)?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.writer) await writer(values.writer, Number(values.seconds), Number(values.concurrency), Number(values.offset));
else await main();
