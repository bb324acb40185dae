// Migration 6: detector baselines and state. Reserved for its feature; fill in `up` (never renumber).
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 6,
  name: 'detectors',
  up: 'SELECT 1;',
};
