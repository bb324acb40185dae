// Save and restore a probe's latency state in the store (migration 6, table detector_state), so a restart keeps
// weeks of learnt hour-of-week behaviour without replaying raw results. I/O at the edge: the detector itself never
// touches the store. The 168 buckets (a Float32Array) and the ring of recent calls (doubles) are stored as base64
// of their bytes: about 3.5 kB of JSON per metric.
import type { Store } from '../../store/store.ts';
import { shareBuckets } from './baseline.ts';
import type { LatencyState } from './detector.ts';
import type { ProbeLatencyState } from './probe.ts';
import { DETECTOR_ID } from './probe.ts';

interface Saved {
  /** Buckets are local hours: a state learnt in another zone is wrong, not merely stale. */
  timezone: string;
  state: ProbeLatencyState;
}

const F32 = '$f32';
const F64 = '$f64';

/** JSON of a probe's state, typed arrays as base64 (little-endian, as every platform Node runs on). */
export function serialiseLatencyState(s: ProbeLatencyState): string {
  return JSON.stringify(s, (key, v) => {
    if (v instanceof Float32Array) return { [F32]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    if (key === 'ring' && Array.isArray(v)) v = Float64Array.from(v);
    if (v instanceof Float64Array) return { [F64]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    return v;
  });
}

export function parseLatencyState(text: string): ProbeLatencyState {
  return JSON.parse(text, (_key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (typeof v[F32] === 'string') return typedFrom(v[F32], 4, (b) => new Float32Array(b));
      if (typeof v[F64] === 'string') return typedFrom(v[F64], 8, (b) => Array.from(new Float64Array(b)));
    }
    return v;
  }) as ProbeLatencyState;
}

function typedFrom<T>(b64: string, size: number, make: (b: ArrayBuffer) => T): T {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.byteLength % size !== 0) throw new Error('latency state: truncated array');
  // Copy into a fresh, aligned buffer (Buffer.from may share a pool with an arbitrary offset).
  const ab = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(ab).set(bytes);
  return make(ab);
}

function isState(s: unknown): s is LatencyState {
  const o = s as LatencyState | null;
  return (
    !!o &&
    o.version === 3 &&
    typeof o.count === 'number' &&
    !!o.baseline &&
    (o.baseline.how === null || (o.baseline.how instanceof Float32Array && o.baseline.how.length === 168 * 3)) &&
    (o.ring === null || Array.isArray(o.ring)) &&
    Array.isArray(o.rec) &&
    Array.isArray(o.epi) &&
    !!o.alert
  );
}

const UPSERT = `INSERT INTO detector_state (detector, key, state, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (detector, key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`;

export function savedBody(timezone: string, state: ProbeLatencyState): string {
  return `{"timezone":${JSON.stringify(timezone)},"state":${serialiseLatencyState(state)}}`;
}

export async function saveBaseline(store: Store, probeId: string, timezone: string, state: ProbeLatencyState, now: number): Promise<void> {
  await store.sql.run(UPSERT, [DETECTOR_ID, probeId, savedBody(timezone, state), now]);
}

/** Several probes' states in one transaction. */
export async function saveBaselines(store: Store, rows: readonly { probeId: string; timezone: string; state: ProbeLatencyState }[], now: number): Promise<void> {
  if (rows.length === 0) return;
  await store.sql.transaction(async () => {
    for (const r of rows) await store.sql.run(UPSERT, [DETECTOR_ID, r.probeId, savedBody(r.timezone, r.state), now]);
  });
}

/** A stored body as a state, or null when unreadable, learnt in another zone, or of an older format. */
export function decodeBaseline(body: string, timezone: string): ProbeLatencyState | null {
  try {
    const saved = parseLatencyState(body) as unknown as Saved;
    if (saved.timezone !== timezone) return null;
    if (!isState(saved.state?.ttft) || !isState(saved.state?.total)) return null;
    // Saved before records had their own start: their records have learnt since the warm-up ended, so they count
    // as learning from the first value (nothing learnt is thrown away, and no new warm-up is imposed).
    for (const m of [saved.state.ttft, saved.state.total]) if (m.recordsFrom === undefined) m.recordsFrom = m.count > 0 ? m.firstT : null;
    // Both series learnt: their buckets in one buffer, as live states keep them.
    if (saved.state.ttft.baseline.how && saved.state.total.baseline.how) shareBuckets(saved.state.ttft.baseline, saved.state.total.baseline);
    return saved.state;
  } catch {
    return null;
  }
}

/**
 * Saved state for the probe, or null when there is none, it is unreadable, it was learnt in another zone, or it
 * is an older format (the detector then starts learning afresh).
 */
export async function loadBaseline(store: Store, probeId: string, timezone: string): Promise<ProbeLatencyState | null> {
  const row = await store.sql.get<{ state: string }>('SELECT state FROM detector_state WHERE detector = ? AND key = ?', [DETECTOR_ID, probeId]);
  return row ? decodeBaseline(row.state, timezone) : null;
}

/** Every stored latency state by probe id, undecoded (one query at start, however many probes). */
export async function loadAllBaselines(store: Store): Promise<Map<string, string>> {
  const rows = await store.sql.all<{ key: string; state: string }>('SELECT key, state FROM detector_state WHERE detector = ?', [DETECTOR_ID]);
  return new Map(rows.map((r) => [r.key, r.state]));
}

/** Stored latency states by key, undecoded, for these keys only (the per-location feed loads what it meets). */
export async function loadBaselinesByKey(store: Store, keys: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const rows = await store.sql.all<{ key: string; state: string }>(
      `SELECT key, state FROM detector_state WHERE detector = ? AND key IN (${chunk.map(() => '?').join(', ')})`,
      [DETECTOR_ID, ...chunk],
    );
    for (const r of rows) out.set(r.key, r.state);
  }
  return out;
}

/** Forget a probe's baselines (probe removed, or `vigil` asked to relearn). */
export async function deleteBaseline(store: Store, probeId: string): Promise<void> {
  await store.sql.run('DELETE FROM detector_state WHERE detector = ? AND key = ?', [DETECTOR_ID, probeId]);
}
