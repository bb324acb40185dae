// Timing accuracy of the probe engine against the simulator, which knows the truth.
// Run: npm run bench:probe [-- --rounds N]
//
// For each concurrency (1, 50, 500) we fire probes through the real runner (undici, SSE reader, OpenAI adapter)
// and compare what the probe reports with what the simulator did:
//   error = measured − true, where "true" is the offset at which the simulator handed the first token (TTFT)
//   and the last byte (total) to its socket, from the moment it had received the request.
// The simulator runs in its own process, so its timers don't share an event loop with the client.
// Also reported: the injected (planned) latency error, CPU time per probe in the client process, and the client's
// young-generation GC pauses during the rounds (a scavenge stops the loop: answers arriving meanwhile wait).
// Target: TTFT error p99 < 2 ms, against the simulator's truth and against the wire.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/clock.ts';
import type { ProbeSpec, ProviderEndpoint } from '../src/domain.ts';
import { createHttpClient, warmUp } from '../src/http/client.ts';
import { runProbe } from '../src/probes/run.ts';
import type { RunnerDeps } from '../src/probes/run.ts';
import { makeSpec } from '../test/fixtures.ts';
import { getJson, judge, startSimProcess, summary, table } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '' }, levels: { type: 'string', default: '1,50,500' } } });
const LEVELS = values.levels.split(',').map(Number);
const TTFT_MS = 150;
const PER_TOKEN_MS = 5;
const TARGET_P99_MS = 2;

// Young-generation (scavenge) pauses in this, the client, process.
const gcPauses: number[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (((e as { detail?: unknown }).detail as { kind?: number } | null)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcPauses.push(e.duration);
  }
});
gcObserver.observe({ entryTypes: ['gc'] });

interface Truth {
  id: string;
  t0: number;
  actual: { headersMs: number | null; firstTokenMs: number | null; lastByteMs: number | null };
  planned: { firstTokenMs: number | null; lastByteMs: number | null };
}

const JITTER = Number(process.env.BENCH_JITTER ?? 0);
const sim = await startSimProcess({ latency: { ttfbMs: 10, ttftMs: TTFT_MS, perTokenMs: PER_TOKEN_MS, jitter: JITTER, diurnal: null } });
const endpoint: ProviderEndpoint = { name: 'openai', kind: 'openai', baseUrl: sim.urls.openai, apiKey: 'bench', headers: {} };
// Vigil's client (arrival stamps per batch of socket reads) and, alternating round by round in the same run,
// the same client stamping each read when its callback runs: the difference is the queueing behind parsing.
const MODES = ['batch', 'per-read'] as const;
type Mode = (typeof MODES)[number];
const clients = Object.fromEntries(MODES.map((m) => [m, createHttpClient({ arrivalStamps: m })])) as Record<Mode, ReturnType<typeof createHttpClient>>;
const depsFor = (m: Mode): RunnerDeps => ({ http: clients[m], clock: systemClock, endpointFor: () => endpoint, priceFor: () => null });
const spec = (stream: boolean): ProbeSpec =>
  makeSpec({
    id: 'bench',
    owner: 'bench',
    messages: [{ role: 'user', content: 'Describe the weather in a short sentence.' }],
    stream,
    maxTokens: 16,
    timeouts: { connectMs: 5_000, firstByteMs: 30_000, totalMs: 60_000 },
  });

for (const m of MODES) {
  await warmUp(clients[m]);
  // Warm the sockets to the simulator too (the first request of a process costs 10–16 ms more).
  await Promise.all(Array.from({ length: Math.max(...LEVELS) }, () => runProbe(spec(true), depsFor(m))));
}

const rows: (string | number)[][] = [
  ['concurrency', 'stamps', 'probes', 'ttft err p50', 'ttft err p99', `p99 < ${TARGET_P99_MS}`, 'total err p50', 'total err p99', 'vs wire ttft p50', 'vs wire ttft p99', `p99 < ${TARGET_P99_MS}`, 'vs injected ttft p99', 'cpu/probe ms', 'young GC n', 'GC p50 ms', 'GC max ms'],
];
let missed = false;
const verdict = (ok: boolean) => {
  if (!ok) missed = true;
  return judge(ok);
};
let seq = (await getJson<{ requests: { seq: number }[] }>(`${sim.urls.openai}/_sim/requests?since=0`)).requests.at(-1)?.seq ?? 0;

for (const c of LEVELS) {
  const rounds = values.rounds ? Number(values.rounds) : c === 1 ? 200 : c <= 50 ? 20 : 4;
  const measured: Record<Mode, Map<string, { ttft: number; total: number; wireAt: number }>> = { batch: new Map(), 'per-read': new Map() };
  const cpuMs: Record<Mode, number> = { batch: 0, 'per-read': 0 };
  const gcOf: Record<Mode, number[]> = { batch: [], 'per-read': [] };
  for (let r = 0; r < rounds * MODES.length; r++) {
    const mode = MODES[r % MODES.length];
    const cpu0 = process.cpuUsage();
    gcPauses.length = 0;
    await Promise.all(
      Array.from({ length: c }, async () => {
        let id = '';
        const startAbs = performance.timeOrigin + performance.now();
        const res = await runProbe(spec(true), depsFor(mode), { onResponse: (_s, h) => (id = h['x-sim-request-id'] ?? '') });
        if (res.outcome !== 'ok' || res.timings.ttftMs == null) throw new Error(`probe failed: ${res.errorMessage}`);
        // When the request reached the wire (absolute clock shared by both processes on this machine).
        measured[mode].set(id, { ttft: res.timings.ttftMs, total: res.timings.totalMs, wireAt: startAbs + (res.timings.queuedMs ?? 0) });
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    cpuMs[mode] += (cpu.user + cpu.system) / 1000;
    await new Promise((r) => setTimeout(r, 20)); // also lets the GC observer deliver the round's entries
    gcOf[mode].push(...gcPauses);
  }
  const truth = await getJson<{ requests: (Truth & { seq: number })[] }>(`${sim.urls.openai}/_sim/requests?since=${seq}`);
  seq = truth.requests.at(-1)?.seq ?? seq;
  for (const mode of MODES) {
    const ttftErr: number[] = [];
    const totalErr: number[] = [];
    const plannedErr: number[] = [];
    const wireErr: number[] = [];
    for (const t of truth.requests) {
      const m = measured[mode].get(t.id);
      if (!m || t.actual.firstTokenMs == null || t.actual.lastByteMs == null) continue;
      ttftErr.push(m.ttft - t.actual.firstTokenMs);
      totalErr.push(m.total - t.actual.lastByteMs);
      // Against the wire: the simulator's absolute write time of the first token − when our request hit the wire.
      // This leaves out the time the simulator took to read the request (its own backlog at 500 at once).
      wireErr.push(m.ttft - (sim.timeOrigin + t.t0 + t.actual.firstTokenMs - m.wireAt));
      if (t.planned.firstTokenMs != null) plannedErr.push(m.ttft - t.planned.firstTokenMs);
    }
    const a = summary(ttftErr);
    const b = summary(totalErr);
    const p = summary(plannedErr);
    const w = summary(wireErr);
    const gc = summary(gcOf[mode]);
    // Only Vigil's own mode is judged; the per-read row is the comparison.
    const judged = (ok: boolean) => (mode === 'batch' ? verdict(ok) : '');
    rows.push([
      String(c),
      mode === 'batch' ? 'per batch (Vigil)' : 'per read',
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
console.log('"vs injected" compares with the planned delay (adds the simulator\'s own timer lateness).');
console.log('stamps: "per batch" is Vigil (every read of one batch of socket reads gets the batch\'s first reading, src/http/arrival.ts);');
console.log('"per read" stamps each read when its callback runs, after parsing the reads before it; rounds alternate in one run.');
console.log('young GC = scavenges in the client process during the rounds (perf_hooks \'gc\', minor), their pause each.');
gcObserver.disconnect();
for (const m of MODES) await clients[m].close();
await sim.stop();
process.exitCode = missed ? 1 : 0;
