// The probe engine end to end against the simulator: every provider adapter, streamed and not, for success and
// for each error class the simulator can produce, over real loopback HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import type { ErrorClass, ProbeSpec, ProviderEndpoint } from '../../src/domain.ts';
import { createHttpClient } from '../../src/http/client.ts';
import type { HttpClient } from '../../src/http/types.ts';
import { runProbe } from '../../src/probes/run.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { makeSpec } from '../fixtures.ts';

const PROVIDERS = ['openai', 'anthropic', 'gemini'] as const;
type P = (typeof PROVIDERS)[number];
const MODEL: Record<P, string> = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5', gemini: 'gemini-2.5-flash' };

/** Simulator fault → what the probe must report. */
const EXPECTED: Record<string, ErrorClass | Partial<Record<P, ErrorClass>>> = {
  rate_limited: 'rate_limited',
  overloaded: 'overloaded',
  server_error: 'server_error',
  auth: 'auth',
  bad_request: 'bad_request',
  context_length: 'context_length',
  // Anthropic has no content-filter stop: its block is `stop_reason: refusal`, a model answer (the canary's
  // `contains` assertion then fails and the refusal label says why).
  content_filter: { openai: 'content_filter', anthropic: 'assertion', gemini: 'content_filter' },
  timeout: 'timeout',
  reset: 'connect',
  malformed_json: 'malformed',
  cut_stream: 'malformed',
  malformed_sse: 'malformed',
  empty: 'assertion',
  stream_error: { openai: 'server_error', anthropic: 'overloaded', gemini: 'overloaded' },
};

describe('probe engine against the simulator', () => {
  let fleet: SimFleet;
  let http: HttpClient;
  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: { latency: { ttfbMs: 2, ttftMs: 20, perTokenMs: 2, jitter: 0, diurnal: null } } });
    http = createHttpClient();
  });
  afterAll(async () => {
    await http.close();
    await fleet.close();
  });

  const probe = (p: P, stream: boolean) => {
    const endpoint: ProviderEndpoint = {
      name: p,
      kind: p,
      baseUrl: fleet.urls[p],
      apiKey: 'sk-test',
      headers: {},
      ...(p === 'anthropic' ? { apiVersion: '2023-06-01' } : p === 'gemini' ? { apiVersion: 'v1beta' } : {}),
    };
    const spec: ProbeSpec = makeSpec({
      id: `${p}-test`,
      owner: 'test',
      target: `provider:${p}`,
      model: MODEL[p],
      stream,
      timeouts: { connectMs: 2_000, firstByteMs: 600, totalMs: 1_500 },
      assertions: [{ contains: 'pong' }],
    });
    return runProbe(spec, { http, clock: systemClock, endpointFor: () => endpoint, priceFor: () => ({ inputPerMTok: 1, outputPerMTok: 2 }) });
  };

  for (const p of PROVIDERS) {
    for (const stream of [true, false]) {
      const mode = stream ? 'stream' : 'json';

      it(`${p} ${mode}: success with served model, tokens, cost and timings`, async () => {
        fleet[p].patch({ errors: [] });
        const r = await probe(p, stream);
        expect(r.outcome, r.errorMessage ?? '').toBe('ok');
        expect(r.errorClass).toBeNull();
        expect(r.httpStatus).toBe(200);
        expect(r.servedModel).toMatch(new RegExp(`^${MODEL[p].replace(/\./g, '\\.')}`));
        expect(r.excerpt.toLowerCase()).toContain('pong');
        expect(r.finishReason).toBe('stop');
        expect(r.tokensIn).toBeGreaterThan(0);
        expect(r.tokensOut).toBeGreaterThan(0);
        expect(r.costUsd).toBeCloseTo(((r.tokensIn ?? 0) * 1 + (r.tokensOut ?? 0) * 2) / 1e6, 12);
        expect(r.timings.ttftMs).toBeGreaterThanOrEqual(15);
        expect(r.timings.totalMs).toBeGreaterThanOrEqual(r.timings.ttftMs!);
        expect(r.refusal).toBe('full_compliance');
      });

      for (const [fault, expected] of Object.entries(EXPECTED)) {
        const cls = typeof expected === 'string' ? expected : expected[p]!;
        it(`${p} ${mode}: simulator fault ${fault} → ${cls}`, async () => {
          fleet[p].patch({ errors: [{ kind: fault, ratio: 1 }] });
          try {
            const r = await probe(p, stream);
            expect(r.outcome).toBe('failed');
            expect(r.errorClass, `${r.errorMessage}`).toBe(cls);
            if (cls === 'rate_limited') expect(r.retryAfterSec ?? 0).toBeGreaterThan(0);
            if (cls === 'timeout') expect(r.timeoutPhase).toBe('first_byte');
            if (fault === 'content_filter' && p === 'anthropic') expect(r.refusal).toBe('full_refusal');
            if (cls === 'malformed' || cls === 'connect' || cls === 'timeout') expect(r.finishReason).toBe('error');
            expect(r.errorMessage ?? '').not.toContain('sk-test');
          } finally {
            fleet[p].patch({ errors: [] });
          }
        });
      }
    }
  }
});
