// Hourly rollups per probe, computed exactly from the raw rows of each complete hour.
//
// Bookkeeping: meta `rollup.watermark` = epoch ms such that every hour before it has been queued for rollup;
// `rollup_dirty` is the queue of (probe, hour) still to compute. A result inserted later for an hour before the
// watermark is queued by a trigger (migration 1), and the next rollup() recomputes that probe-hour from its raw
// rows. Every rollup row is an upsert, so re-running (or crashing half-way) is harmless. Drill traffic (drill_id set) is excluded: injected faults are not the provider's availability.
import { whereClause } from './db.ts';
import type { Sql } from './sql.ts';

export const HOUR_MS = 3_600_000;
export const WATERMARK_KEY = 'rollup.watermark';

export const hourFloor = (t: number): number => Math.floor(t / HOUR_MS) * HOUR_MS;

export interface LatencySummary {
  /** Number of samples (non-null values from results that did not fail). */
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface HourlyRollup {
  probeId: string;
  hourStart: number;
  count: number;
  failures: number;
  degraded: number;
  confirmedFailures: number;
  refusals: number;
  ttft: LatencySummary;
  total: LatencySummary;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

export interface RollupQuery {
  probe?: string;
  /** Inclusive lower bound on hourStart. */
  since?: number;
  /** Exclusive upper bound on hourStart. */
  until?: number;
  /** One vantage point's rollups (migration 11) instead of all locations together. */
  location?: string;
}

export interface RollupReport {
  /** Probe-hours computed (new or recomputed). */
  written: number;
  /** Probe-hours that were queued before this run: late results, or a run interrupted by a crash. */
  recomputed: number;
  watermark: number | null;
}

/**
 * Nearest-rank percentile (the smallest value with at least p% of samples at or below it): always a value that
 * was actually observed, exact, and what most SLO tooling means by "p95 of these N requests".
 * `sorted` must be ascending. Returns null for no samples.
 */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  // p·n/100 with a tolerance: (7 / 100) * 100 is 7.000000000000001 in floating point and would round up to rank 8.
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-9);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function summarise(values: number[]): LatencySummary {
  values.sort((a, b) => a - b);
  return { n: values.length, p50: nearestRank(values, 50), p95: nearestRank(values, 95), p99: nearestRank(values, 99) };
}

/** The probe_results columns a rollup is computed from. */
export interface RollupSourceRow {
  outcome: string;
  confirmed: number;
  refusal: string | null;
  ttft_ms: number | null;
  total_ms: number | null;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_usd: number | null;
}

/** One probe-hour's rollup, fed raw rows one at a time (the daemon's rollups and the status page's live tail). */
export class RollupAccumulator {
  count = 0;
  failures = 0;
  degraded = 0;
  confirmedFailures = 0;
  refusals = 0;
  ttft: number[] = [];
  total: number[] = [];
  tokensIn = 0;
  tokensOut = 0;
  costUsd = 0;

  add(r: RollupSourceRow): void {
    this.count++;
    const failed = r.outcome === 'failed';
    if (failed) this.failures++;
    if (r.outcome === 'degraded') this.degraded++;
    if (failed && r.confirmed === 1) this.confirmedFailures++;
    if (r.refusal === 'full_refusal' || r.refusal === 'partial_refusal') this.refusals++;
    // Latency percentiles describe answers the user got: a failed attempt's time (a 2 ms connect refusal or a
    // 30 s timeout) would pull them either way; failures are counted separately.
    // `unknown` (Vigil's own fault) is neither an answer nor a failure of the target.
    if (!failed && r.outcome !== 'unknown') {
      if (typeof r.ttft_ms === 'number') this.ttft.push(r.ttft_ms);
      if (typeof r.total_ms === 'number') this.total.push(r.total_ms);
    }
    this.tokensIn += r.tokens_in ?? 0;
    this.tokensOut += r.tokens_out ?? 0;
    this.costUsd += r.cost_usd ?? 0;
  }

  /** Sorts the collected latencies in place: call once, after the last add(). */
  rollup(probeId: string, hourStart: number): HourlyRollup {
    return {
      probeId,
      hourStart,
      count: this.count,
      failures: this.failures,
      degraded: this.degraded,
      confirmedFailures: this.confirmedFailures,
      refusals: this.refusals,
      ttft: summarise(this.ttft),
      total: summarise(this.total),
      tokensIn: this.tokensIn,
      tokensOut: this.tokensOut,
      costUsd: this.costUsd,
    };
  }
}

const RAW_COLS = 'probe_id, location, outcome, confirmed, refusal, ttft_ms, total_ms, tokens_in, tokens_out, cost_usd';
const ROLLUP_COLS = `probe_id, hour_start, count, failures, degraded, confirmed_failures, refusals, ttft_n, ttft_p50,
  ttft_p95, ttft_p99, total_n, total_p50, total_p95, total_p99, tokens_in, tokens_out, cost_usd`;
const LOC_COLS = `probe_id, location, hour_start, count, failures, degraded, confirmed_failures, refusals, ttft_n,
  ttft_p50, ttft_p95, ttft_p99, total_n, total_p50, total_p95, total_p99, tokens_in, tokens_out, cost_usd`;
const SET_META = 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value';

export class RollupQueries {
  private readonly sql: Sql;
  private readonly q: Record<'nextHour' | 'markHour' | 'probeHourRows' | 'upsert' | 'insertLoc', string>;

  constructor(sql: Sql) {
    this.sql = sql;
    // INDEXED BY (SQLite): one hour across all probes is a contiguous range of the time index; with ANALYZE stats
    // the planner may otherwise pick a skip-scan of (probe_id, started_at), much slower here.
    const byTime = sql.dialect.indexedBy('probe_results_time');
    const byProbe = sql.dialect.indexedBy('probe_results_probe_time');
    this.q = {
      nextHour: `SELECT MIN(started_at) AS t FROM probe_results ${byTime}
                 WHERE started_at >= ? AND started_at < ? AND drill_id IS NULL`,
      markHour: `INSERT INTO rollup_dirty (probe_id, hour_start)
                 SELECT DISTINCT probe_id, CAST(? AS BIGINT) FROM probe_results ${byTime}
                 WHERE started_at >= ? AND started_at < ? AND drill_id IS NULL
                 ON CONFLICT DO NOTHING`,
      probeHourRows: `SELECT ${RAW_COLS} FROM probe_results ${byProbe}
                      WHERE probe_id = ? AND started_at >= ? AND started_at < ? AND drill_id IS NULL`,
      upsert: `INSERT INTO probe_rollups_hourly (${ROLLUP_COLS})
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (probe_id, hour_start) DO UPDATE SET
                 count = excluded.count, failures = excluded.failures, degraded = excluded.degraded,
                 confirmed_failures = excluded.confirmed_failures, refusals = excluded.refusals,
                 ttft_n = excluded.ttft_n, ttft_p50 = excluded.ttft_p50, ttft_p95 = excluded.ttft_p95,
                 ttft_p99 = excluded.ttft_p99, total_n = excluded.total_n, total_p50 = excluded.total_p50,
                 total_p95 = excluded.total_p95, total_p99 = excluded.total_p99, tokens_in = excluded.tokens_in,
                 tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd`,
      insertLoc: `INSERT INTO probe_rollups_hourly_location (${LOC_COLS})
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    };
  }

  /** Locations with per-location rollups in [since, until): for the heatmap's location choices. */
  async locations(since: number, until: number): Promise<string[]> {
    const rows = await this.sql.all<{ location: string }>(
      'SELECT DISTINCT location FROM probe_rollups_hourly_location WHERE hour_start >= ? AND hour_start < ? ORDER BY location',
      [since, until],
    );
    return rows.map((r) => r.location);
  }

  async watermark(): Promise<number | null> {
    const row = await this.sql.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [WATERMARK_KEY]);
    return row ? Number(row.value) : null;
  }

  /**
   * Recompute one probe-hour from its raw rows, all locations together and each location on its own (rows that
   * carry one), and take it off the queue. Caller holds a transaction.
   */
  private async recompute(probeId: string, hourStart: number): Promise<void> {
    const a = new RollupAccumulator();
    const byLoc = new Map<string, RollupAccumulator>();
    for (const r of await this.sql.all<RollupSourceRow & { location: string | null }>(this.q.probeHourRows, [probeId, hourStart, hourStart + HOUR_MS])) {
      a.add(r);
      if (r.location === null || r.location === undefined) continue;
      let l = byLoc.get(r.location);
      if (!l) byLoc.set(r.location, (l = new RollupAccumulator()));
      l.add(r);
    }
    const values = (r: HourlyRollup): (number | null)[] => [
      r.count, r.failures, r.degraded, r.confirmedFailures, r.refusals,
      r.ttft.n, r.ttft.p50, r.ttft.p95, r.ttft.p99, r.total.n, r.total.p50, r.total.p95, r.total.p99,
      r.tokensIn, r.tokensOut, r.costUsd,
    ];
    if (a.count > 0) {
      await this.sql.run(this.q.upsert, [probeId, hourStart, ...values(a.rollup(probeId, hourStart))]);
    } else {
      await this.sql.run('DELETE FROM probe_rollups_hourly WHERE probe_id = ? AND hour_start = ?', [probeId, hourStart]);
    }
    // Replaced as a set: a location whose rows are gone from this hour loses its row too.
    await this.sql.run('DELETE FROM probe_rollups_hourly_location WHERE probe_id = ? AND hour_start = ?', [probeId, hourStart]);
    for (const [loc, l] of byLoc) await this.sql.run(this.q.insertLoc, [probeId, loc, hourStart, ...values(l.rollup(probeId, hourStart))]);
    await this.sql.run('DELETE FROM rollup_dirty WHERE probe_id = ? AND hour_start = ?', [probeId, hourStart]);
  }

  /**
   * Roll up every hour before `untilHourExclusive` (floored to the hour) that is not rolled up yet, plus hours
   * that received late results. Two phases, both crash-safe and re-runnable:
   *  1. for each new hour with data: queue every (probe, hour) in rollup_dirty and advance the watermark past it,
   *     in one transaction (from then on the trigger queues late results for that hour too);
   *  2. drain the queue in chunks of `chunk` probe-hours, one short transaction each, yielding to the event loop
   *     in between, so 10,000 probes' worth of hour never blocks the daemon in one go.
   */
  async rollup(untilHourExclusive: number, chunk = 200): Promise<RollupReport> {
    chunk = Math.max(1, Math.floor(chunk));
    const until = hourFloor(untilHourExclusive);
    const recomputed = (await this.sql.get<{ c: number }>('SELECT COUNT(*) AS c FROM rollup_dirty WHERE hour_start < ?', [until]))!.c;

    let cursor = (await this.watermark()) ?? Number.MIN_SAFE_INTEGER;
    while (cursor < until) {
      const next = (await this.sql.get<{ t: number | null }>(this.q.nextHour, [cursor, until]))!.t;
      if (next === null) break;
      const hour = hourFloor(next);
      await this.sql.transaction(async () => {
        await this.sql.run(this.q.markHour, [hour, hour, hour + HOUR_MS]);
        await this.sql.run(SET_META, [WATERMARK_KEY, String(hour + HOUR_MS)]);
      });
      cursor = hour + HOUR_MS;
      await yieldToLoop();
    }
    // No raw rows left before `until`: every hour before it is queued or done (possibly with nothing to do).
    const w = await this.watermark();
    if (w === null || w < until) await this.sql.run(SET_META, [WATERMARK_KEY, String(until)]);

    let written = 0;
    for (;;) {
      const batch = await this.sql.all<{ probe_id: string; hour_start: number }>(
        'SELECT probe_id, hour_start FROM rollup_dirty WHERE hour_start < ? ORDER BY hour_start, probe_id LIMIT ?',
        [until, chunk],
      );
      if (batch.length === 0) break;
      await this.sql.transaction(async () => {
        for (const d of batch) await this.recompute(d.probe_id, d.hour_start);
      });
      written += batch.length;
      await yieldToLoop();
    }
    return { written, recomputed, watermark: await this.watermark() };
  }

  async list(q: RollupQuery = {}): Promise<HourlyRollup[]> {
    const w = whereClause([
      ['probe_id = ?', q.probe],
      ['location = ?', q.location],
      ['hour_start >= ?', q.since],
      ['hour_start < ?', q.until],
    ]);
    const table = q.location === undefined ? 'probe_rollups_hourly' : 'probe_rollups_hourly_location';
    const rows = await this.sql.all<Record<string, any>>(
      `SELECT * FROM ${table}${w.sql} ORDER BY hour_start, probe_id`,
      w.params,
    );
    return rows.map((r) => ({
      probeId: r.probe_id,
      hourStart: r.hour_start,
      count: r.count,
      failures: r.failures,
      degraded: r.degraded,
      confirmedFailures: r.confirmed_failures,
      refusals: r.refusals,
      ttft: { n: r.ttft_n, p50: r.ttft_p50, p95: r.ttft_p95, p99: r.ttft_p99 },
      total: { n: r.total_n, p50: r.total_p50, p95: r.total_p95, p99: r.total_p99 },
      tokensIn: r.tokens_in,
      tokensOut: r.tokens_out,
      costUsd: r.cost_usd,
    }));
  }
}

export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
