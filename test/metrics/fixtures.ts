// A complete ProbeResult with overridable fields, so each test states only what it is about.
import type { ProbeResult } from '../../src/domain.ts';
import { makeResult } from '../fixtures.ts';

export function result(over: Partial<ProbeResult> = {}): ProbeResult {
  return makeResult({
    probeId: 'openai-canary',
    requestedModel: 'gpt-4o-mini-2024-07-18',
    servedModel: 'gpt-4o-mini-2024-07-18',
    fingerprint: 'fp_1',
    timings: { connectMs: 20, tlsMs: 30, ttfbMs: 250, ttftMs: 300, totalMs: 400, outputTokensPerSec: 50 },
    tokensOut: 3,
    costUsd: 0.00001,
    textHash: 'x'.repeat(64),
    ...over,
  });
}

export const spec = { id: 'openai-canary', owner: 'search-team', target: 'provider:openai', model: 'gpt-4o-mini-2024-07-18' };
