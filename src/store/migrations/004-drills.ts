// Migration 4: drill results. Reserved for its feature; fill in `up` (never renumber).
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 4,
  name: 'drills',
  up: 'SELECT 1;',
};
