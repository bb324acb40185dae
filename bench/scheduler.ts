// Scheduler at scale: 1,000 and 10,000 probes over a simulated hour against the simulator.
// Run: npm run bench:scheduler [-- --speed 20 --sizes 1000,10000]
//
// The clock runs `speed`× real time, so an hour takes 60/speed minutes. Each probe is a real streaming
// OpenAI/Anthropic/Gemini call through undici to the simulator (own process), stored in SQLite as the daemon
// does. Reported: start-time skew (first attempt start − planned slot, real ms), RSS, CPU per probe, store
// write throughput and the slowest single write.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ProbeSpec, ProviderEndpoint, ProviderKind } from '../src/domain.ts';
import { createHttpClient, warmUp } from '../src/http/client.ts';
import { runProbe } from '../src/probes/run.ts';
import type { RunnerDeps } from '../src/probes/run.ts';
import { Scheduler } from '../src/scheduler/index.ts';
import { Store } from '../src/store/store.ts';
import { makeSpec } from '../test/fixtures.ts';
import { judge, scaledClock, startSimProcess, summary, table } from './lib.ts';
import { compileCacheDir } from '../src/runtime/compile-cache.ts';
import { reexecIfWanted } from '../src/runtime/reexec.ts';

// Measured with the runtime settings `vigil run` gives itself (src/runtime/reexec.ts): a 4 MB semi-space and the
// compile cache from the first line. VIGIL_REEXEC=off measures with Node's defaults.
reexecIfWanted(compileCacheDir());

const { values } = parseArgs({
  options: {
    speed: { type: 'string', default: '20' },
    sizes: { type: 'string', default: '1000,10000' },
    minutes: { type: 'string', default: '60' },
    every: { type: 'string', default: '' },
  },
});
const SPEED = Number(values.speed);
const SIM_MINUTES = Number(values.minutes);
const SIZES = values.sizes.split(',').map(Number);
/** Targets: start-time skew p99 under 50 ms, and the scheduler, runner and store under 200 MB RSS at 10,000 probes. */
const SKEW_P99_TARGET_MS = 50;
const RSS_TARGET_MB = 200;

const sim = await startSimProcess({ latency: { ttfbMs: 5, ttftMs: 20, perTokenMs: 1, jitter: 0.1, diurnal: null } });
const kinds: ProviderKind[] = ['openai', 'anthropic', 'gemini'];
const endpoints: Record<string, ProviderEndpoint> = Object.fromEntries(
  kinds.map((k) => [`provider:${k}`, { name: k, kind: k, baseUrl: sim.urls[k], apiKey: 'bench', headers: {}, apiVersion: k === 'anthropic' ? '2023-06-01' : k === 'gemini' ? 'v1beta' : undefined }]),
);
const models: Record<string, string> = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5', gemini: 'gemini-2.5-flash' };

const rows: (string | number)[][] = [
  ['probes', 'interval', 'runs', 'skew p50 ms', 'skew p99 ms', `p99 < ${SKEW_P99_TARGET_MS} ms`, 'skew max ms', 'missed', 'RSS MB', `RSS < ${RSS_TARGET_MB} MB`, 'heap MB', 'cpu/probe ms', 'writes/s', 'slowest write ms'],
];
let missedTarget = false;
const verdict = (ok: boolean) => {
  if (!ok) missedTarget = true;
  return judge(ok);
};

for (const n of SIZES) {
  // 10,000 probes every 60 s would be 167 real probes/s at speed 1; keep the real rate a 2-core box can serve.
  const everyMs = values.every ? Number(values.every) * 1000 : n <= 1000 ? 60_000 : 300_000;
  const specs: ProbeSpec[] = Array.from({ length: n }, (_, i) => {
    const k = kinds[i % 3];
    return makeSpec({
      id: `p${i}`,
      owner: 'bench',
      target: `provider:${k}`,
      model: models[k],
      stream: true,
      schedule: { everyMs, timezone: 'UTC' },
      timeouts: { connectMs: 5_000, firstByteMs: 30_000, totalMs: 60_000 },
      assertions: [{ contains: 'pong' }],
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const store = Store.open(join(dir, 'bench.db'));
  const clock = scaledClock(SPEED);
  const http = createHttpClient();
  await warmUp(http);
  const deps: RunnerDeps = { http, clock, endpointFor: (t) => endpoints[t], priceFor: () => null };
  const skews: number[] = [];
  let writes = 0;
  let writeMs = 0;
  let slowestWrite = 0;
  let missed = 0;
  let rssMax = 0;
  let heapMax = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssMax = Math.max(rssMax, m.rss);
    heapMax = Math.max(heapMax, m.heapUsed);
  }, 250);
  const scheduler = new Scheduler({
    clock,
    concurrencyPerProvider: 512,
    runner: (spec, ctx) => runProbe(spec, deps, { attempt: ctx.attempt, signal: ctx.signal }),
    onResult: (r, meta) => {
      if (r.attempt === 1) skews.push(meta.skewMs / SPEED);
      const t = performance.now();
      store.insertResult(r);
      const d = performance.now() - t;
      writes++;
      writeMs += d;
      slowestWrite = Math.max(slowestWrite, d);
    },
    onSkip: (_s, _p, reason, count) => {
      if (reason === 'missed') missed += count;
    },
  });
  const cpu0 = process.cpuUsage();
  scheduler.start(specs);
  await new Promise((r) => setTimeout(r, (SIM_MINUTES * 60_000) / SPEED));
  await scheduler.stop({ deadlineMs: 10_000 });
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const s = summary(skews);
  rows.push([
    String(n),
    `${everyMs / 1000}s`,
    writes,
    s.p50,
    s.p99,
    verdict(s.p99 < SKEW_P99_TARGET_MS),
    s.max,
    missed,
    rssMax / 2 ** 20,
    verdict(rssMax / 2 ** 20 < RSS_TARGET_MB),
    heapMax / 2 ** 20,
    (cpu.user + cpu.system) / 1000 / Math.max(1, writes),
    writes / (writeMs / 1000),
    slowestWrite,
  ]);
  store.close();
  await http.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nbench:scheduler — ${SIM_MINUTES} simulated minutes at ${SPEED}× real time, streaming probes against the simulator`);
console.log('skew = start of the first attempt − planned slot, in real ms (includes timer latency and event-loop lag)');
console.log('writes/s = store insert throughput while inserting (one commit per result, as the daemon does)\n');
console.log(table(rows));
await sim.stop();
process.exitCode = missedTarget ? 1 : 0;
