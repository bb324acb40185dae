// Migration 11: hourly rollups per probe *and location*, so the heatmap can show one vantage point's week from
// rollups as it shows all of them. Same columns and definitions as probe_rollups_hourly (which stays the
// all-locations view, untouched: old data reads as before). Filled by the same rollup pass from the same raw rows,
// for results that carry a location; hours rolled up before this migration have no per-location rows.
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 11,
  name: 'rollup_locations',
  up: `
    CREATE TABLE probe_rollups_hourly_location (
      probe_id           TEXT    NOT NULL,
      location           TEXT    NOT NULL,
      hour_start         INTEGER NOT NULL,
      count              INTEGER NOT NULL,
      failures           INTEGER NOT NULL,
      degraded           INTEGER NOT NULL,
      confirmed_failures INTEGER NOT NULL,
      refusals           INTEGER NOT NULL,
      ttft_n             INTEGER NOT NULL,
      ttft_p50           REAL,
      ttft_p95           REAL,
      ttft_p99           REAL,
      total_n            INTEGER NOT NULL,
      total_p50          REAL,
      total_p95          REAL,
      total_p99          REAL,
      tokens_in          INTEGER NOT NULL,
      tokens_out         INTEGER NOT NULL,
      cost_usd           REAL    NOT NULL,
      -- hour before location: a recompute replaces one probe-hour's locations as a contiguous range
      PRIMARY KEY (probe_id, hour_start, location)
    );
    CREATE INDEX probe_rollups_hourly_location_time ON probe_rollups_hourly_location (hour_start);
  `,
};
