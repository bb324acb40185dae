// Generated probe specs and results for the refusal, output and model-change detector tests.
import type { ProbeKind, ProbeResult, ProbeSpec } from '../../src/domain.ts';
import { makeResultFor, makeSpec } from '../fixtures.ts';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** A Monday, midnight UTC. */
export const T0 = Date.UTC(2026, 0, 5);

export function spec(id: string, over: Partial<ProbeSpec> & { kind?: ProbeKind } = {}): ProbeSpec {
  return makeSpec({
    id,
    owner: 'safety',
    messages: [{ role: 'user', content: `prompt of ${id}` }],
    maxTokens: 60,
    schedule: { everyMs: 30 * MIN, timezone: 'UTC' },
    timeouts: { connectMs: 5000, firstByteMs: 30000, totalMs: 60000 },
    ...over,
  });
}

export function result(s: ProbeSpec, startedAt: number, over: Partial<ProbeResult> = {}): ProbeResult {
  return makeResultFor(s, startedAt, { tokensOut: 10, refusal: 'full_compliance', excerpt: 'Sure, here is how.', ...over });
}

/** A refused or answered result, as the runner would record it. */
export function refusalResult(s: ProbeSpec, t: number, refused: boolean): ProbeResult {
  return result(s, t, {
    refusal: refused ? 'full_refusal' : 'full_compliance',
    excerpt: refused ? `I'm sorry, but I can't help with that (${s.id}).` : `Sure: answer to ${s.id}.`,
  });
}

/**
 * Probe runs in time order: every spec every `everyMs` from `from` to `to`, staggered evenly across the interval
 * (as the scheduler's jitter spreads them).
 */
export function* schedule(specs: readonly ProbeSpec[], from: number, to: number, everyMs = 30 * MIN): Generator<[ProbeSpec, number]> {
  const step = everyMs / specs.length;
  for (let t = from; t < to; t += everyMs) for (let i = 0; i < specs.length; i++) yield [specs[i], Math.round(t + i * step)];
}
