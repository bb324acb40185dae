// A complete ProbeResult with overridable fields, so each test states only what it is about.
import type { ProbeResult } from '../../src/domain.ts';

export function result(over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    probeId: 'openai-canary',
    startedAt: Date.UTC(2026, 0, 5, 12, 0, 0),
    target: 'provider:openai',
    provider: 'openai',
    requestedModel: 'gpt-4o-mini-2024-07-18',
    servedModel: 'gpt-4o-mini-2024-07-18',
    fingerprint: 'fp_1',
    outcome: 'ok',
    errorClass: null,
    errorMessage: null,
    timeoutPhase: null,
    httpStatus: 200,
    retryAfterSec: null,
    timings: { connectMs: 20, tlsMs: 30, ttfbMs: 250, ttftMs: 300, totalMs: 400, outputTokensPerSec: 50 },
    tokensIn: 12,
    tokensOut: 3,
    costUsd: 0.00001,
    finishReason: 'stop',
    refusal: null,
    excerpt: 'pong',
    textHash: 'x'.repeat(64),
    assertions: [],
    gateway: null,
    attempt: 1,
    confirmed: false,
    ...over,
  };
}

export const spec = { id: 'openai-canary', owner: 'search-team', target: 'provider:openai', model: 'gpt-4o-mini-2024-07-18' };
