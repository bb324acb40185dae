// Migration 10: the fencing token under which an outbox row was claimed. A new leader re-queues only rows left
// `sending` under an older token (a dead or deposed leader's), never the rows the live leader is sending.
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 10,
  name: 'outbox_fencing',
  up: `
    ALTER TABLE outbox ADD COLUMN claim_token INTEGER;
  `,
};
