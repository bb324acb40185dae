// The status page's read-only queries. Hourly rollups cover complete hours up to the rollup watermark; the hours
// after it (the daemon rolls up once an hour) are computed here from raw rows, so the page is current to the
// last probe. Only the columns a panel needs are read: never the JSON detail of thousands of results.
import { HOUR_MS, RollupAccumulator, hourFloor } from '../store/store.ts';
import type { HourlyRollup, RollupSourceRow, Sql, Store } from '../store/store.ts';

type StoreLike = Pick<Store, 'sql' | 'rollups' | 'rollupWatermark' | 'rollupLocations'>;

export interface Totals {
  count: number;
  failures: number;
  degraded: number;
  refusals: number;
  costUsd: number;
}

const emptyTotals = (): Totals => ({ count: 0, failures: 0, degraded: 0, refusals: 0, costUsd: 0 });

async function cutoff(store: StoreLike, now: number): Promise<number> {
  // Rollups exist only before the watermark; nothing rolled up yet means raw rows for everything.
  return Math.min((await store.rollupWatermark()) ?? Number.MIN_SAFE_INTEGER, hourFloor(now) + HOUR_MS);
}

/** Per probe: attempts, failures, refusals and cost since `since` (hour-aligned down), drills excluded. */
export async function totalsSince(store: StoreLike, since: number, now: number): Promise<Map<string, Totals>> {
  const out = new Map<string, Totals>();
  const add = (id: string, t: Totals) => {
    const o = out.get(id) ?? emptyTotals();
    o.count += t.count;
    o.failures += t.failures;
    o.degraded += t.degraded;
    o.refusals += t.refusals;
    o.costUsd += t.costUsd;
    out.set(id, o);
  };
  const wm = await cutoff(store, now);
  const from = hourFloor(since);
  if (from < wm) {
    const rows = await store.sql.all<Totals & { id: string }>(
      `SELECT probe_id AS id, SUM(count) AS count, SUM(failures) AS failures, SUM(degraded) AS degraded,
         SUM(refusals) AS refusals, SUM(cost_usd) AS "costUsd"
       FROM probe_rollups_hourly WHERE hour_start >= ? AND hour_start < ? GROUP BY probe_id`,
      [from, wm],
    );
    for (const r of rows) add(r.id, r);
  }
  const rawRows = await store.sql.all<Totals & { id: string }>(
    `SELECT probe_id AS id, COUNT(*) AS count,
       SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END) AS failures,
       SUM(CASE WHEN outcome = 'degraded' THEN 1 ELSE 0 END) AS degraded,
       SUM(CASE WHEN refusal IN ('full_refusal', 'partial_refusal') THEN 1 ELSE 0 END) AS refusals,
       COALESCE(SUM(cost_usd), 0) AS "costUsd"
     FROM probe_results WHERE started_at >= ? AND drill_id IS NULL GROUP BY probe_id`,
    [Math.max(from, wm)],
  );
  for (const r of rawRows) add(r.id, { ...r, refusals: r.refusals ?? 0 });
  return out;
}

/**
 * Hourly rollups of `probes` from `since`, with the not-yet-rolled-up hours computed from raw rows. With
 * `location`: that vantage point's own rollups (migration 11) and raw rows only.
 */
export async function hourlySince(store: StoreLike, probes: readonly string[] | null, since: number, now: number, location?: string): Promise<HourlyRollup[]> {
  const wm = await cutoff(store, now);
  const from = hourFloor(since);
  const want = probes ? new Set(probes) : null;
  const out: HourlyRollup[] = [];
  if (from < wm) {
    const q = probes && probes.length === 1 ? { probe: probes[0], since: from, until: wm, location } : { since: from, until: wm, location };
    for (const r of await store.rollups(q)) if (!want || want.has(r.probeId)) out.push(r);
  }
  out.push(...(await tailRollups(store.sql, Math.max(from, wm), want, location)));
  return out;
}

/** Hourly rollups from raw rows, with the accumulator src/store/rollups.ts uses (same definitions). */
export async function tailRollups(sql: Sql, since: number, want: ReadonlySet<string> | null, location?: string): Promise<HourlyRollup[]> {
  const rows = await sql.all<RollupSourceRow & { probe_id: string; started_at: number }>(
    `SELECT probe_id, started_at, outcome, confirmed, refusal, ttft_ms, total_ms, tokens_in, tokens_out, cost_usd
     FROM probe_results WHERE started_at >= ? AND drill_id IS NULL${location === undefined ? '' : ' AND location = ?'}`,
    location === undefined ? [since] : [since, location],
  );
  const acc = new Map<string, { probeId: string; hourStart: number; a: RollupAccumulator }>();
  for (const row of rows) {
    if (want && !want.has(row.probe_id)) continue;
    const hour = hourFloor(row.started_at);
    const key = `${row.probe_id}\u0000${hour}`;
    let e = acc.get(key);
    if (!e) acc.set(key, (e = { probeId: row.probe_id, hourStart: hour, a: new RollupAccumulator() }));
    e.a.add(row);
  }
  return [...acc.values()].map((e) => e.a.rollup(e.probeId, e.hourStart));
}

/** Locations that recorded results from `since` (rollups before the watermark, raw rows after it). */
export async function locationsSince(store: StoreLike, since: number, now: number): Promise<string[]> {
  const wm = await cutoff(store, now);
  const from = hourFloor(since);
  const out = new Set<string>(from < wm ? await store.rollupLocations(from, wm) : []);
  const raw = await store.sql.all<{ location: string }>(
    'SELECT DISTINCT location FROM probe_results WHERE started_at >= ? AND location IS NOT NULL',
    [Math.max(from, wm)],
  );
  for (const r of raw) out.add(r.location);
  return [...out].sort();
}

/** TTFT and total of non-failed, non-unknown, non-drill attempts of one probe since `since` (for exact 24 h percentiles). */
export async function latencySamples(sql: Sql, probe: string, since: number): Promise<{ ttft: number[]; total: number[] }> {
  const rows = await sql.all<{ ttft_ms: number | null; total_ms: number | null }>(
    `SELECT ttft_ms, total_ms FROM probe_results
     WHERE probe_id = ? AND started_at >= ? AND drill_id IS NULL AND outcome NOT IN ('failed', 'unknown')`,
    [probe, since],
  );
  const ttft: number[] = [];
  const total: number[] = [];
  for (const r of rows) {
    if (typeof r.ttft_ms === 'number') ttft.push(r.ttft_ms);
    if (typeof r.total_ms === 'number') total.push(r.total_ms);
  }
  return { ttft: ttft.sort((a, b) => a - b), total: total.sort((a, b) => a - b) };
}

export interface RefusalBucket {
  probeId: string;
  bucketStart: number;
  /** Attempts that produced an answer to classify (refusal label set). */
  answered: number;
  refused: number;
}

/** Refusal counts per probe and `bucketMs` bucket since `since` (raw rows: the label is not in the rollups). */
export async function refusalBuckets(sql: Sql, probes: readonly string[], since: number, bucketMs: number): Promise<RefusalBucket[]> {
  if (probes.length === 0) return [];
  const out: RefusalBucket[] = [];
  const q = `SELECT (started_at - (started_at % CAST(? AS BIGINT))) AS b, COUNT(refusal) AS answered,
       SUM(CASE WHEN refusal IN ('full_refusal', 'partial_refusal') THEN 1 ELSE 0 END) AS refused
     FROM probe_results WHERE probe_id = ? AND started_at >= ? AND drill_id IS NULL GROUP BY b ORDER BY b`;
  for (const p of probes) {
    for (const r of await sql.all<{ b: number; answered: number; refused: number | null }>(q, [bucketMs, p, since])) {
      out.push({ probeId: p, bucketStart: r.b, answered: r.answered, refused: r.refused ?? 0 });
    }
  }
  return out;
}

export interface ModelChange {
  at: number;
  probeId: string;
  target: string;
  requestedModel: string;
  kind: 'snapshot' | 'fingerprint';
  from: string | null;
  to: string | null;
}

/**
 * Where what a provider says it served changed between consecutive answers of a probe: a new snapshot behind an
 * alias, or a new system fingerprint. Gateway targets are left out (a fallback changes the served model by
 * design; drills show those).
 */
export async function modelChanges(sql: Sql, since: number): Promise<ModelChange[]> {
  const rows = await sql.all<{
    probe_id: string;
    started_at: number;
    target: string;
    requested_model: string;
    served_model: string;
    fingerprint: string | null;
    prev_model: string;
    prev_fp: string | null;
  }>(
    `SELECT probe_id, started_at, target, requested_model, served_model, fingerprint, prev_model, prev_fp FROM (
         SELECT probe_id, started_at, target, requested_model, served_model, fingerprint,
           LAG(served_model) OVER w AS prev_model, LAG(fingerprint) OVER w AS prev_fp,
           ROW_NUMBER() OVER w AS n
         FROM probe_results
         WHERE started_at >= ? AND drill_id IS NULL AND served_model IS NOT NULL AND target LIKE 'provider:%'
         WINDOW w AS (PARTITION BY probe_id ORDER BY started_at, id)
       ) AS c WHERE n > 1 AND (served_model IS DISTINCT FROM prev_model OR fingerprint IS DISTINCT FROM prev_fp)
       ORDER BY started_at`,
    [since],
  );
  const out: ModelChange[] = [];
  for (const r of rows) {
    const base = { at: r.started_at, probeId: r.probe_id, target: r.target, requestedModel: r.requested_model };
    if (r.served_model !== r.prev_model) out.push({ ...base, kind: 'snapshot', from: r.prev_model, to: r.served_model });
    if (r.fingerprint !== r.prev_fp) out.push({ ...base, kind: 'fingerprint', from: r.prev_fp, to: r.fingerprint });
  }
  return out;
}

/**
 * One entry per (target, requested model, kind, from → to): the first probe to see it. Several probes of the
 * same model see the same change minutes apart; the timeline marks it once.
 */
export function dedupeChanges(changes: readonly ModelChange[], windowMs = 6 * HOUR_MS): ModelChange[] {
  const seen = new Map<string, number>();
  const out: ModelChange[] = [];
  for (const c of changes) {
    const key = [c.target, c.requestedModel, c.kind, c.from, c.to].join('\u0000');
    const prev = seen.get(key);
    if (prev !== undefined && c.at - prev < windowMs) continue;
    seen.set(key, c.at);
    out.push(c);
  }
  return out;
}
