// Probe attempts on worker threads (src/probes/worker.ts), each with its own undici client and heap.
//
// Why: on one event loop, an answer that lands while the daemon renders /metrics, commits a batch or scavenges
// its young generation is stamped late, and thousands of calls' garbage (sockets, chunks, parsed JSON) make V8
// grow the daemon's young generation to 128 MB. On a thread, a probe is stamped by a loop that does nothing else,
// and its garbage lives and dies in a young generation bounded by `resourceLimits` (a Worker option, not a flag).
//
// A thread that dies (or is stopped) takes its in-flight attempts with it: each comes back as Vigil's own fault
// (`unknown`, never paged), built by runProbe itself from a client that fails with that reason, and the thread
// is replaced for the next attempts.
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../runtime/ts-worker.ts';
import type { ProbeResult, ProbeSpec, ProviderEndpoint } from '../domain.ts';
import type { PricingTable } from '../config/pricing.ts';
import type { VigilConfig } from '../config/types.ts';
import { secretValues } from '../config/redact.ts';
import type { HttpClient } from '../http/types.ts';
import { Interner } from '../intern.ts';
import { runProbe } from './run.ts';
import type { RunnerDeps } from './run.ts';
import type { FromThread, ToThread } from './worker.ts';

/**
 * Young generation of a probe thread, MB. Its garbage (sockets, chunks, parsed answers) dies young; 6 MB against
 * 16 measured 18 MB less RSS at 10,000 probes with no change in TTFT error (bench:daemon, 2026-12-06).
 */
export const THREAD_YOUNG_GENERATION_MB = 6;

export interface ProbeThreadsOptions {
  threads: number;
  /** Young generation of each thread, MB (Worker `resourceLimits.maxYoungGenerationSizeMb`). */
  youngGenerationMb?: number;
  /** Told when a thread dies (the daemon logs it). */
  onThreadExit?: (info: { thread: number; code: number | null; error: string | null; inFlight: number }) => void;
}

export interface ThreadConfig {
  endpoints: Record<string, ProviderEndpoint>;
  pricing: PricingTable;
  secrets: string[];
}

/** What a probe thread needs of a loaded config: endpoints (with their keys), prices, the values to redact. */
export function threadConfig(config: VigilConfig): ThreadConfig {
  return { endpoints: config.endpoints, pricing: config.pricing, secrets: [...secretValues(config)] };
}

interface Pending {
  resolve(r: ProbeResult): void;
  spec: ProbeSpec;
  attempt: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | null;
  thread: Thread;
}

interface Thread {
  index: number;
  worker: Worker;
  inFlight: Set<number>;
  alive: boolean;
}

/** The error a probe on a dead thread fails with; `localFault` calls it Vigil's own fault. */
export class ProbeThreadGone extends Error {
  readonly code = 'ERR_PROBE_THREAD_GONE';
}

export class ProbeThreads {
  private readonly threads: Thread[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private config: ThreadConfig | null = null;
  private stopped = false;
  private readonly interner = new Interner();

  private readonly opts: ProbeThreadsOptions;
  private readonly local: () => RunnerDeps;

  /** `local` builds a result in this thread when a probe's thread is gone (endpoints, prices, the clock). */
  constructor(opts: ProbeThreadsOptions, local: () => RunnerDeps) {
    this.opts = opts;
    this.local = local;
    for (let i = 0; i < Math.max(1, opts.threads); i++) this.threads.push(this.spawn(i));
  }

  /** Endpoints, prices and secrets for every thread (at start and on every config reload). */
  configure(config: ThreadConfig): void {
    this.config = config;
    for (const t of this.threads) if (t.alive) t.worker.postMessage({ type: 'config', ...config } satisfies ToThread);
  }

  /** Run one attempt on the thread with the fewest in flight. */
  run(spec: ProbeSpec, attempt: number, signal?: AbortSignal): Promise<ProbeResult> {
    if (this.stopped) return this.gone(spec, attempt, signal, 'the probe threads are stopped');
    const thread = this.threads.reduce((a, b) => (b.alive && (!a.alive || b.inFlight.size < a.inFlight.size) ? b : a));
    const id = this.nextId++;
    return new Promise<ProbeResult>((resolve) => {
      const p: Pending = { resolve, spec, attempt, signal, onAbort: null, thread };
      if (signal) {
        p.onAbort = () => thread.worker.postMessage({ type: 'cancel', id } satisfies ToThread);
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(id, p);
      thread.inFlight.add(id);
      thread.worker.postMessage({ type: 'run', id, spec, attempt } satisfies ToThread);
      if (signal?.aborted) p.onAbort?.();
    });
  }

  get size(): number {
    return this.threads.length;
  }

  /** Terminate thread `index` now (a stuck thread; tests): its calls in flight come back as Vigil's own fault. */
  kill(index: number): Promise<number> {
    return this.threads[index].worker.terminate();
  }

  /** Stop every thread; attempts still in flight come back as Vigil's own fault. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      this.threads.map(
        (t) =>
          new Promise<void>((resolve) => {
            if (!t.alive) return resolve();
            t.worker.once('exit', () => resolve());
            t.worker.postMessage({ type: 'stop' } satisfies ToThread);
            setTimeout(() => void t.worker.terminate(), 2_000).unref();
          }),
      ),
    );
  }

  /**
   * A result as the daemon keeps it: a structured clone makes every string anew, so the probe's id is the spec's
   * own and the short strings (provider, served model, outcome, finish reason, verdicts) are shared copies, not
   * one per probe per result (src/intern.ts).
   */
  private own(r: ProbeResult, spec: ProbeSpec): ProbeResult {
    const id = r.probeId;
    r.probeId = ''; // one per probe: the spec has it already, the table need not
    this.interner.deep(r);
    r.probeId = id === spec.id ? spec.id : id;
    return r;
  }

  private spawn(index: number): Thread {
    const worker = startTsWorker(new URL('./worker.ts', import.meta.url), {
      resourceLimits: { maxYoungGenerationSizeMb: this.opts.youngGenerationMb ?? THREAD_YOUNG_GENERATION_MB },
      // Its own stdout/stderr would interleave with the daemon's log lines; it logs nothing.
      stdout: false,
      stderr: false,
    });
    const t: Thread = { index, worker, inFlight: new Set(), alive: true };
    if (this.config) worker.postMessage({ type: 'config', ...this.config } satisfies ToThread);
    worker.on('message', (m: FromThread) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.settle(m.id, p);
      if (m.type === 'result') p.resolve(this.own(m.result, p.spec));
      else void this.gone(p.spec, p.attempt, p.signal, `probe thread error: ${m.message}`).then(p.resolve);
    });
    let error: string | null = null;
    worker.on('error', (err) => (error = err instanceof Error ? err.message : String(err)));
    worker.on('exit', (code) => {
      t.alive = false;
      const lost = [...t.inFlight];
      if (!this.stopped || lost.length) this.opts.onThreadExit?.({ thread: index, code, error, inFlight: lost.length });
      for (const id of lost) {
        const p = this.pending.get(id);
        if (!p) continue;
        this.settle(id, p);
        void this.gone(p.spec, p.attempt, p.signal, `the probe thread exited (${error ?? `code ${code}`}) during the call`).then(p.resolve);
      }
      if (!this.stopped) this.threads[index] = this.spawn(index);
    });
    return t;
  }

  private settle(id: number, p: Pending): void {
    this.pending.delete(id);
    p.thread.inFlight.delete(id);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
  }

  /** The result runProbe gives when the call fails with Vigil's own fault (`unknown`). */
  private gone(spec: ProbeSpec, attempt: number, signal: AbortSignal | undefined, reason: string): Promise<ProbeResult> {
    const failing: HttpClient = {
      request: () => Promise.reject(new ProbeThreadGone(reason)),
      close: () => Promise.resolve(),
    };
    return runProbe(spec, { ...this.local(), http: failing }, { attempt, signal });
  }
}
