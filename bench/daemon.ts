// The whole daemon's memory and start-up: `vigil run` in its own process, with N generated probes, against the
// simulator in another process (real detectors, metrics, store and server; nothing mocked).
// Run: npm run bench:daemon [-- --sizes 1000,10000 --seconds 150 --startup 10000 --history-days 14]
//
// Memory: for each size, RSS of the daemon process is sampled every second (/proc/<pid>/status: VmRSS; the
// kernel's high-water mark VmHWM is the peak, so no spike between samples is missed). "steady" is the median of
// the last third of the samples. Every probe runs at least once in the window (interval ≤ window / 1.2), so
// every probe's detector state exists. The floor is the same daemon with 3 probes, measured in the same run.
// Start-up: a store seeded directly with `history-days` of results for N probes (plus the detector states and
// rollups a running daemon would have saved), then the time from spawn to the first 200 from /readyz.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadRunConfig } from '../src/config/run-load.ts';
import type { ProbeResult, ProbeSpec } from '../src/domain.ts';
import { DriftWatch } from '../src/detectors/drift-watch.ts';
import { AvailabilityDetector } from '../src/detectors/availability.ts';
import { saveAvailability } from '../src/detectors/availability-persist.ts';
import { LatencyWatch } from '../src/detectors/latency/watch.ts';
import { hourFloor, Store } from '../src/store/store.ts';
import { makeResult } from '../test/fixtures.ts';
import { judge, ROOT, startSimProcess, table } from './lib.ts';
import { createRng } from '../src/sim/rng.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    seconds: { type: 'string', default: '150' },
    startup: { type: 'string', default: '10000' },
    'history-days': { type: 'string', default: '14' },
    'history-every': { type: 'string', default: '10800' },
    'skip-memory': { type: 'boolean', default: false },
    /** vigil.yaml `scheduler.probe_threads` (default: the daemon's default). */
    'probe-threads': { type: 'string', default: '' },
    /**
     * Timing inside the daemon: N probes (every N/100 s) against a simulator with a fixed time to first token, with
     * /metrics scraped every 5 s, once with probe calls on a thread (the default) and once on the daemon's loop.
     */
    timing: { type: 'string', default: '0' },
    /** Seed no saved availability streaks (a store from before they were saved: each probe's newest rows are read). */
    'no-availability-state': { type: 'boolean', default: false },
    /**
     * The detectors' state after days of results, not minutes: buffers that fill over a guard or slack window
     * (drift guards, resume identities) are empty in a two-minute run. In this process, simulated time.
     */
    'state-probes': { type: 'string', default: '1000' },
    'state-days': { type: 'string', default: '3' },
    /** During the memory runs, scrape `/metrics` every this many seconds, as Prometheus would (0: never). */
    scrape: { type: 'string', default: '15' },
    /** Keep the seeded start-up store and config (its path is printed) to profile a start by hand. */
    keep: { type: 'boolean', default: false },
  },
});
const SIZES = values.sizes.split(',').filter(Boolean).map(Number);
const SECONDS = Number(values.seconds);
const STARTUP_N = Number(values.startup);
const HISTORY_DAYS = Number(values['history-days']);
const HISTORY_EVERY_S = Number(values['history-every']);
const RSS_TARGET_MB = 300;
const STARTUP_TARGET_S = 5;
const MB = 1024 * 1024;

const kinds = ['openai', 'anthropic', 'gemini'] as const;
const models: Record<(typeof kinds)[number], string> = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5', gemini: 'gemini-2.5-flash' };

// Fast, steady answers: the bench measures Vigil's memory, not the simulator's delays.
const sim = await startSimProcess({ latency: { ttfbMs: 5, ttftMs: 20, perTokenMs: 1, jitter: 0.1, diurnal: null } }, { logCapacity: 1_000 });
const env = {
  ...process.env,
  OPENAI_BASE_URL: sim.urls.openai,
  ANTHROPIC_BASE_URL: sim.urls.anthropic,
  GEMINI_BASE_URL: sim.urls.gemini,
  GATEWAY_BASE_URL: sim.urls.litellm,
  OPENAI_API_KEY: 'bench',
  ANTHROPIC_API_KEY: 'bench',
  GEMINI_API_KEY: 'bench',
  GATEWAY_API_KEY: 'bench',
  VIGIL_LOG_FORMAT: 'json',
  // info: the daemon's default, and the level that says 'vigil running' with its URL.
  VIGIL_LOG_LEVEL: 'info',
};

/** A config dir with n streaming canaries spread over the three providers, every `everyS` seconds. */
function writeConfig(n: number, everyS: number, threads: string = values['probe-threads'], tagged = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-daemon-'));
  writeFileSync(
    join(dir, 'vigil.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: { path: ./vigil.db, raw_retention: 14d, rollup_retention: 400d }
scheduler: { confirm_failures: 1, concurrency_per_provider: 64, shutdown_grace: 2s${threads ? `, probe_threads: ${Number(threads)}` : ''} }
providers:
  openai: { kind: openai, base_url: "\${OPENAI_BASE_URL}", api_key: "\${OPENAI_API_KEY}" }
  anthropic: { kind: anthropic, base_url: "\${ANTHROPIC_BASE_URL}", api_key: "\${ANTHROPIC_API_KEY}" }
  gemini: { kind: gemini, base_url: "\${GEMINI_BASE_URL}", api_key: "\${GEMINI_API_KEY}" }
gateway: { flavour: litellm, base_url: "\${GATEWAY_BASE_URL}", api_key: "\${GATEWAY_API_KEY}" }
`,
  );
  mkdirSync(join(dir, 'probes'));
  const lines = ['probes:'];
  for (let i = 0; i < n; i++) {
    const k = kinds[i % 3];
    lines.push(
      `  - { id: p${i}, owner: platform, target: "provider:${k}", model: ${models[k]}, every: ${everyS}s, stream: true, prompt: "Reply with the single word: pong", max_tokens: 5, assert: [{ contains: pong }]${tagged ? `, headers: { x-sim-tag: p${i} }` : ''} }`,
    );
  }
  writeFileSync(join(dir, 'probes', 'bench.yaml'), lines.join('\n') + '\n');
  return dir;
}

/** How the daemon says it runs (its `runtime` log line: src/runtime/reexec.ts), printed beside the figures. */
let runtimeNote = '';

interface Running {
  child: ChildProcess;
  url: Promise<string>;
  spawnedAt: number;
  stderrTail: string[];
}

function startDaemon(dir: string): Running {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'src/main.ts'), 'run', '-c', dir, '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderrTail: string[] = [];
  const url = new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        try {
          const o = JSON.parse(line) as { msg?: string; url?: string; flags?: string[]; compileCache?: string | null; mallocArenas?: string | null };
          if (o.msg === 'vigil running' && o.url) resolve(o.url);
          if (o.msg === 'runtime') runtimeNote = `heap flags: ${o.flags?.join(' ') || "Node's defaults"}; compile cache: ${o.compileCache ? 'on' : 'off'}; malloc arenas: ${o.mallocArenas ?? "glibc's default"}`;
        } catch {
          // not a log line
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`vigil run exited with ${code}:\n${stderrTail.join('\n')}`)));
  });
  url.catch(() => {});
  return { child, url, spawnedAt, stderrTail };
}

async function stopDaemon(r: Running): Promise<void> {
  if (r.child.exitCode !== null) return;
  await new Promise<void>((done) => {
    r.child.once('exit', () => done());
    r.child.kill('SIGTERM');
  });
}

/** RSS and its high-water mark of a process, in MB (Linux /proc). */
function memOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** CPU time of a process so far (user + system, all its threads), in seconds (Linux /proc; ticks of 1/100 s). */
function cpuOf(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Time from spawn until /readyz answers 200, polling every 25 ms once the server is listening. */
async function timeToReady(r: Running): Promise<number> {
  const url = await Promise.race([r.url, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no 'vigil running' after 300 s:\n${r.stderrTail.join('\n')}`)), 300_000).unref())]);
  for (;;) {
    const res = await fetch(`${url}/readyz`).catch(() => null);
    await res?.body?.cancel();
    if (res?.status === 200) return (performance.now() - r.spawnedAt) / 1000;
    await new Promise((s) => setTimeout(s, 25));
  }
}

async function countResults(dir: string): Promise<number> {
  const store = Store.open(join(dir, 'vigil.db'));
  try {
    return await store.countResults({});
  } finally {
    await store.close();
  }
}

const SCRAPE_S = Number(values.scrape);

interface Scrapes {
  count: number;
  /** Body size of the last scrape, MB. */
  mb: number;
  /** Time to the last byte, ms, each scrape. */
  ms: number[];
}

/** Scrape `/metrics` every SCRAPE_S seconds until `stop` resolves (a Prometheus server's load on the daemon). */
async function scrapeUntil(url: string, stop: Promise<void>): Promise<Scrapes> {
  const out: Scrapes = { count: 0, mb: 0, ms: [] };
  if (!(SCRAPE_S > 0)) return out;
  let done = false;
  void stop.then(() => (done = true));
  while (!done) {
    const t0 = performance.now();
    const res = await fetch(`${url}/metrics`).catch(() => null);
    if (res) {
      let bytes = 0;
      for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
      out.count++;
      out.mb = bytes / 1e6;
      out.ms.push(performance.now() - t0);
    }
    await Promise.race([stop, new Promise((r) => setTimeout(r, SCRAPE_S * 1000))]);
  }
  return out;
}

function scrapeNote(s: Scrapes): string {
  if (s.count === 0) return '/metrics not scraped';
  const sorted = [...s.ms].sort((a, b) => a - b);
  return `/metrics scraped ${s.count}× every ${SCRAPE_S} s (${s.mb.toFixed(1)} MB, ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms p50, ${sorted.at(-1)!.toFixed(0)} ms max)`;
}

async function memoryRun(n: number): Promise<{ ready: number; atReady: number; peak: number; steady: number; results: number; everyS: number; scrapes: Scrapes; cpuShare: number }> {
  // Every probe runs at least once in the window; the real rate stays what two shared cores can serve.
  const everyS = Math.max(30, Math.min(Math.floor(SECONDS / 1.2), Math.ceil(n / 100)));
  const dir = writeConfig(n, everyS);
  const d = startDaemon(dir);
  try {
    const ready = await timeToReady(d);
    const atReady = memOf(d.child.pid!)?.rss ?? NaN;
    const samples: number[] = [];
    let hwm = 0;
    let stopScraping = () => {};
    const scraping = scrapeUntil(await d.url, new Promise<void>((r) => (stopScraping = r)));
    const cpu0 = cpuOf(d.child.pid!);
    const end = performance.now() + SECONDS * 1000;
    while (performance.now() < end) {
      await new Promise((s) => setTimeout(s, 1000));
      const m = memOf(d.child.pid!);
      if (!m) throw new Error(`daemon gone:\n${d.stderrTail.join('\n')}`);
      samples.push(m.rss);
      hwm = m.hwm;
    }
    // What the memory costs in CPU: the daemon's share of one core over the window (a smaller heap collects more often).
    const cpuShare = (cpuOf(d.child.pid!) - cpu0) / SECONDS;
    stopScraping();
    const scrapes = await scraping;
    await stopDaemon(d);
    const results = await countResults(dir);
    return { ready, atReady, peak: hwm, steady: median(samples.slice(Math.floor((samples.length * 2) / 3))), results, everyS, scrapes, cpuShare };
  } finally {
    await stopDaemon(d);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A streaming "pong" canary's attempt for `spec` started at `t`, first token after `ttft` ms; or a 500 when failed. */
function canaryResult(spec: ProbeSpec, t: number, ttft: number, o: { failed?: boolean; tokensOut?: number } = {}): ProbeResult {
  const failed = o.failed ?? false;
  return makeResult({
    probeId: spec.id,
    startedAt: t,
    target: spec.target,
    provider: spec.target.replace('provider:', '') as ProbeResult['provider'],
    requestedModel: spec.model,
    servedModel: spec.model,
    outcome: failed ? 'failed' : 'ok',
    errorClass: failed ? 'server_error' : null,
    httpStatus: failed ? 500 : 200,
    ...(o.tokensOut === undefined ? {} : { tokensOut: o.tokensOut }),
    timings: { connectMs: 0, tlsMs: null, ttfbMs: ttft - 50, ttftMs: failed ? null : ttft, totalMs: ttft + 40, outputTokensPerSec: null },
    excerpt: failed ? '' : 'pong',
    assertions: [{ assertion: 'contains "pong"', passed: !failed, detail: '', soft: false }],
  });
}

/**
 * A store with `days` of history for n probes, as a running daemon would have left it: raw results, hourly
 * rollups, and the detectors' saved states (made by feeding the same results through the daemon's own watchers).
 */
async function seedHistory(dir: string, n: number, days: number, everyS: number): Promise<{ rows: number; seconds: number }> {
  const t0 = performance.now();
  const { config } = loadRunConfig(dir, env, {});
  if (!config) throw new Error('bench config did not load');
  const store = Store.open(join(dir, 'vigil.db'));
  const latency = new LatencyWatch(store);
  const now = Date.now();
  const from = now - days * 86_400_000;
  await latency.sync(config.probes, from);
  const drift = new DriftWatch(config);
  await drift.restore(store, from, config.location);
  const availability = new AvailabilityDetector();
  for (const p of config.probes) availability.seed(p.id, []);
  const rng = createRng(7);
  let rows = 0;
  const batch: ProbeResult[] = [];
  for (let t = from; t < now; t += everyS * 1000) {
    for (let i = 0; i < n; i++) {
      const spec = config.probes[i];
      const slot = t + Math.floor((i / n) * everyS * 1000);
      if (slot >= now) continue;
      const hour = new Date(slot).getUTCHours();
      const ttft = 300 + 80 * Math.sin((hour / 24) * 2 * Math.PI) + 40 * rng();
      const r = canaryResult(spec, slot, ttft, { failed: rng() < 0.002 });
      latency.observe(r);
      drift.observe(r);
      availability.observe(spec, r);
      batch.push(r);
      rows++;
    }
    if (batch.length >= 20_000) await store.insertResults(batch.splice(0));
  }
  if (batch.length) await store.insertResults(batch.splice(0));
  await store.rollup(hourFloor(now));
  await latency.save(now);
  await drift.save(store, now, config.location);
  if (!values['no-availability-state']) await saveAvailability(store, availability, config.probes, config.location, now);
  await store.close();
  return { rows, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Heap held per probe by the detectors (latency, drift, availability) after two results each (what the RSS run
 * sees) and after `days` of results every minute, fed in simulated time: the growth the RSS run cannot see.
 */
async function stateGrowth(n: number, days: number): Promise<{ earlyKb: number; lateKb: number; results: number; seconds: number }> {
  const t0 = performance.now();
  // A full collection before each reading, without the bench needing to be started with --expose-gc; and no
  // bytecode flushing, so code unused since start-up leaving the heap does not read as state shrinking.
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--expose-gc');
  v8.setFlagsFromString('--no-flush-bytecode');
  const gc = (await import('node:vm')).runInNewContext('gc') as () => void;
  const dir = writeConfig(n, 60);
  try {
    const { config } = loadRunConfig(dir, env, {});
    if (!config) throw new Error('bench config did not load');
    const store = Store.open(join(dir, 'vigil.db'));
    const start = Date.UTC(2026, 0, 5);
    const rng = createRng(11);
    let results = 0;
    const watchers = async () => {
      const latency = new LatencyWatch(store);
      await latency.sync(config.probes, start);
      const drift = new DriftWatch(config);
      const availability = new AvailabilityDetector();
      for (const p of config.probes) availability.seed(p.id, []);
      return { latency, drift, availability };
    };
    // The same days through a throw-away set of watchers first: the code is compiled and optimised before the
    // first reading, so the readings differ by state alone.
    const feed = (w: Awaited<ReturnType<typeof watchers>>, minutes: number, at?: (minute: number) => void) => {
      for (let minute = 0; minute < minutes; minute++) {
        at?.(minute);
        for (let i = 0; i < n; i++) {
          const spec = config.probes[i];
          const t = start + minute * 60_000 + Math.floor((i / n) * 60_000);
          const ttft = 300 + 80 * Math.sin(((t / 3_600_000) % 24) / 24 * 2 * Math.PI) + 40 * rng();
          const r = canaryResult(spec, t, ttft, { tokensOut: 1 + Math.floor(rng() * 3) });
          w.latency.observe(r);
          w.drift.observe(r);
          w.availability.observe(spec, r);
          results++;
        }
      }
    };
    // In its own call, so nothing of it stays reachable from this frame.
    const warm = async () => feed(await watchers(), Math.min(days * 1440, 600));
    await warm();
    // The heap and the array buffers (the latency baselines are Float32Arrays, outside the heap).
    const used = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = used();
    const held = () => (used() - base) / 1024 / n;
    let earlyKb = NaN;
    const w = await watchers();
    feed(w, days * 1440, (minute) => {
      if (minute === 2) earlyKb = held();
    });
    const lateKb = held();
    // Kept alive until read.
    if (!w.latency.stateOf(config.probes[0].id)) throw new Error('no latency state');
    await store.close();
    return { earlyKb, lateKb, results, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const out: (string | number)[][] = [['figure', 'probes', 'value', 'target', 'verdict', 'detail']];
/** Each figure as soon as it is measured (a long run interrupted still shows what it measured), the table at the end. */
const push = (row: (string | number)[]) => {
  out.push(row);
  console.log(row.map((c) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(2)) : c)).join(' | '));
};
let failed = false;
const verdict = (ok: boolean) => {
  if (!ok) failed = true;
  return judge(ok);
};

const STATE_N = Number(values['state-probes']);
const STATE_DAYS = Number(values['state-days']);
const growth = STATE_N > 0 ? await stateGrowth(STATE_N, STATE_DAYS) : null;
if (growth) {
  push([
    `detector state growth, kB per probe (2 min → ${STATE_DAYS} d)`,
    STATE_N,
    growth.lateKb - growth.earlyKb,
    '-',
    '-',
    `${growth.earlyKb.toFixed(1)} kB after 2 results, ${growth.lateKb.toFixed(1)} kB after ${STATE_DAYS} d every 60 s (${growth.results.toLocaleString('en')} results simulated in ${growth.seconds.toFixed(0)} s)`,
  ]);
}

if (!values['skip-memory']) {
  const floor = await memoryRun(3);
  console.log(`vigil run: ${runtimeNote || 'no runtime line'}`);
  push(['RSS steady (floor: 3 probes)', 3, floor.steady, '-', '-', `peak ${floor.peak.toFixed(0)} MB, ready in ${floor.ready.toFixed(2)} s, ${floor.results} results`]);
  for (const n of SIZES) {
    const m = await memoryRun(n);
    const perProbeKb = ((m.steady - floor.steady) * 1024) / n;
    push(['RSS at ready, MB', n, m.atReady, '-', '-', `ready ${m.ready.toFixed(2)} s after spawn`]);
    push(['RSS peak, MB', n, m.peak, `< ${RSS_TARGET_MB}`, n >= 10_000 ? verdict(m.peak < RSS_TARGET_MB) : judge(m.peak < RSS_TARGET_MB), `every ${m.everyS}s, ${m.results} results in ${SECONDS}s; ${scrapeNote(m.scrapes)}`]);
    push(['RSS steady, MB', n, m.steady, `< ${RSS_TARGET_MB}`, n >= 10_000 ? verdict(m.steady < RSS_TARGET_MB) : judge(m.steady < RSS_TARGET_MB), `${perProbeKb.toFixed(1)} kB per probe above the floor; daemon CPU ${(m.cpuShare * 100).toFixed(0)} % of a core`]);
    if (growth) {
      // What the same daemon would hold once every buffer has filled: the steady RSS plus the state's growth.
      const later = m.steady + (n * Math.max(0, growth.lateKb - growth.earlyKb)) / 1024;
      push([`RSS after ${STATE_DAYS} d (steady + state growth), MB`, n, later, `< ${RSS_TARGET_MB}`, n >= 10_000 ? verdict(later < RSS_TARGET_MB) : judge(later < RSS_TARGET_MB), 'projected: the growth measured in simulated time above']);
    }
  }
}

const TIMING_N = Number(values.timing);
if (TIMING_N > 0) {
  // A fixed answer time (no jitter): any spread in what the probes measure is the client's, not the simulator's.
  const TTFT_MS = 60;
  for (const u of [sim.urls.openai, sim.urls.anthropic, sim.urls.gemini]) {
    const res = await fetch(`${u}/_sim/behaviour`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latency: { ttfbMs: 5, ttftMs: TTFT_MS, perTokenMs: 2, jitter: 0 } }) });
    if (!res.ok) throw new Error(`simulator refused the latency patch: ${res.status}`);
  }
  const everyS = Math.max(10, Math.round(TIMING_N / 100));
  const window = Math.min(SECONDS, 90);
  // What the simulator did for each call: its truth log (who sent it, by the probe's `x-sim-tag` header; when it
  // read the request; when it wrote the first token), polled as the run goes (the log holds the newest 1,000).
  interface Written {
    tag: string | null;
    at: number;
    actual: { firstTokenMs: number | null };
  }
  const simUrls = [sim.urls.openai, sim.urls.anthropic, sim.urls.gemini];
  const seqs = new Map<string, number>();
  const truthByTag = new Map<string, Written[]>();
  const pollTruth = async () => {
    for (const u of simUrls) {
      const since = seqs.get(u) ?? 0;
      const res = await fetch(`${u}/_sim/requests?since=${since}`);
      const body = (await res.json()) as { requests: (Written & { seq: number })[]; lastSeq: number };
      for (const r of body.requests) {
        if (!r.tag) continue;
        let l = truthByTag.get(r.tag);
        if (!l) truthByTag.set(r.tag, (l = []));
        l.push(r);
      }
      seqs.set(u, body.lastSeq);
    }
  };
  for (const threads of ['1', '0']) {
    const dir = writeConfig(TIMING_N, everyS, threads, true);
    const d = startDaemon(dir);
    try {
      await timeToReady(d);
      const url = await d.url;
      await pollTruth(); // skip what came before this daemon
      truthByTag.clear();
      const t0 = Date.now();
      let scrapes = 0;
      let scrapeMs = 0;
      while (Date.now() - t0 < window * 1000) {
        const s0 = performance.now();
        const res = await fetch(`${url}/metrics`);
        await res.text();
        scrapeMs += performance.now() - s0;
        scrapes++;
        await pollTruth();
        await new Promise((r) => setTimeout(r, 5_000));
      }
      await stopDaemon(d);
      await pollTruth();
      const store = Store.open(join(dir, 'vigil.db'));
      const rows = (await store.results({ since: t0 })).filter((r) => r.outcome === 'ok' && r.timings.ttftMs != null);
      await store.close();
      const ttft = rows.map((r) => r.timings.ttftMs!).sort((a, b) => a - b);
      const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
      const spread = q(ttft, 0.99) - q(ttft, 0.5);
      // Each stored answer against the simulator's record of the same call (same probe, the record read nearest
      // the probe's start): error = stored TTFT − the offset at which the simulator wrote the first token after
      // reading the request. What the simulator's own timers add (it shares the two cores) is not Vigil's error.
      const err: number[] = [];
      const simSpread: number[] = [];
      for (const r of rows) {
        let best: Written | null = null;
        for (const w of truthByTag.get(r.probeId) ?? []) if (best === null || Math.abs(w.at - r.startedAt) < Math.abs(best.at - r.startedAt)) best = w;
        if (!best || best.actual.firstTokenMs == null || Math.abs(best.at - r.startedAt) > 1_000) continue;
        err.push(r.timings.ttftMs! - best.actual.firstTokenMs);
        simSpread.push(best.actual.firstTokenMs);
      }
      err.sort((a, b) => a - b);
      simSpread.sort((a, b) => a - b);
      const onThread = threads === '1';
      push([
        onThread ? 'TTFT p99 − p50, ms: probe thread (default)' : 'TTFT p99 − p50, ms: on the daemon loop',
        TIMING_N,
        spread,
        '-',
        '-',
        `TTFT p50 ${q(ttft, 0.5).toFixed(1)} / p99 ${q(ttft, 0.99).toFixed(1)} / max ${ttft.at(-1)!.toFixed(1)} ms (simulator: ${TTFT_MS} ms planned, written at p50 ${q(simSpread, 0.5).toFixed(1)} / p99 ${q(simSpread, 0.99).toFixed(1)}); ${ttft.length} answers; /metrics scraped ${scrapes}× (mean ${(scrapeMs / scrapes).toFixed(0)} ms)`,
      ]);
      const e99 = q(err, 0.99);
      push([
        onThread ? 'TTFT error p99 vs the simulator, ms: probe thread (default)' : 'TTFT error p99 vs the simulator, ms: on the daemon loop',
        TIMING_N,
        e99,
        onThread ? '< 2' : '-',
        onThread ? verdict(Math.abs(e99) < 2) : '-',
        `error p50 ${q(err, 0.5).toFixed(2)} / p99 ${e99.toFixed(2)} / max ${err.at(-1)!.toFixed(1)} ms over ${err.length} answers matched to the simulator's record of the call`,
      ]);
    } finally {
      await stopDaemon(d);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (STARTUP_N > 0) {
  const dir = writeConfig(STARTUP_N, 60);
  try {
    const seeded = await seedHistory(dir, STARTUP_N, HISTORY_DAYS, HISTORY_EVERY_S);
    const floorDir = writeConfig(3, 60);
    const f = startDaemon(floorDir);
    const floorS = await timeToReady(f);
    await stopDaemon(f);
    rmSync(floorDir, { recursive: true, force: true });
    const d = startDaemon(dir);
    const s = await timeToReady(d);
    const mem = memOf(d.child.pid!);
    await stopDaemon(d);
    push([
      `start-up to /readyz, s (${HISTORY_DAYS} d history)`,
      STARTUP_N,
      s,
      `< ${STARTUP_TARGET_S}`,
      verdict(s < STARTUP_TARGET_S),
      `floor (3 probes, empty store) ${floorS.toFixed(2)} s = ${(s / floorS).toFixed(1)}×; ${seeded.rows.toLocaleString('en')} results seeded in ${seeded.seconds.toFixed(0)} s; RSS peak at ready ${mem?.hwm.toFixed(0)} MB`,
    ]);
  } finally {
    if (values.keep) console.log(`kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await sim.stop();
console.log(`\nbench:daemon — \`vigil run\` in its own process against the simulator in another; ${SECONDS} s per size, RSS from /proc\n`);
console.log(table(out));
process.exitCode = failed ? 1 : 0;
