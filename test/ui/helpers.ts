// Fixtures for status page tests: probe specs, results, a temporary store and UiData over it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { ProbeResult, ProbeSpec } from '../../src/domain.ts';
import { rowToResult } from '../../src/store/results.ts';
import { Store } from '../../src/store/store.ts';
import { makeResultFor, makeSpec } from '../fixtures.ts';
import type { UiData, UiProbe } from '../../src/ui/data.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export function tempStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ui-'));
  const store = Store.open(join(dir, 'vigil.db'));
  cleanups.push(async () => {
    await store.close();
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
    probes: (): UiProbe[] => specs.map((s) => ({ spec: s, last: latestSync(store, s.id) })),
    store,
    ...extra,
  };
}

/** A probe's newest non-drill result, read synchronously from the test's SQLite file (UiData.probes is sync). */
function latestSync(store: Store, probeId: string): ProbeResult | null {
  const row = store.db
    .prepare('SELECT * FROM probe_results WHERE probe_id = ? AND drill_id IS NULL ORDER BY started_at DESC, id DESC LIMIT 1')
    .get(probeId);
  return row ? rowToResult(row as Parameters<typeof rowToResult>[0]) : null;
}
