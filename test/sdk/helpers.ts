// Shared by the SDK conformance tests: the simulated fleet (what `vigil sim` starts, on ephemeral loopback
// ports), a guard that every SDK points at loopback only, and the fault classes split by what reaches the SDK.
// The official SDKs are devDependencies used only here: Vigil's own adapters stay on the raw protocol.
import { startSimFleet } from '../../src/sim/index.ts';
import type { FaultKind, SimFleet, SimServer } from '../../src/sim/index.ts';

/** Small, flat latency so the tests are quick. */
export const FAST = { latency: { ttfbMs: 1, ttftMs: 3, perTokenMs: 1, jitter: 0, diurnal: null } };

/** SDK request timeout for normal calls (generous for a loaded 2-core machine) and for the `timeout` fault. */
export const CALL_TIMEOUT_MS = 15_000;
export const HANG_TIMEOUT_MS = 400;

export function startFleet(): Promise<SimFleet> {
  return startSimFleet({ behaviour: FAST, seed: 7 });
}

/** Every SDK base URL goes through this: test traffic may only ever reach loopback. */
export function loopback(url: string): string {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== '[::1]' && host !== '::1' && host !== 'localhost') throw new Error(`SDK tests must point at loopback, not ${host}`);
  return url;
}

/** Faults the simulator answers with an HTTP error status before any body (for a unary request). */
export const STATUS_FAULTS = ['rate_limited', 'overloaded', 'server_error', 'auth', 'bad_request', 'context_length', 'stream_error'] as const satisfies readonly FaultKind[];

/** Inject `kind` on every request to `server` until the test clears it. */
export function inject(server: SimServer, kind: FaultKind): void {
  server.clearBursts();
  server.addBurst({ kind, ratio: 1 });
}

/** Run `fn`, return what it threw (fails the test when it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the SDK call to throw, it returned normally');
}

/** Drain an async iterable, returning its items. */
export async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Any error constructor (the SDKs' status-narrowed classes are not assignable to their base class type). */
export type ErrorClass = abstract new (...args: never[]) => Error;

export const PROMPT = 'Reply with the single word: pong';
