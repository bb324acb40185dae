// Migration 6: detector state. One row per (detector, key): the JSON state an online detector needs to resume
// after a restart (the latency detector's hour-of-week baselines; other detectors may use their own rows).
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 6,
  name: 'detectors',
  up: `
    CREATE TABLE detector_state (
      detector   TEXT    NOT NULL,
      key        TEXT    NOT NULL,
      state      TEXT    NOT NULL,   -- JSON, shape owned by the detector (carries its own version)
      updated_at INTEGER NOT NULL,   -- epoch ms
      PRIMARY KEY (detector, key)
    ) STRICT;
  `,
};
