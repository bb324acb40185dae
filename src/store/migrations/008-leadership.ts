// Migration 8: the leader lease. One row per lease name; the instance named in it, while `expires_at` (the
// database's clock) is in the future, is the one that evaluates incidents, sends notifications, runs drills,
// polls model lists and processes webhooks. `token` grows by one whenever the lease changes hands: the fencing
// token every leader-only write carries. Queries: src/cluster/leader.ts.
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 8,
  name: 'leadership',
  up: `
    CREATE TABLE leader_lease (
      name        TEXT    PRIMARY KEY,
      holder      TEXT    NOT NULL,          -- instance id (host:pid:random)
      location    TEXT    NOT NULL,
      token       INTEGER NOT NULL,          -- fencing token
      acquired_at INTEGER NOT NULL,          -- epoch ms, database clock
      renewed_at  INTEGER NOT NULL,
      expires_at  INTEGER NOT NULL
    );
  `,
};
