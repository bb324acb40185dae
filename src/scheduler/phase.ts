// Deterministic jitter: a probe's phase within its interval comes from a hash of its id, so it is the
// same after a restart or a reload and independent of which other probes exist.

import { createHash } from 'node:crypto';

/** A number in [0, 1) derived from the id (first 48 bits of sha256). */
export function hashFraction(id: string): number {
  const h = createHash('sha256').update(id).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/** Phase in [0, everyMs): the probe runs at epoch instants `phase + k * everyMs`. */
export function intervalPhase(id: string, everyMs: number, jitter: boolean): number {
  return jitter ? Math.floor(hashFraction(id) * everyMs) : 0;
}

/** First aligned slot strictly after `afterMs`. */
export function intervalSlotAfter(afterMs: number, phase: number, everyMs: number): number {
  return phase + (Math.floor((afterMs - phase) / everyMs) + 1) * everyMs;
}
