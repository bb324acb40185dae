// Save and restore a probe's latency baselines in the store (migration 6, table detector_state), so a restart
// keeps weeks of learnt hour-of-week behaviour. I/O at the edge: the detector itself never touches the store.
import type { Store } from '../../store/store.ts';
import type { LatencyState } from './detector.ts';
import type { ProbeLatencyState } from './probe.ts';
import { DETECTOR_ID } from './probe.ts';

interface Saved {
  /** Buckets are local hours: a state learnt in another zone is wrong, not merely stale. */
  timezone: string;
  state: ProbeLatencyState;
}

/** JSON with priorities trimmed (6 decimals is plenty to order them), which roughly halves the size. */
export function serialiseLatencyState(s: ProbeLatencyState): string {
  return JSON.stringify(s, (key, v) =>
    key === 'p' && Array.isArray(v) ? v.map((x: number) => Math.round(x * 1e6) / 1e6) : v,
  );
}

function isState(s: unknown): s is LatencyState {
  const o = s as LatencyState | null;
  return !!o && o.version === 2 && Array.isArray(o.how) && o.how.length === 168 && Array.isArray(o.hod) && o.hod.length === 24;
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

/** Saved state for the probe, or null when there is none, it is unreadable, or it was learnt in another zone. */
export function loadBaseline(store: Store, probeId: string, timezone: string): ProbeLatencyState | null {
  const row = store.db
    .prepare('SELECT state FROM detector_state WHERE detector = ? AND key = ?')
    .get(DETECTOR_ID, probeId) as { state: string } | undefined;
  if (!row) return null;
  try {
    const saved = JSON.parse(row.state) as Saved;
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
