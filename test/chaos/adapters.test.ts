// Every fault kind, for each provider kind, through the real probe path: runProbe → provider adapter → HTTP client
// → chaos proxy → simulator. The adapters must classify each injected fault as the runner defines it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import type { ProbeResult, ProbeSpec } from '../../src/domain.ts';
import { runProbe } from '../../src/probes/run.ts';
import type { FaultInput } from '../../src/chaos/faults.ts';
import type { UpstreamKind } from '../../src/chaos/wire.ts';
import { KINDS, depsFor, probeSpec, startRig } from './helpers.ts';
import type { Rig } from './helpers.ts';

let rig: Rig;
let drill = 0;

beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig.close();
});
afterEach(() => {
  rig.proxy.clear();
});

/** Inject `fault` scoped to a fresh drill id, run the probe with that header, and return the result. */
async function withFault(kind: UpstreamKind, fault: Record<string, unknown>, over: Partial<ProbeSpec> = {}): Promise<ProbeResult> {
  const id = `drill-${++drill}`;
  rig.proxy.inject({ upstream: kind, match: { headers: { 'x-vigil-drill': id } }, ttl: '2m', ...fault } as unknown as FaultInput);
  const r = await runProbe(probeSpec(kind, over), depsFor(rig, systemClock), { headers: { 'x-vigil-drill': id } });
  const applied = rig.proxy.list().find((f) => f.match.headers?.['x-vigil-drill'] === id);
  // Stream-only faults never apply to non-stream requests; everything else must have hit exactly once.
  if (applied) expect(applied.hits, `fault ${JSON.stringify(fault)} hits`).toBe(over.stream === false && ['throttle', 'stream_error'].includes(String(fault.kind)) ? 0 : 1);
  return r;
}

const MODES = [
  { name: 'stream', stream: true },
  { name: 'json', stream: false },
] as const;

describe.each(KINDS)('%s adapter behind the proxy', (kind) => {
  it('answers untouched without a fault (control)', async () => {
    for (const m of MODES) {
      const r = await runProbe(probeSpec(kind, { stream: m.stream, assertions: [{ contains: 'pong' }] }), depsFor(rig, systemClock));
      expect(r.outcome, m.name).toBe('ok');
      expect(r.errorClass).toBeNull();
      expect(r.excerpt.toLowerCase()).toContain('pong');
    }
  });

  describe.each(MODES)('$name', ({ stream }) => {
    it('429 → rate_limited with retryAfterSec', async () => {
      const r = await withFault(kind, { kind: 'http_status', status: 429, retry_after_sec: 7 }, { stream });
      expect(r.httpStatus).toBe(429);
      expect(r.errorClass).toBe('rate_limited');
      expect(r.retryAfterSec).toBe(7);
      expect(r.outcome).toBe('failed');
    });

    it("the provider's overload status → overloaded (Anthropic 529, OpenAI/Gemini 503)", async () => {
      const status = kind === 'anthropic' ? 529 : 503;
      const r = await withFault(kind, { kind: 'http_status', status }, { stream });
      expect(r.httpStatus).toBe(status);
      expect(r.errorClass).toBe('overloaded');
    });

    it('500 and 502 → server_error', async () => {
      for (const status of [500, 502]) {
        const r = await withFault(kind, { kind: 'http_status', status }, { stream });
        expect(r.httpStatus).toBe(status);
        expect(r.errorClass, String(status)).toBe('server_error');
      }
    });

    it('latency before headers shows in ttfb, and the answer is still ok', async () => {
      const r = await withFault(kind, { kind: 'latency', delay_ms: 300 }, { stream, assertions: [{ contains: 'pong' }] });
      expect(r.outcome).toBe('ok');
      expect(r.timings.ttfbMs!).toBeGreaterThanOrEqual(295);
    });

    it('slow first token: ttft reflects the delay', async () => {
      const r = await withFault(kind, { kind: 'slow_ttft', delay_ms: 400 }, { stream, assertions: [{ contains: 'pong' }] });
      expect(r.outcome).toBe('ok');
      expect(r.timings.ttftMs!).toBeGreaterThanOrEqual(395);
      // Streams get their headers on time: the delay is in the body, not before it.
      if (stream) expect(r.timings.ttfbMs!).toBeLessThan(300);
    });

    it('stream cut mid-way → malformed', async () => {
      const r = await withFault(kind, { kind: 'stream_cut' }, { stream });
      expect(r.httpStatus).toBe(200);
      expect(r.errorClass).toBe('malformed');
      expect(r.outcome).toBe('failed');
    });

    it('malformed JSON → malformed', async () => {
      const r = await withFault(kind, { kind: 'malformed', format: 'json' }, { stream });
      expect(r.errorClass).toBe('malformed');
    });

    it('malformed SSE framing → malformed', async () => {
      const r = await withFault(kind, { kind: 'malformed', format: 'sse' }, { stream });
      expect(r.errorClass).toBe('malformed');
    });

    it('connection reset before headers → connect (as the runner classifies it)', async () => {
      const r = await withFault(kind, { kind: 'reset' }, { stream });
      expect(r.httpStatus).toBeNull();
      expect(r.errorClass).toBe('connect');
      expect(r.errorMessage).toMatch(/reset|ECONNRESET/i);
    });

    it('content filter → content_filter (Anthropic: its refusal stop reason)', async () => {
      const r = await withFault(kind, { kind: 'content_filter' }, { stream });
      expect(r.httpStatus).toBe(200);
      if (kind === 'anthropic') {
        expect(r.finishReason).toBe('refusal');
        expect(r.refusal).toBe('full_refusal');
      } else {
        expect(r.errorClass).toBe('content_filter');
        expect(r.finishReason).toBe('content_filter');
      }
    });

    it('refusal → refusal label', async () => {
      const r = await withFault(kind, { kind: 'refusal' }, { stream });
      expect(r.httpStatus).toBe(200);
      expect(r.refusal).toBe('full_refusal');
      if (kind === 'anthropic') expect(r.finishReason).toBe('refusal');
    });

    it('empty answer → assertion failure on contains', async () => {
      const r = await withFault(kind, { kind: 'empty' }, { stream, assertions: [{ contains: 'pong' }] });
      expect(r.httpStatus).toBe(200);
      expect(r.errorClass).toBe('assertion');
      expect(r.excerpt).toBe('');
    });
  });

  it('in-stream error event after a 200 → the provider error class', async () => {
    const r = await withFault(kind, { kind: 'stream_error' }, { stream: true });
    expect(r.httpStatus).toBe(200);
    expect(r.errorClass).toBe(kind === 'openai' ? 'server_error' : 'overloaded');
    // Not applicable to a non-stream request: it passes untouched.
    const j = await withFault(kind, { kind: 'stream_error' }, { stream: false, assertions: [{ contains: 'pong' }] });
    expect(j.outcome).toBe('ok');
  });

  it('throttle: lower output tokens/s than direct', async () => {
    // A prompt without "pong" gets a several-token sentence from the simulator.
    const over: Partial<ProbeSpec> = { stream: true, messages: [{ role: 'user', content: 'Tell me about monitoring.' }] };
    const direct = await runProbe(probeSpec(kind, over), depsFor(rig, systemClock, true));
    const r = await withFault(kind, { kind: 'throttle', tokens_per_sec: 20 }, over);
    expect(direct.outcome).toBe('ok');
    expect(r.outcome).toBe('ok');
    expect(r.excerpt).toBe(direct.excerpt);
    // Tokens per second over the generation window (first token → end); the runner's own figure when it has one.
    const rate = (x: ProbeResult) => x.timings.outputTokensPerSec ?? (x.tokensOut! - 1) / ((x.timings.totalMs - x.timings.ttftMs!) / 1000);
    expect(r.tokensOut).toBeGreaterThanOrEqual(5);
    expect(rate(direct)).toBeGreaterThan(60);
    expect(rate(r)).toBeLessThanOrEqual(21);
    expect(rate(r)).toBeGreaterThan(10);
    // TTFT is not what throttling changes.
    expect(r.timings.ttftMs!).toBeLessThan(250);
  });
});
