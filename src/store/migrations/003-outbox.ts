// Migration 3: the durable notification outbox. Every notification is a row before it is sent; delivery
// retries from here after outages and restarts. Queries: src/incidents/outbox.ts.
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 3,
  name: 'outbox',
  up: `
    CREATE TABLE outbox (
      id              INTEGER PRIMARY KEY,
      group_id        TEXT    NOT NULL,
      dedup_key       TEXT    NOT NULL,        -- delivery order is kept per (dedup_key, receiver)
      owner           TEXT    NOT NULL,
      receiver        TEXT    NOT NULL,        -- receiver kind; built from the live config at delivery (no secrets here)
      action          TEXT    NOT NULL,
      reason          TEXT    NOT NULL,
      incident_id     TEXT    NOT NULL,        -- the lead incident
      payload         TEXT    NOT NULL,        -- JSON: incident snapshot, members, links
      status          TEXT    NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'expired')),
      created_at      INTEGER NOT NULL,
      expires_at      INTEGER NOT NULL,
      next_attempt_at INTEGER NOT NULL,
      attempts        INTEGER NOT NULL DEFAULT 0,
      last_error      TEXT,
      ref             TEXT,                    -- PagerDuty dedup key or Slack channel:ts once delivered
      done_at         INTEGER
    );
    CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE status IN ('queued', 'sending');
    CREATE INDEX outbox_order ON outbox (dedup_key, receiver, id);
    CREATE INDEX outbox_group ON outbox (group_id, receiver, id);

    -- Which incidents a notification spoke of (a group notification lists several): their history.
    CREATE TABLE outbox_members (
      incident_id TEXT    NOT NULL,
      outbox_id   INTEGER NOT NULL,
      PRIMARY KEY (incident_id, outbox_id)
    ) WITHOUT ROWID;

    CREATE TABLE outbox_attempts (
      id         INTEGER PRIMARY KEY,
      outbox_id  INTEGER NOT NULL,
      at         INTEGER NOT NULL,
      ok         INTEGER NOT NULL,
      retryable  INTEGER NOT NULL,
      error      TEXT,
      ref        TEXT
    );
    CREATE INDEX outbox_attempts_row ON outbox_attempts (outbox_id, id);
  `,
};
