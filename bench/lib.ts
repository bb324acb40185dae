// Shared helpers for benchmarks: percentiles, a simulator in its own process, table printing.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../..');

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summary(values: readonly number[]): { n: number; p50: number; p95: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/** The verdict printed beside a figure: every bench says whether it met its target. */
export function judge(ok: boolean): 'met' | 'missed' {
  return ok ? 'met' : 'missed';
}

export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export interface SimProcess {
  urls: Record<string, string>;
  /** The simulator process's performance.timeOrigin: its performance.now() stamps + this = epoch ms. */
  timeOrigin: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The simulator in a child process, so its event loop and GC don't share a thread with the client being measured.
 * `behaviour` is a merge patch applied to the three providers (e.g. fixed latency, no jitter, no diurnal curve).
 */
export async function startSimProcess(behaviour: unknown, opts: { seed?: number; logCapacity?: number } = {}): Promise<SimProcess> {
  const script = `
    import { startSimFleet } from ${JSON.stringify(resolve(ROOT, 'src/sim/fleet.ts'))};
    const fleet = await startSimFleet({ seed: ${opts.seed ?? 1}, logCapacity: ${opts.logCapacity ?? 50_000}, behaviour: JSON.parse(process.env.SIM_BEHAVIOUR) });
    process.stdout.write(JSON.stringify({ urls: fleet.urls, timeOrigin: performance.timeOrigin }) + '\\n');
    process.on('SIGTERM', () => fleet.close().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, SIM_BEHAVIOUR: JSON.stringify(behaviour) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = await new Promise<{ urls: Record<string, string>; timeOrigin: number }>((resolveUrls, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolveUrls(JSON.parse(buf.slice(0, nl)));
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return {
    urls: started.urls,
    timeOrigin: started.timeOrigin,
    child,
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * A clock that runs `speed` times faster than real time, so a simulated hour takes minutes. Durations the
 * probe measures (monotonic) stay real; lateness in simulated ms divided by `speed` is real lateness.
 */
export function scaledClock(speed: number, start = Date.now()) {
  const p0 = performance.now();
  return {
    speed,
    now: () => start + (performance.now() - p0) * speed,
    monotonic: () => performance.now(),
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolveSleep, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const t = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolveSleep();
        }, Math.max(0, ms / speed));
        const onAbort = () => {
          clearTimeout(t);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
}
