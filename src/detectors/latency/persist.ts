// Save and restore a probe's latency state in the store (migration 6, table detector_state), so a restart keeps
// weeks of learnt hour-of-week behaviour without replaying raw results. I/O at the edge: the detector itself never
// touches the store. The typed arrays (the 168 buckets, the ring of recent calls) are stored as base64 of their
// bytes: about 3.5 kB of JSON per metric.
import type { Store } from '../../store/store.ts';
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
  return JSON.stringify(s, (_key, v) => {
    if (v instanceof Float32Array) return { [F32]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    if (v instanceof Float64Array) return { [F64]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    return v;
  });
}

export function parseLatencyState(text: string): ProbeLatencyState {
  return JSON.parse(text, (_key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (typeof v[F32] === 'string') return typedFrom(v[F32], 4, (b) => new Float32Array(b));
      if (typeof v[F64] === 'string') return typedFrom(v[F64], 8, (b) => new Float64Array(b));
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
    (o.ring === null || o.ring instanceof Float64Array) &&
    Array.isArray(o.rec) &&
    Array.isArray(o.epi) &&
    !!o.alert
  );
}

export function saveBaseline(store: Store, probeId: string, timezone: string, state: ProbeLatencyState, now: number): void {
  const body = `{"timezone":${JSON.stringify(timezone)},"state":${serialiseLatencyState(state)}}`;
  store.db
    .prepare(
      `INSERT INTO detector_state (detector, key, state, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (detector, key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    )
    .run(DETECTOR_ID, probeId, body, now);
}

/**
 * Saved state for the probe, or null when there is none, it is unreadable, it was learnt in another zone, or it
 * is an older format (the detector then starts learning afresh).
 */
export function loadBaseline(store: Store, probeId: string, timezone: string): ProbeLatencyState | null {
  const row = store.db
    .prepare('SELECT state FROM detector_state WHERE detector = ? AND key = ?')
    .get(DETECTOR_ID, probeId) as { state: string } | undefined;
  if (!row) return null;
  try {
    const saved = parseLatencyState(row.state) as unknown as Saved;
    if (saved.timezone !== timezone) return null;
    if (!isState(saved.state?.ttft) || !isState(saved.state?.total)) return null;
    return saved.state;
  } catch {
    return null;
  }
}

/** Forget a probe's baselines (probe removed, or `vigil` asked to relearn). */
export function deleteBaseline(store: Store, probeId: string): void {
  store.db.prepare('DELETE FROM detector_state WHERE detector = ? AND key = ?').run(DETECTOR_ID, probeId);
}
