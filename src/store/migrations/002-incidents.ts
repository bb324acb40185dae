// Migration 2: the incidents engine (incidents, their events, silences). Reserved for its feature; fill in `up` (never renumber).
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 2,
  name: 'incidents',
  up: 'SELECT 1;',
};
