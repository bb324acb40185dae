// Fixtures for status page tests: probe specs, results, a temporary store and UiData over it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { ProbeResult, ProbeSpec } from '../../src/domain.ts';
import { Store } from '../../src/store/store.ts';
import { makeResultFor, makeSpec } from '../fixtures.ts';
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
  return makeSpec({
    id,
    owner: 'platform',
    stream: true,
    timeouts: { connectMs: 5000, firstByteMs: 30_000, totalMs: 60_000 },
    assertions: [{ contains: 'pong' }, { max_ttft_ms: 1000 }],
    ...o,
  });
}

export function result(s: ProbeSpec, startedAt: number, o: Partial<ProbeResult> = {}): ProbeResult {
  const ttft = o.timings?.ttftMs ?? 200;
  return makeResultFor(s, startedAt, {
    servedModel: 'gpt-4o-mini-2024-07-18',
    fingerprint: 'fp_a',
    timings: { connectMs: 0, tlsMs: null, ttfbMs: 20, ttftMs: ttft, totalMs: ttft + 10, outputTokensPerSec: null },
    tokensIn: 10,
    costUsd: 0.001,
    refusal: 'full_compliance',
    textHash: 'x',
    ...o,
  });
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
