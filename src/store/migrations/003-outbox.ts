// Migration 3: the durable notification outbox. Reserved for its feature; fill in `up` (never renumber).
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 3,
  name: 'outbox',
  up: 'SELECT 1;',
};
