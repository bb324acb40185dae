// Generated probe specs and results for the refusal, output and model-change detector tests.
import type { Assertion, ProbeKind, ProbeResult, ProbeSpec } from '../../src/domain.ts';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** A Monday, midnight UTC. */
export const T0 = Date.UTC(2026, 0, 5);

export function spec(id: string, over: Partial<ProbeSpec> & { kind?: ProbeKind } = {}): ProbeSpec {
  return {
    id,
    owner: 'safety',
    target: 'provider:openai',
    model: 'gpt-4o-mini',
    kind: 'canary',
    messages: [{ role: 'user', content: `prompt of ${id}` }],
    stream: false,
    maxTokens: 60,
    schedule: { everyMs: 30 * MIN, timezone: 'UTC' },
    timeouts: { connectMs: 5000, firstByteMs: 30000, totalMs: 60000 },
    assertions: [] as Assertion[],
    labels: {},
    headers: {},
    ...over,
  };
}

export function result(s: ProbeSpec, startedAt: number, over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    probeId: s.id,
    startedAt,
    target: s.target,
    provider: 'openai',
    requestedModel: s.model,
    servedModel: s.model,
    fingerprint: null,
    outcome: 'ok',
    errorClass: null,
    errorMessage: null,
    timeoutPhase: null,
    httpStatus: 200,
    retryAfterSec: null,
    timings: { connectMs: 0, tlsMs: null, ttfbMs: 100, ttftMs: 200, totalMs: 300, outputTokensPerSec: null },
    tokensIn: 12,
    tokensOut: 10,
    costUsd: null,
    finishReason: 'stop',
    refusal: 'full_compliance',
    excerpt: 'Sure, here is how.',
    textHash: '',
    assertions: [],
    gateway: null,
    attempt: 1,
    confirmed: false,
    ...over,
  };
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
