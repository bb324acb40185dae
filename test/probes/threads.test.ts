// Probe calls on worker threads (src/probes/threads.ts) against the simulator over real loopback HTTP: the same
// result as on the caller's loop, cancellation, and a thread that dies mid-call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import type { ProbeSpec, ProviderEndpoint } from '../../src/domain.ts';
import { createHttpClient } from '../../src/http/client.ts';
import type { HttpClient } from '../../src/http/types.ts';
import { runProbe } from '../../src/probes/run.ts';
import type { RunnerDeps } from '../../src/probes/run.ts';
import { ProbeThreads } from '../../src/probes/threads.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { makeSpec } from '../fixtures.ts';

const KEY = 'sk-thread-test-0123456789abcdef';

describe('probe threads', () => {
  let fleet: SimFleet;
  let http: HttpClient;
  let threads: ProbeThreads;
  let endpoint: ProviderEndpoint;
  const exits: { inFlight: number; thread: number }[] = [];
  const deps = (): RunnerDeps => ({
    http,
    clock: systemClock,
    endpointFor: () => endpoint,
    priceFor: (m) => (m.startsWith('gpt-4o-mini') ? { inputPerMTok: 1, outputPerMTok: 2 } : null),
  });
  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: { latency: { ttfbMs: 2, ttftMs: 20, perTokenMs: 2, jitter: 0, diurnal: null } } });
    http = createHttpClient();
    endpoint = { name: 'openai', kind: 'openai', baseUrl: fleet.urls.openai, apiKey: KEY, headers: {} };
    threads = new ProbeThreads({ threads: 2, onThreadExit: (i) => exits.push(i) }, deps);
    threads.configure({
      endpoints: { 'provider:openai': endpoint },
      pricing: { 'gpt-4o-mini': { inputPerMTok: 1, outputPerMTok: 2 } },
      secrets: [KEY],
    });
  });
  afterAll(async () => {
    await threads.stop();
    await http.close();
    await fleet.close();
  });

  const spec = (over: Partial<ProbeSpec> = {}): ProbeSpec =>
    makeSpec({
      id: 'threaded',
      owner: 'test',
      target: 'provider:openai',
      model: 'gpt-4o-mini',
      stream: true,
      timeouts: { connectMs: 2_000, firstByteMs: 2_000, totalMs: 5_000 },
      assertions: [{ contains: 'pong' }],
      ...over,
    });

  it('gives what the same call gives on this loop: outcome, model, tokens, cost, refusal label, assertions, timings', async () => {
    fleet.openai.patch({ errors: [] });
    const [onThread, here] = await Promise.all([threads.run(spec(), 1), runProbe(spec(), deps())]);
    expect(onThread.outcome, onThread.errorMessage ?? '').toBe('ok');
    for (const k of ['outcome', 'errorClass', 'servedModel', 'tokensIn', 'tokensOut', 'costUsd', 'refusal', 'excerpt', 'textHash', 'finishReason', 'attempt'] as const) {
      expect(onThread[k], k).toEqual(here[k]);
    }
    expect(onThread.assertions).toEqual(here.assertions);
    expect(onThread.timings.ttftMs).toBeGreaterThanOrEqual(15);
    expect(onThread.timings.totalMs).toBeGreaterThanOrEqual(onThread.timings.ttftMs!);
  });

  it('classifies provider failures the same way, and masks a key the provider echoes', async () => {
    fleet.openai.patch({ errors: [{ kind: 'auth', ratio: 1 }] });
    try {
      const r = await threads.run(spec(), 2);
      expect(r.outcome).toBe('failed');
      expect(r.errorClass).toBe('auth');
      expect(r.attempt).toBe(2);
      expect(JSON.stringify(r)).not.toContain(KEY);
    } finally {
      fleet.openai.patch({ errors: [] });
    }
  });

  it('an abort reaches the call on its thread', async () => {
    fleet.openai.patch({ errors: [{ kind: 'timeout', ratio: 1 }] });
    try {
      const ac = new AbortController();
      const t0 = performance.now();
      const pending = threads.run(spec({ timeouts: { connectMs: 2_000, firstByteMs: 30_000, totalMs: 60_000 } }), 1, ac.signal);
      setTimeout(() => ac.abort(), 100);
      const r = await pending;
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(r.outcome).not.toBe('ok');
    } finally {
      fleet.openai.patch({ errors: [] });
    }
  });

  it("a thread that dies mid-call: its calls come back as Vigil's own fault (unknown), and it is replaced", async () => {
    fleet.openai.patch({ errors: [{ kind: 'timeout', ratio: 1 }] });
    const slow = spec({ timeouts: { connectMs: 2_000, firstByteMs: 30_000, totalMs: 60_000 } });
    let calls: Promise<import('../../src/domain.ts').ProbeResult>[];
    try {
      calls = Array.from({ length: 4 }, (_, i) => threads.run(slow, i + 1));
      await new Promise((r) => setTimeout(r, 200));
      await threads.kill(0);
      await threads.kill(1);
    } finally {
      fleet.openai.patch({ errors: [] });
    }
    const results = await Promise.all(calls);
    for (const r of results) {
      expect(r.outcome).toBe('unknown');
      expect(r.errorClass).toBe('local');
      expect(r.errorMessage).toMatch(/probe thread exited/);
    }
    expect(exits.reduce((n, e) => n + e.inFlight, 0)).toBe(4);
    // Replaced: the next call runs and passes.
    const after = await threads.run(spec(), 1);
    expect(after.outcome, after.errorMessage ?? '').toBe('ok');
  });
});
