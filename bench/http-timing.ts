// Timing accuracy of src/http at a given concurrency, against an SSE server in a worker thread that knows
// the truth. Run: npm exec -- node bench/http-timing.ts [concurrency…]   (default 1 50 500)
//
// Two error figures per phase (TTFB = headers, TTFT = first event, total = body end), each p50 / p99 / max:
//   vs injected  measured minus the injected delay: what a probe would report wrong. Includes connect,
//                the server's own timer lateness and the loop lag of whichever thread is busier.
//   minus queue  the same minus `queuedMs(marks)` (client-side wait before the request reached the wire:
//                pool / undici's idle-socket check, large when hundreds of probes are dispatched in one tick).
//   stamp lag    our stamp minus the moment the server thread actually wrote those bytes (absolute clocks,
//                `performance.timeOrigin + now()` on both threads): the client's own share of the error.
// Also CPU per probe (main thread: client only, the server has its own thread).
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpClient, warmUp } from '../src/http/client.ts';
import { readSse } from '../src/http/sse.ts';
import { queuedMs } from '../src/http/client.ts';
import type { VigilMarks } from '../src/http/client.ts';

const HEADERS_MS = 100;
const CHUNK_MS = 50;
const END_MS = 100;
const abs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Truth {
  arrivedAt: number;
  headersAt: number;
  chunkAt: number;
  endAt: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(values: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, n: s.length };
}

// ---- server (worker thread) ----
function serve(): void {
  const server = createServer(async (req, res) => {
    req.resume();
    const arrivedAt = abs();
    const id = String(req.headers['x-bench-id']);
    await sleep(HEADERS_MS);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const headersAt = abs();
    await sleep(CHUNK_MS);
    res.write('data: {"delta":"pong"}\n\n');
    const chunkAt = abs();
    await sleep(END_MS);
    res.end('data: [DONE]\n\n');
    const endAt = abs();
    parentPort!.postMessage({ id, arrivedAt, headersAt, chunkAt, endAt });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => parentPort!.postMessage({ port: (server.address() as AddressInfo).port }));
}

// ---- client (main thread) ----
export async function measure(concurrency: number, rounds = 3) {
  const worker = new Worker(new URL(import.meta.url));
  const truths = new Map<string, Truth>();
  const waiters = new Map<string, (t: Truth) => void>();
  const port: number = await new Promise((r) => worker.once('message', (m) => r(m.port)));
  worker.on('message', (m: Truth & { id: string }) => {
    const w = waiters.get(m.id);
    if (w) w(m);
    else truths.set(m.id, m);
  });
  const truthOf = (id: string) =>
    truths.get(id) ?? new Promise<Truth>((r) => waiters.set(id, r));

  const client = createHttpClient({ keepAliveTimeoutMs: 20_000 });
  const url = `http://127.0.0.1:${port}/v1/chat/completions`;
  await warmUp(client);
  const err = { ttfb: [] as number[], ttft: [] as number[], total: [] as number[] };
  const errQ = { ttfb: [] as number[], ttft: [] as number[], total: [] as number[] };
  const where = { sent: [] as number[], toServer: [] as number[], serverLate: [] as number[] };
  const lag = { ttfb: [] as number[], ttft: [] as number[], total: [] as number[] };
  let seq = 0;
  let record = false;
  let reused = 0;

  async function probe(): Promise<void> {
    const id = String(seq++);
    const res = await client.request({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-bench-id': id },
      body: '{"stream":true}',
      timeouts: { connectMs: 5_000, firstByteMs: 10_000, totalMs: 20_000 },
    });
    const t0 = abs() - res.elapsed();
    let ttft: number | null = null;
    for await (const ev of readSse(res)) if (ttft === null) ttft = ev.at;
    const truth = await truthOf(id);
    if (!record) return;
    const m = res.marks as VigilMarks;
    err.ttfb.push(m.ttfbMs! - HEADERS_MS);
    err.ttft.push(ttft! - HEADERS_MS - CHUNK_MS);
    err.total.push(m.totalMs! - HEADERS_MS - CHUNK_MS - END_MS);
    const q = queuedMs(m);
    errQ.ttfb.push(m.ttfbMs! - q - HEADERS_MS);
    errQ.ttft.push(ttft! - q - HEADERS_MS - CHUNK_MS);
    errQ.total.push(m.totalMs! - q - HEADERS_MS - CHUNK_MS - END_MS);
    if (m.reused) reused++;
    where.sent.push(m.sentMs ?? NaN);
    where.toServer.push(truth.arrivedAt - t0);
    where.serverLate.push(truth.headersAt - truth.arrivedAt - HEADERS_MS);
    lag.ttfb.push(t0 + m.ttfbMs! - truth.headersAt);
    lag.ttft.push(t0 + ttft! - truth.chunkAt);
    lag.total.push(t0 + m.totalMs! - truth.endAt);
  }

  // An unrecorded round opens the sockets and warms the server thread; the recorded rounds reuse them.
  await Promise.all(Array.from({ length: concurrency }, probe));
  await new Promise((res) => setImmediate(res));
  record = true;
  const cpu0 = process.threadCpuUsage();
  for (let r = 0; r < rounds; r++) {
    await Promise.all(Array.from({ length: concurrency }, probe));
    await new Promise((res) => setImmediate(res));
  }
  const cpu = process.threadCpuUsage(cpu0);
  await client.close();
  await worker.terminate();
  const n = concurrency * rounds;
  return {
    concurrency,
    probes: n,
    reused,
    cpuUsPerProbe: Math.round((cpu.user + cpu.system) / n),
    vsInjected: { ttfb: summarize(err.ttfb), ttft: summarize(err.ttft), total: summarize(err.total) },
    minusQueue: { ttfb: summarize(errQ.ttfb), ttft: summarize(errQ.ttft), total: summarize(errQ.total) },
    where: { sent: summarize(where.sent), toServer: summarize(where.toServer), serverLate: summarize(where.serverLate) },
    stampLag: { ttfb: summarize(lag.ttfb), ttft: summarize(lag.ttft), total: summarize(lag.total) },
  };
}

function fmt(s: { p50: number; p99: number; max: number }): string {
  return `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} / ${s.max.toFixed(2)}`;
}

if (!isMainThread) {
  serve();
} else if (import.meta.main) {
  const levels = process.argv.slice(2).map(Number);
  console.log('ms, p50 / p99 / max');
  for (const c of levels.length ? levels : [1, 50, 500]) {
    const r = await measure(c, c === 1 ? 20 : 3);
    console.log(`\nconcurrency ${c} (${r.probes} probes, ${r.reused} on reused sockets, ${r.cpuUsPerProbe} µs CPU/probe in the client thread)`);
    console.log(`  request start → written ${fmt(r.where.sent)}, → at server ${fmt(r.where.toServer)}, server timer late ${fmt(r.where.serverLate)}`);
    for (const k of ['ttfb', 'ttft', 'total'] as const) {
      // The target is the probe-timing one (issue 17): the client's own share of the error, p99 < 2 ms.
      const ok = r.stampLag[k].p99 < 2;
      if (!ok) process.exitCode = 1;
      console.log(
        `  ${k.padEnd(5)}  vs injected ${fmt(r.vsInjected[k]).padEnd(24)} minus queue ${fmt(r.minusQueue[k]).padEnd(24)} stamp lag ${fmt(r.stampLag[k])}  target stamp lag p99 < 2 ms: ${ok ? 'met' : 'missed'}`,
      );
    }
  }
}
