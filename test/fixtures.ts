// Complete ProbeSpec and ProbeResult values with overridable fields, shared by the test folders and the
// benchmarks: each area's own fixture passes only the values its tests are about.
import type { ProbeResult, ProbeSpec } from '../src/domain.ts';

/** A 60-second OpenAI canary asking for "pong", not streamed, no assertions. */
export function makeSpec(over: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    id: 'p1',
    owner: 'team',
    target: 'provider:openai',
    model: 'gpt-4o-mini',
    kind: 'canary',
    messages: [{ role: 'user', content: 'Reply with the single word: pong' }],
    stream: false,
    maxTokens: 5,
    schedule: { everyMs: 60_000, timezone: 'UTC' },
    timeouts: { connectMs: 1000, firstByteMs: 5000, totalMs: 10_000 },
    assertions: [],
    labels: {},
    headers: {},
    ...over,
  };
}

/** A successful attempt of makeSpec()'s probe that answered "pong". */
export function makeResult(over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    probeId: 'p1',
    startedAt: Date.UTC(2026, 0, 5, 12, 0, 0),
    target: 'provider:openai',
    provider: 'openai',
    requestedModel: 'gpt-4o-mini',
    servedModel: 'gpt-4o-mini',
    fingerprint: null,
    outcome: 'ok',
    errorClass: null,
    errorMessage: null,
    timeoutPhase: null,
    httpStatus: 200,
    retryAfterSec: null,
    timings: { connectMs: 0, tlsMs: null, ttfbMs: 100, ttftMs: 200, totalMs: 300, outputTokensPerSec: null },
    tokensIn: 12,
    tokensOut: 1,
    costUsd: null,
    finishReason: 'stop',
    refusal: null,
    excerpt: 'pong',
    textHash: '',
    assertions: [],
    gateway: null,
    attempt: 1,
    confirmed: false,
    ...over,
  };
}

/** makeResult() for an attempt of `spec` started at `startedAt`, served the model it asked for. */
export function makeResultFor(spec: ProbeSpec, startedAt: number, over: Partial<ProbeResult> = {}): ProbeResult {
  return makeResult({ probeId: spec.id, startedAt, target: spec.target, requestedModel: spec.model, servedModel: spec.model, ...over });
}
