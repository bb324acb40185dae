// Timing accuracy of the probe engine against the simulator, which knows the truth.
// Run: npm run bench:probe [-- --rounds N] [--levels 1,50,500] [--threads 1] [--no-floor]
//
// For each concurrency (1, 50, 500) we fire probes through the real runner (undici, SSE reader, OpenAI adapter)
// and compare what the probe reports with what the simulator did:
//   error = measured − true, where "true" is the offset at which the simulator handed the first token (TTFT)
//   and the last byte (total) to its socket, from the moment it had received the request.
// The simulator runs in its own process, so its timers don't share an event loop with the client.
// Also reported: the injected (planned) latency error, CPU time per probe in the client process, and the client's
// young-generation GC pauses during the rounds (a scavenge stops the loop: answers arriving meanwhile wait).
// Vigil's probes run where the daemon runs them by default: on one worker thread with its own client and heap,
// its young generation sized as the daemon sizes it (src/probes/threads.ts, `scheduler.probe_threads: 1`).
// --threads N splits each round over N such threads; --threads 0 runs them on this loop (`probe_threads: 0`).
// Beside them, in rounds of its own, the floor (bench/probe-floor.ts): the least a Node client can do.
// Target: TTFT error p99 < 2 ms, against the simulator's truth and against the wire.
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { getJson, judge, startSimProcess, summary, table } from './lib.ts';
import { MODES, probeRoundRunner } from './probe-round.ts';
import { floorRoundRunner } from './probe-floor.ts';
import { THREAD_YOUNG_GENERATION_MB } from '../src/probes/threads.ts';
import type { Measured, Mode, ProbeRoundRunner, RoundOut } from './probe-round.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '' }, levels: { type: 'string', default: '1,50,500' }, threads: { type: 'string', default: '1' }, floor: { type: 'boolean', default: true } },
  allowNegative: true,
});
const LEVELS = values.levels.split(',').map(Number);
const THREADS = Number(values.threads);
const TTFT_MS = 150;
const PER_TOKEN_MS = 5;
const TARGET_P99_MS = 2;

interface Truth {
  id: string;
  t0: number;
  actual: { headersMs: number | null; firstTokenMs: number | null; lastByteMs: number | null };
  planned: { firstTokenMs: number | null; lastByteMs: number | null };
}

const JITTER = Number(process.env.BENCH_JITTER ?? 0);
const sim = await startSimProcess({ latency: { ttfbMs: 10, ttftMs: TTFT_MS, perTokenMs: PER_TOKEN_MS, jitter: JITTER, diurnal: null } });

/** The same runner as on this loop, each round split over `n` worker threads. */
function threadClients(n: number): ProbeRoundRunner {
  // Sized as the daemon sizes its probe threads.
  const workers = Array.from(
    { length: n },
    () =>
      new Worker(new URL('./probe-thread.ts', import.meta.url), {
        workerData: { openaiUrl: sim.urls.openai },
        resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
      }),
  );
  const ask = <T>(w: Worker, msg: unknown) =>
    new Promise<T>((resolve, reject) => {
      w.once('message', (r: T & { error?: string }) => (r.error ? reject(new Error(r.error)) : resolve(r)));
      w.postMessage(msg);
    });
  // Probe i of a round goes to thread i mod n.
  const share = (total: number, i: number) => Math.floor(total / n) + (i < total % n ? 1 : 0);
  return {
    async warm(sockets) {
      await Promise.all(workers.map((w, i) => ask(w, { type: 'warm', sockets: share(sockets, i) })));
    },
    async round(mode, total) {
      const outs = await Promise.all(workers.map((w, i) => (share(total, i) > 0 ? ask<RoundOut>(w, { type: 'round', mode, n: share(total, i) }) : { measured: [], gc: [] })));
      return { measured: outs.flatMap((o) => o.measured), gc: outs.flatMap((o) => o.gc) };
    },
    async close() {
      await Promise.all(workers.map((w) => new Promise((r) => (w.once('exit', r), w.postMessage({ type: 'close' })))));
    },
  };
}

const clients: ProbeRoundRunner = THREADS > 0 ? threadClients(THREADS) : probeRoundRunner(sim.urls.openai);
await clients.warm(Math.max(...LEVELS));
// The floor (bench/probe-floor.ts) on this loop, in rounds of its own between Vigil's.
const floor = values.floor ? floorRoundRunner(sim.urls.openai) : null;
await floor?.warm(Math.max(...LEVELS));
type Row = Mode | 'floor';
const ROWS: Row[] = floor ? [...MODES, 'floor'] : [...MODES];
const where = THREADS > 0 ? `${THREADS} thread${THREADS > 1 ? 's' : ''}` : 'this loop';

const rows: (string | number)[][] = [
  ['concurrency', 'runs on', 'stamps', 'probes', 'ttft err p50', 'ttft err p99', `p99 < ${TARGET_P99_MS}`, 'total err p50', 'total err p99', 'vs wire ttft p50', 'vs wire ttft p99', `p99 < ${TARGET_P99_MS}`, 'vs injected ttft p99', 'request leg p50', 'request leg p99', 'cpu/probe ms', 'young GC n', 'GC p50 ms', 'GC max ms'],
];
let missed = false;
const verdict = (ok: boolean) => {
  if (!ok) missed = true;
  return judge(ok);
};
/** The simulator's newest record: what came before it (warm-up calls) is not measured. */
const lastSeq = async () => (await getJson<{ lastSeq: number }>(`${sim.urls.openai}/_sim/requests?limit=1`)).lastSeq;

for (const c of LEVELS) {
  const rounds = values.rounds ? Number(values.rounds) : c === 1 ? 200 : c <= 50 ? 20 : 4;
  // Idle sockets closed during the previous level (keep-alive 4-5 s) are reopened before anything is timed: a probe's
  // TTFT includes its connect, which the simulator's record does not.
  await clients.warm(c);
  await floor?.warm(c);
  const seq = await lastSeq();
  const measured: Record<Row, Map<string, Measured>> = { batch: new Map(), 'per-read': new Map(), floor: new Map() };
  const cpuMs: Record<Row, number> = { batch: 0, 'per-read': 0, floor: 0 };
  const gcOf: Record<Row, number[]> = { batch: [], 'per-read': [], floor: [] };
  for (let r = 0; r < rounds * ROWS.length; r++) {
    const mode = ROWS[r % ROWS.length];
    // Process-wide: counts every thread's CPU.
    const cpu0 = process.cpuUsage();
    const out = mode === 'floor' ? await floor!.round('batch', c) : await clients.round(mode, c);
    const cpu = process.cpuUsage(cpu0);
    cpuMs[mode] += (cpu.user + cpu.system) / 1000;
    for (const m of out.measured) measured[mode].set(m.id, m);
    gcOf[mode].push(...out.gc);
  }
  const truth = await getJson<{ requests: Truth[] }>(`${sim.urls.openai}/_sim/requests?since=${seq}`);
  for (const mode of ROWS) {
    const ttftErr: number[] = [];
    const totalErr: number[] = [];
    const plannedErr: number[] = [];
    const wireErr: number[] = [];
    const requestLeg: number[] = [];
    for (const t of truth.requests) {
      const m = measured[mode].get(t.id);
      if (!m || t.actual.firstTokenMs == null || t.actual.lastByteMs == null) continue;
      ttftErr.push(m.ttft - t.actual.firstTokenMs);
      totalErr.push(m.total - t.actual.lastByteMs);
      // Against the wire: the simulator's absolute write time of the first token − when our request hit the wire.
      // This leaves out the time the simulator took to read the request (its own backlog at 500 at once).
      wireErr.push(m.ttft - (sim.timeOrigin + t.t0 + t.actual.firstTokenMs - m.wireAt));
      // Our write of the request to the simulator's arrival stamp for it: what "vs simulator" adds to "vs wire".
      requestLeg.push(sim.timeOrigin + t.t0 - m.wireAt);
      if (t.planned.firstTokenMs != null) plannedErr.push(m.ttft - t.planned.firstTokenMs);
    }
    const a = summary(ttftErr);
    const b = summary(totalErr);
    const p = summary(plannedErr);
    const w = summary(wireErr);
    const gc = summary(gcOf[mode]);
    const leg = summary(requestLeg);
    // Only Vigil's own mode is judged; the per-read and floor rows are the comparison.
    const judged = (ok: boolean) => (mode === 'batch' ? verdict(ok) : '');
    rows.push([
      String(c),
      mode === 'floor' ? 'this loop' : where,
      mode === 'batch' ? 'per batch (Vigil)' : mode === 'per-read' ? 'per read' : 'floor: raw socket',
      a.n,
      a.p50,
      a.p99,
      judged(Math.abs(a.p99) < TARGET_P99_MS),
      b.p50,
      b.p99,
      w.p50,
      w.p99,
      judged(Math.abs(w.p99) < TARGET_P99_MS),
      p.p99,
      leg.p50,
      leg.p99,
      cpuMs[mode] / (rounds * c),
      gc.n,
      gc.p50,
      gc.max,
    ]);
  }
}

console.log(`\nbench:probe — OpenAI streaming probe, simulator TTFT ${TTFT_MS} ms + ${PER_TOKEN_MS} ms/token, no jitter`);
console.log('error = measured by the probe − true offset at which the simulator wrote the bytes (ms)\n');
console.log(table(rows));
console.log('\n"vs wire" measures TTFT against the moment our request reached the wire instead of when the simulator had');
console.log('read it (absolute clock shared by both processes): it leaves out the simulator\'s own backlog reading 500 requests.');
console.log('"request leg" is from our write of the request to the simulator\'s arrival stamp for it (its reads of 500 requests');
console.log('landing together queue behind each other): the part of "vs simulator" that is not the answer\'s timing.');
console.log('"vs injected" compares with the planned delay (adds the simulator\'s own timer lateness).');
console.log('stamps: "per batch" is Vigil (every read of one batch of socket reads gets the batch\'s first reading, src/http/arrival.ts);');
console.log('"per read" stamps each read when its callback runs, after parsing the reads before it; rounds alternate in one run.');
console.log('"floor: raw socket" is the least a Node client can do (bench/probe-floor.ts): keep-alive sockets read through onread,');
console.log('no HTTP or SSE parsing, the first token found by a byte search, stamped per batch; --no-floor leaves it out.');
console.log('young GC = scavenges in the client during the rounds (perf_hooks \'gc\', minor; every thread\'s with --threads), their pause each.');
console.log('cpu/probe counts the whole client process (every thread).');
await clients.close();
await floor?.close();
await sim.stop();
process.exitCode = missed ? 1 : 0;
