// A probe thread: runs probe attempts (the HTTP call, SSE parsing, normalising, judging) with its own undici
// client and its own heap, so the daemon's event loop (detectors, metrics, store, server) neither delays the stamps
// of an answer nor holds the garbage of thousands of calls in its young generation. Started by ProbeThreads.
import { parentPort } from 'node:worker_threads';
import { startCompileCache } from '../runtime/compile-cache.ts';
import type { ProbeSpec, ProviderEndpoint } from '../domain.ts';
import type { PricingTable } from '../config/pricing.ts';

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
  // Each thread compiles its own copy of every module: through the same on-disk cache as the daemon's thread.
  startCompileCache();
  const { serveProbeThread } = await import('./thread-loop.ts');
  serveProbeThread(port);
}
