// Added latency of the chaos proxy with no fault active: the same requests straight to the simulator and through
// the proxy, in alternating phases, at 1 and 200 concurrent. Figures are (through proxy) − (direct) per
// percentile, for the non-streaming total and the streaming time to first token.
// Run: npm exec -- node bench/proxy.ts [concurrency…]   (default 1 200)
//
// Three threads so no two share an event loop: the simulator (worker), the proxy (worker) and the client (main,
// Vigil's own undici-based HTTP client, timings from its per-phase marks minus client-side queueing).
// The simulator answers with fixed latency (no jitter, no diurnal curve): headers 50 ms, first token 100 ms.
// "steady": N clients in a closed loop, starts spread over one latency period (N requests always in flight).
// "burst": N requests fired at the same instant, the worst case for a single-threaded proxy (they queue on
// its event loop: the added latency of the last one is N × the proxy's CPU cost per request).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createHttpClient, queuedMs, readBodyText, warmUp } from '../src/http/client.ts';
import type { VigilMarks } from '../src/http/client.ts';
import { readSse } from '../src/http/sse.ts';
import type { HttpClient } from '../src/http/types.ts';

const SIM_TTFT_MS = 100;
const SIM_LATENCY = { latency: { ttfbMs: 50, ttftMs: SIM_TTFT_MS, perTokenMs: 5, jitter: 0, diurnal: null } };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const TIMEOUTS = { connectMs: 5_000, firstByteMs: 20_000, totalMs: 30_000 };

// ---- workers ----

async function worker(): Promise<void> {
  const role = (workerData as { role: string }).role;
  if (role === 'sim') {
    const { startSimFleet } = await import('../src/sim/index.ts');
    const fleet = await startSimFleet({ behaviour: SIM_LATENCY });
    parentPort!.postMessage({ url: fleet.urls.openai });
  } else {
    const { startChaosProxy } = await import('../src/chaos/proxy.ts');
    const proxy = await startChaosProxy({ upstreams: { openai: { kind: 'openai', baseUrl: (workerData as { upstream: string }).upstream } } });
    let elu = performance.eventLoopUtilization();
    parentPort!.on('message', (m: string) => {
      // Event-loop utilisation of the proxy thread since the last ask: how busy the proxy was, and for how long.
      if (m === 'elu') {
        const now = performance.eventLoopUtilization();
        const d = performance.eventLoopUtilization(now, elu);
        parentPort!.postMessage({ elu: d.utilization, activeMs: d.active });
        elu = now;
      }
    });
    parentPort!.postMessage({ url: proxy.upstreamUrl('openai') });
  }
}

function spawn(data: Record<string, unknown>): Promise<{ worker: Worker; url: string }> {
  const w = new Worker(new URL(import.meta.url), { workerData: data });
  return new Promise((resolve, reject) => {
    w.once('message', (m: { url: string }) => resolve({ worker: w, url: m.url }));
    w.once('error', reject);
  });
}

// ---- client ----

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const BODY = (stream: boolean) =>
  JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Reply with the single word: pong' }],
    max_tokens: 5,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  });

/** One request; returns total (non-stream) or time to the first content event (stream), in ms. */
async function once(client: HttpClient, base: string, stream: boolean): Promise<number> {
  const res = await client.request({
    url: `${base}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    body: BODY(stream),
    timeouts: TIMEOUTS,
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  const q = queuedMs(res.marks as VigilMarks);
  if (!stream) {
    await readBodyText(res);
    return res.marks.totalMs! - q;
  }
  let ttft: number | null = null;
  for await (const ev of readSse(res)) if (ttft === null && ev.data.includes('"content":"pong"')) ttft = ev.at;
  if (ttft === null) throw new Error('no content event');
  return ttft - q;
}

interface Row {
  mode: string;
  load: string;
  concurrency: number;
  n: number;
  direct: { p50: number; p99: number };
  proxy: { p50: number; p99: number };
  elu: number;
  cpuUsPerReq: number;
}

function askElu(w: Worker): Promise<{ elu: number; activeMs: number }> {
  return new Promise((r) => {
    w.once('message', (m: { elu: number; activeMs: number }) => r(m));
    w.postMessage('elu');
  });
}

/** `concurrency` clients in a closed loop for `ms`, their starts spread over one latency period. */
async function steady(client: HttpClient, base: string, stream: boolean, concurrency: number, ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      await sleep((i * SIM_TTFT_MS) / concurrency);
      while (performance.now() < end) out.push(await once(client, base, stream));
    }),
  );
  return out;
}

async function burst(client: HttpClient, base: string, stream: boolean, concurrency: number): Promise<number[]> {
  const out = await Promise.all(Array.from({ length: concurrency }, () => once(client, base, stream)));
  await sleep(SIM_TTFT_MS); // let sockets settle between bursts
  return out;
}

async function measure(client: HttpClient, direct: string, proxied: string, proxyWorker: Worker, stream: boolean, concurrency: number, load: 'steady' | 'burst'): Promise<Row> {
  const d: number[] = [];
  const p: number[] = [];
  const phases = load === 'steady' ? 6 : Math.max(4, Math.ceil(2000 / concurrency));
  const phaseMs = concurrency === 1 ? 2500 : 1500;
  const run = (base: string) => (load === 'steady' ? steady(client, base, stream, concurrency, phaseMs) : burst(client, base, stream, concurrency));
  // Warm both paths (sockets, JIT) at this concurrency, then alternate which goes first so drift hits both equally.
  await burst(client, direct, stream, concurrency);
  await burst(client, proxied, stream, concurrency);
  let proxyActiveMs = 0;
  let proxyWallMs = 0;
  for (let i = 0; i < phases; i++) {
    for (const which of i % 2 === 0 ? ['d', 'p'] : ['p', 'd']) {
      if (which === 'd') {
        d.push(...(await run(direct)));
        continue;
      }
      await askElu(proxyWorker);
      const t0 = performance.now();
      p.push(...(await run(proxied)));
      proxyWallMs += performance.now() - t0;
      proxyActiveMs += (await askElu(proxyWorker)).activeMs;
    }
  }
  d.sort((a, b) => a - b);
  p.sort((a, b) => a - b);
  return {
    mode: stream ? 'stream TTFT' : 'non-stream total',
    load,
    concurrency,
    n: Math.min(d.length, p.length),
    direct: { p50: percentile(d, 50), p99: percentile(d, 99) },
    proxy: { p50: percentile(p, 50), p99: percentile(p, 99) },
    elu: proxyActiveMs / proxyWallMs,
    cpuUsPerReq: (proxyActiveMs * 1000) / p.length,
  };
}

const f = (n: number) => n.toFixed(2).padStart(7);

async function main(): Promise<void> {
  const levels = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const concurrencies = levels.length > 0 ? levels : [1, 200];
  const sim = await spawn({ role: 'sim' });
  const proxy = await spawn({ role: 'proxy', upstream: sim.url });
  const client = createHttpClient({ keepAliveTimeoutMs: 20_000 });
  await warmUp(client);
  const rows: Row[] = [];
  try {
    for (const c of concurrencies) {
      for (const stream of [false, true]) rows.push(await measure(client, sim.url, proxy.url, proxy.worker, stream, c, 'steady'));
    }
    for (const c of concurrencies.filter((x) => x > 1)) {
      for (const stream of [false, true]) rows.push(await measure(client, sim.url, proxy.url, proxy.worker, stream, c, 'burst'));
    }
  } finally {
    await client.close();
    await Promise.all([sim.worker.terminate(), proxy.worker.terminate()]);
  }
  const lines = [
    `chaos proxy added latency (no fault); simulator at fixed latency (headers 50 ms, first token ${SIM_TTFT_MS} ms); loopback; Node ${process.version}`,
    '',
    'mode             load   conc     n | direct p50     p99 |  proxy p50     p99 | added p50     p99 | ratio p50    p99 | proxy ELU  CPU/req',
    '-----------------------------------+-----------------+-----------------+-------------------+------------------+------------------',
  ];
  for (const r of rows) {
    lines.push(
      `${r.mode.padEnd(16)} ${r.load.padEnd(6)} ${String(r.concurrency).padStart(4)} ${String(r.n).padStart(5)} | ${f(r.direct.p50)} ${f(r.direct.p99)} | ${f(r.proxy.p50)} ${f(r.proxy.p99)} | ${f(r.proxy.p50 - r.direct.p50)} ${f(r.proxy.p99 - r.direct.p99)} | ${(r.proxy.p50 / r.direct.p50).toFixed(3).padStart(8)} ${(r.proxy.p99 / r.direct.p99).toFixed(3).padStart(6)} | ${(r.elu * 100).toFixed(0).padStart(6)} % ${r.cpuUsPerReq.toFixed(0).padStart(5)} µs`,
    );
  }
  lines.push(
    '',
    'ms; added = proxy − direct at the same percentile; ratio = proxy / direct; ELU = share of time the proxy thread was busy;',
    'CPU/req = proxy event-loop busy time per proxied request (the queueing delay a burst of N adds is about N × this).',
  );
  process.stdout.write(lines.join('\n') + '\n');
}

if (isMainThread) await main();
else await worker();
