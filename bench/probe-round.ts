// One client's share of a bench:probe round: fire `n` streaming probes at once through the real runner and report,
// for each, the simulator's request id, what the probe measured, and when its request reached the wire. Used on
// the bench's own loop and, with --threads, on each worker thread (bench/probe-thread.ts), as the daemon's probe
// threads run them (src/probes/threads.ts).
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { systemClock } from '../src/clock.ts';
import type { ProbeSpec, ProviderEndpoint } from '../src/domain.ts';
import { createHttpClient, warmUp } from '../src/http/client.ts';
import { runProbe } from '../src/probes/run.ts';
import type { RunnerDeps } from '../src/probes/run.ts';
import { makeSpec } from '../test/fixtures.ts';

export const MODES = ['batch', 'per-read'] as const;
export type Mode = (typeof MODES)[number];

export interface Measured {
  id: string;
  ttft: number;
  total: number;
  /** Epoch ms (with sub-ms precision) when the request reached the wire. */
  wireAt: number;
}

export interface RoundOut {
  measured: Measured[];
  /** Young-generation (scavenge) pauses on this thread during the round, ms each. */
  gc: number[];
}

/** The call every client of the bench makes: Vigil's through the runner, the floor's written from the same request. */
export const benchSpec = (): ProbeSpec =>
  makeSpec({
    id: 'bench',
    owner: 'bench',
    messages: [{ role: 'user', content: 'Describe the weather in a short sentence.' }],
    stream: true,
    maxTokens: 16,
    timeouts: { connectMs: 5_000, firstByteMs: 30_000, totalMs: 60_000 },
  });

export const benchEndpoint = (openaiUrl: string): ProviderEndpoint => ({ name: 'openai', kind: 'openai', baseUrl: openaiUrl, apiKey: 'bench', headers: {} });

export interface ProbeRoundRunner {
  /** Warm both clients and open `sockets` keep-alive sockets to the simulator on each. */
  warm(sockets: number): Promise<void>;
  round(mode: Mode, n: number): Promise<RoundOut>;
  close(): Promise<void>;
}

/** Young-generation (scavenge) pauses on this thread, ms each, since the last reset. */
export function gcWatcher(): { reset(): void; pauses(): Promise<number[]>; stop(): void } {
  const seen: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (((e as { detail?: unknown }).detail as { kind?: number } | null)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) seen.push(e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    reset: () => void (seen.length = 0),
    // The observer is told of a collection a little after it ran: wait for the round's last ones.
    pauses: () => new Promise((r) => setTimeout(() => r([...seen]), 20)),
    stop: () => observer.disconnect(),
  };
}

export function probeRoundRunner(openaiUrl: string): ProbeRoundRunner {
  const endpoint = benchEndpoint(openaiUrl);
  // Vigil's client (arrival stamps per batch of socket reads) and the same client stamping each read when its
  // callback runs: the difference is the queueing behind parsing.
  const clients = Object.fromEntries(MODES.map((m) => [m, createHttpClient({ arrivalStamps: m })])) as Record<Mode, ReturnType<typeof createHttpClient>>;
  const depsFor = (m: Mode): RunnerDeps => ({ http: clients[m], clock: systemClock, endpointFor: () => endpoint, priceFor: () => null });
  const gc = gcWatcher();
  return {
    async warm(sockets) {
      for (const m of MODES) {
        await warmUp(clients[m]);
        // The first request of a process costs 10–16 ms more; also opens the sockets the rounds will reuse.
        await Promise.all(Array.from({ length: sockets }, () => runProbe(benchSpec(), depsFor(m))));
      }
    },
    async round(mode, n) {
      gc.reset();
      const measured: Measured[] = [];
      await Promise.all(
        Array.from({ length: n }, async () => {
          let id = '';
          const startAbs = performance.timeOrigin + performance.now();
          const res = await runProbe(benchSpec(), depsFor(mode), { onResponse: (_s, h) => (id = h['x-sim-request-id'] ?? '') });
          if (res.outcome !== 'ok' || res.timings.ttftMs == null) throw new Error(`probe failed: ${res.errorMessage}`);
          measured.push({ id, ttft: res.timings.ttftMs, total: res.timings.totalMs, wireAt: startAbs + (res.timings.queuedMs ?? 0) });
        }),
      );
      return { measured, gc: await gc.pauses() };
    },
    async close() {
      gc.stop();
      for (const m of MODES) await clients[m].close();
    },
  };
}
