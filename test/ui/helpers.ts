// Fixtures for status page tests: probe specs, results, a temporary store and UiData over it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { ProbeResult, ProbeSpec } from '../../src/domain.ts';
import { Store } from '../../src/store/store.ts';
import type { UiData, UiProbe } from '../../src/ui/data.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

export function tempStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ui-'));
  const store = Store.open(join(dir, 'vigil.db'));
  cleanups.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

export function spec(id: string, o: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    id,
    owner: 'platform',
    target: 'provider:openai',
    model: 'gpt-4o-mini',
    kind: 'canary',
    messages: [{ role: 'user', content: 'Reply with the single word: pong' }],
    stream: true,
    maxTokens: 5,
    schedule: { everyMs: 60_000, timezone: 'UTC' },
    timeouts: { connectMs: 5000, firstByteMs: 30_000, totalMs: 60_000 },
    assertions: [{ contains: 'pong' }, { max_ttft_ms: 1000 }],
    labels: {},
    headers: {},
    ...o,
  };
}

export function result(s: ProbeSpec, startedAt: number, o: Partial<ProbeResult> = {}): ProbeResult {
  const ttft = o.timings?.ttftMs ?? 200;
  return {
    probeId: s.id,
    startedAt,
    target: s.target,
    provider: 'openai',
    requestedModel: s.model,
    servedModel: 'gpt-4o-mini-2024-07-18',
    fingerprint: 'fp_a',
    outcome: 'ok',
    errorClass: null,
    errorMessage: null,
    timeoutPhase: null,
    httpStatus: 200,
    retryAfterSec: null,
    timings: { connectMs: 0, tlsMs: null, ttfbMs: 20, ttftMs: ttft, totalMs: ttft + 10, outputTokensPerSec: null },
    tokensIn: 10,
    tokensOut: 1,
    costUsd: 0.001,
    finishReason: 'stop',
    refusal: 'full_compliance',
    excerpt: 'pong',
    textHash: 'x',
    assertions: [],
    gateway: null,
    attempt: 1,
    confirmed: false,
    ...o,
  };
}

/** UiData over `store` with these probes; `last` is each probe's newest stored result. */
export function uiData(store: Store, specs: ProbeSpec[], now: number, extra: Partial<UiData> = {}): UiData {
  return {
    now: () => now,
    probes: (): UiProbe[] => {
      const latest = store.latestResults();
      return specs.map((s) => ({ spec: s, last: latest.get(s.id) ?? null }));
    },
    store,
    ...extra,
  };
}
