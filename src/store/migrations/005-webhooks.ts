// Migration 5: webhook events, seen ids, model lists, deprecations. Reserved for its feature; fill in `up` (never renumber).
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 5,
  name: 'webhooks',
  up: 'SELECT 1;',
};
