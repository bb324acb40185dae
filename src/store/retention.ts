// Retention: raw results are kept N days, and deleted only once their hour is rolled up; rollups are kept longer.
// Deletes run in small batches (one short transaction each) with a yield to the event loop between batches, so
// purging weeks of backlog never holds the write lock or stalls probes for more than a few milliseconds.
import type { Sql } from './sql.ts';
import { HOUR_MS, WATERMARK_KEY, hourFloor, yieldToLoop } from './rollups.ts';

export interface RetentionPolicy {
  rawRetentionMs: number;
  rollupRetentionMs: number;
  /** Rows per delete statement. Default 500 (under ~10 ms of event-loop time each on a laptop). */
  batchSize?: number;
}

export interface RetentionReport {
  rawDeleted: number;
  rollupsDeleted: number;
  /** Per-location rollup rows (migration 11) deleted under the same cutoff. */
  locationRollupsDeleted: number;
  /** Raw rows with startedAt before this were eligible (null: nothing rolled up yet, so nothing raw deleted). */
  rawCutoff: number | null;
  rollupCutoff: number;
}

export class RetentionQueries {
  private readonly sql: Sql;
  private readonly rawSql: string;

  constructor(sql: Sql) {
    this.sql = sql;
    // INDEXED BY (SQLite): once PRAGMA optimize has gathered stats, the planner prefers a skip-scan of
    // (probe_id, started_at), which made each batch ~15× slower; the oldest rows are the front of the time index.
    // Skip probe-hours waiting for a recompute (late results): their raw rows are the only truth left.
    this.rawSql = `
      DELETE FROM probe_results WHERE id IN (
        SELECT id FROM probe_results r ${sql.dialect.indexedBy('probe_results_time')}
        WHERE r.started_at < ?
          AND NOT EXISTS (SELECT 1 FROM rollup_dirty d
                          WHERE d.probe_id = r.probe_id AND d.hour_start = r.started_at - (r.started_at % ${HOUR_MS}))
        LIMIT ?)`;
  }

  async apply(now: number, policy: RetentionPolicy): Promise<RetentionReport> {
    const batch = Math.max(1, Math.floor(policy.batchSize ?? 500));
    const wm = await this.sql.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [WATERMARK_KEY]);
    // Whole hours only, so an hour is never half-deleted (a later recompute of it would be wrong), and never at or
    // past the rollup watermark. Before the first rollup nothing raw is deleted.
    const rawCutoff = wm ? Math.min(hourFloor(now - policy.rawRetentionMs), Number(wm.value)) : null;
    const rollupCutoff = hourFloor(now - policy.rollupRetentionMs);

    let rawDeleted = 0;
    if (rawCutoff !== null) {
      for (;;) {
        const { changes } = await this.sql.run(this.rawSql, [rawCutoff, batch]);
        rawDeleted += changes;
        if (changes < batch) break;
        await yieldToLoop();
      }
    }
    let rollupsDeleted = 0;
    for (;;) {
      const { changes } = await this.sql.run(
        `DELETE FROM probe_rollups_hourly WHERE (probe_id, hour_start) IN (
           SELECT probe_id, hour_start FROM probe_rollups_hourly WHERE hour_start < ? LIMIT ?)`,
        [rollupCutoff, batch],
      );
      rollupsDeleted += changes;
      if (changes < batch) break;
      await yieldToLoop();
    }
    let locationRollupsDeleted = 0;
    for (;;) {
      const { changes } = await this.sql.run(
        `DELETE FROM probe_rollups_hourly_location WHERE (probe_id, location, hour_start) IN (
           SELECT probe_id, location, hour_start FROM probe_rollups_hourly_location WHERE hour_start < ? LIMIT ?)`,
        [rollupCutoff, batch],
      );
      locationRollupsDeleted += changes;
      if (changes < batch) break;
      await yieldToLoop();
    }
    return { rawDeleted, rollupsDeleted, locationRollupsDeleted, rawCutoff, rollupCutoff };
  }
}
