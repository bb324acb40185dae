// Save and restore the drift detectors' learnt state (refusal drift, output drift, model change) in the store's
// detector_state table, so a restart keeps baselines learnt over months, not only what the stored results of the
// last window can rebuild (raw results are pruned; a baseline's older weight would be lost). The snapshot says up
// to where it has seen results: the daemon replays only the stored results after it. I/O at the edge: the
// detectors themselves stay pure.
import type { Store } from '../store/store.ts';
import type { ModelChangeState } from './model-change.ts';
import type { OutputDriftState } from './output-drift.ts';
import type { RefusalDriftState } from './refusal-drift.ts';

export const DRIFT_STATE_DETECTOR = 'drift_watch';

export interface DriftSnapshot {
  version: 1;
  /** Latest startedAt among the results the states have seen. */
  watermark: number;
  /** Results seen that started within the replay slack before the watermark (probe|startedAt|attempt). */
  seen: string[];
  refusal: RefusalDriftState;
  output: OutputDriftState;
  model: ModelChangeState;
}

const UPSERT = `INSERT INTO detector_state (detector, key, state, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (detector, key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`;

// The states hold numbers JSON cannot write (an alarm bound of Infinity): tagged so they come back as they were.
const TAG = '$num';
const replacer = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { [TAG]: String(v) } : v);
const isTagged = (v: unknown): v is Record<string, string> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Record<string, unknown>)[TAG] === 'string' && Object.keys(v).length === 1;

/** Tagged numbers back to numbers, in place (a walk after a plain parse: a JSON.parse reviver is several times slower). */
function untag(v: unknown): void {
  if (!v || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (isTagged(x)) v[i] = Number(x[TAG]);
      else untag(x);
    }
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (isTagged(x)) o[k] = Number(x[TAG]);
    else untag(x);
  }
}

export function encodeDriftSnapshot(s: DriftSnapshot): string {
  return JSON.stringify(s, replacer);
}

/** A stored snapshot, or null when unreadable or of another format (the daemon then rebuilds from history). */
export function decodeDriftSnapshot(body: string): DriftSnapshot | null {
  try {
    const s = JSON.parse(body) as DriftSnapshot;
    if (body.includes(`"${TAG}"`)) untag(s);
    const ok =
      s?.version === 1 &&
      Number.isFinite(s.watermark) &&
      Array.isArray(s.seen) &&
      s.refusal?.version === 1 &&
      s.output?.version === 1 &&
      s.model?.version === 1;
    return ok ? s : null;
  } catch {
    return null;
  }
}

export async function saveDriftSnapshot(store: Store, key: string, s: DriftSnapshot, now: number): Promise<void> {
  await store.sql.run(UPSERT, [DRIFT_STATE_DETECTOR, key, encodeDriftSnapshot(s), now]);
}

export async function loadDriftSnapshot(store: Store, key: string): Promise<DriftSnapshot | null> {
  const row = await store.sql.get<{ state: string }>('SELECT state FROM detector_state WHERE detector = ? AND key = ?', [DRIFT_STATE_DETECTOR, key]);
  return row ? decodeDriftSnapshot(row.state) : null;
}
