// Save and resume the availability detector's running streaks (detector_state, one row per location), so a start
// reads one row and the results stored after the save (one range query) instead of each probe's newest rows one
// query per probe (10,000 queries at 10,000 probes). Nothing is lost on a crash: the results stored after the
// save are counted on top of it. Probes the save does not know, or a save too old to trust, are seeded from their
// newest stored rows as before.
import type { ProbeSpec } from '../domain.ts';
import type { Store } from '../store/store.ts';
import { type AvailabilityDetector, reachesAvailability, type SavedStreaks } from './availability.ts';

export const AVAILABILITY_STATE_DETECTOR = 'availability_streaks';

/** Rows read per probe when seeding from stored results (a streak longer than this counts as this long). */
export const SEED_ROWS = 20;

export interface AvailabilitySnapshot {
  version: 1;
  /** Clock time of the save. */
  savedAt: number;
  /**
   * How long before the save a result stored after it may have started (the longest probe timeout then, plus the
   * control check and margin): resuming reads results from savedAt − slackMs and skips those already counted.
   */
  slackMs: number;
  probes: Record<string, SavedStreaks>;
}

const UPSERT = `INSERT INTO detector_state (detector, key, state, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (detector, key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`;

/** Slack for results in flight at a save: the longest probe timeout plus two minutes (control check, queueing to the store). */
export function resumeSlackMs(probes: readonly Pick<ProbeSpec, 'timeouts'>[]): number {
  let max = 0;
  for (const p of probes) if (p.timeouts.totalMs > max) max = p.timeouts.totalMs;
  return max + 120_000;
}

export function decodeAvailabilitySnapshot(body: string): AvailabilitySnapshot | null {
  try {
    const s = JSON.parse(body) as AvailabilitySnapshot;
    const ok = s?.version === 1 && Number.isFinite(s.savedAt) && Number.isFinite(s.slackMs) && s.probes !== null && typeof s.probes === 'object';
    return ok ? s : null;
  } catch {
    return null;
  }
}

export async function saveAvailability(store: Store, detector: AvailabilityDetector, probes: readonly Pick<ProbeSpec, 'timeouts'>[], location: string, now: number): Promise<void> {
  const snap: AvailabilitySnapshot = { version: 1, savedAt: now, slackMs: resumeSlackMs(probes), probes: detector.save() };
  await store.sql.run(UPSERT, [AVAILABILITY_STATE_DETECTOR, location, JSON.stringify(snap), now]);
}

export async function loadAvailabilitySnapshot(store: Store, location: string): Promise<AvailabilitySnapshot | null> {
  const row = await store.sql.get<{ state: string }>('SELECT state FROM detector_state WHERE detector = ? AND key = ?', [AVAILABILITY_STATE_DETECTOR, location]);
  return row ? decodeAvailabilitySnapshot(row.state) : null;
}

export interface ResumeReport {
  /** Probes resumed from the save. */
  saved: number;
  /** Results stored after the save that were read (each probe counts those newer than what it had counted). */
  tail: number;
  /** Probes seeded from their newest stored rows (not in the save, or no usable save). */
  seeded: number;
}

/**
 * Bring `detector` to where it was for every probe in `probes`: the saved streaks plus the results stored after
 * the save, or each probe's newest stored rows. A save older than `maxAgeMs` (raw retention: results after it may
 * be gone) is not trusted.
 */
export async function resumeAvailability(
  store: Store,
  detector: AvailabilityDetector,
  probes: readonly Pick<ProbeSpec, 'id' | 'kind'>[],
  location: string,
  now: number,
  maxAgeMs: number,
): Promise<ResumeReport> {
  const snap = await loadAvailabilitySnapshot(store, location);
  const usable = snap && snap.savedAt >= now - maxAgeMs && snap.savedAt <= now + 60_000 ? snap : null;
  const rest: Pick<ProbeSpec, 'id' | 'kind'>[] = [];
  const kinds = new Map<string, ProbeSpec['kind']>();
  for (const p of probes) {
    const v = usable?.probes[p.id];
    if (v) {
      detector.load(p.id, v);
      kinds.set(p.id, p.kind);
    } else rest.push(p);
  }
  let tail = 0;
  if (usable && kinds.size > 0) {
    for (const r of await store.outcomesSince(usable.savedAt - usable.slackMs, location)) {
      const kind = kinds.get(r.probeId);
      if (!kind || !reachesAvailability(kind, r)) continue;
      tail++;
      detector.catchUp(r.probeId, r);
    }
  }
  for (const p of rest) {
    const rows = (await store.recentOutcomes(p.id, SEED_ROWS)).reverse();
    detector.seed(p.id, rows);
  }
  return { saved: kinds.size, tail, seeded: rest.length };
}
