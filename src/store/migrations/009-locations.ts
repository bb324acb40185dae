// Migration 9: the vantage point of each result. Every instance stamps its location (vigil.yaml `location`,
// VIGIL_LOCATION) on the results it records; rows from before have none.
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 9,
  name: 'locations',
  up: `
    ALTER TABLE probe_results ADD COLUMN location TEXT;
  `,
};
