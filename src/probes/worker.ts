// A probe thread: runs probe attempts (the HTTP call, SSE parsing, normalising, judging) with its own undici
// client and its own heap, so the daemon's event loop (detectors, metrics, store, server) neither delays the stamps
// of an answer nor holds the garbage of thousands of calls in its young generation. Started by ProbeThreads.
import { parentPort } from 'node:worker_threads';
import { systemClock } from '../clock.ts';
import type { ProbeSpec, ProviderEndpoint } from '../domain.ts';
import { findPrice } from '../config/pricing.ts';
import type { PricingTable } from '../config/pricing.ts';
import { createHttpClient } from '../http/client.ts';
import { registerSecret } from '../config/redact.ts';
import { runProbe } from './run.ts';
import type { RunnerDeps } from './run.ts';

/** What the daemon sends a probe thread. */
export type ToThread =
  | { type: 'config'; endpoints: Record<string, ProviderEndpoint>; pricing: PricingTable; secrets: string[] }
  | { type: 'run'; id: number; spec: ProbeSpec; attempt: number }
  | { type: 'cancel'; id: number }
  | { type: 'stop' };

/** What a probe thread answers. */
export type FromThread = { type: 'result'; id: number; result: import('../domain.ts').ProbeResult } | { type: 'failed'; id: number; message: string };

const port = parentPort;
if (port) {
  const http = createHttpClient();
  let endpoints: Record<string, ProviderEndpoint> = {};
  let pricing: PricingTable | undefined;
  const inFlight = new Map<number, AbortController>();
  const deps: RunnerDeps = {
    http,
    clock: systemClock,
    endpointFor(target) {
      const ep = endpoints[target];
      if (!ep) throw new Error(`unknown probe target "${target}" (known: ${Object.keys(endpoints).join(', ')})`);
      return ep;
    },
    priceFor: (model) => (pricing ? (findPrice(model, pricing)?.price ?? null) : null),
  };
  port.on('message', (m: ToThread) => {
    if (m.type === 'config') {
      endpoints = m.endpoints;
      pricing = m.pricing;
      // The redactor is per thread: results are masked here, where provider text enters.
      for (const s of m.secrets) registerSecret(s);
    } else if (m.type === 'run') {
      const ac = new AbortController();
      inFlight.set(m.id, ac);
      runProbe(m.spec, deps, { attempt: m.attempt, signal: ac.signal }).then(
        (result) => port.postMessage({ type: 'result', id: m.id, result } satisfies FromThread),
        (err: unknown) => port.postMessage({ type: 'failed', id: m.id, message: err instanceof Error ? err.message : String(err) } satisfies FromThread),
      ).finally(() => inFlight.delete(m.id));
    } else if (m.type === 'cancel') {
      inFlight.get(m.id)?.abort();
    } else if (m.type === 'stop') {
      for (const ac of inFlight.values()) ac.abort();
      void http.close().finally(() => port.close());
    }
  });
}
