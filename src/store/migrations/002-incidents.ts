// Migration 2: the incidents engine (incidents, their events, notification groups, silences). Queries: src/incidents/db.ts.
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 2,
  name: 'incidents',
  up: `
    CREATE TABLE incidents (
      id            TEXT    PRIMARY KEY,
      dedup_key     TEXT    NOT NULL,          -- detector:key
      detector      TEXT    NOT NULL,
      key           TEXT    NOT NULL,
      state         TEXT    NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
      severity      TEXT    NOT NULL,
      summary       TEXT    NOT NULL,
      labels        TEXT    NOT NULL,          -- JSON
      evidence      TEXT    NOT NULL,          -- JSON
      first_seen    INTEGER NOT NULL,          -- epoch ms
      last_seen     INTEGER NOT NULL,
      fired_at      INTEGER,
      resolved_at   INTEGER,
      flapping      INTEGER NOT NULL DEFAULT 0,
      for_ms        INTEGER NOT NULL DEFAULT 0,
      signal_status TEXT    NOT NULL,          -- what the detector last said (a flapping incident holds firing)
      flips         TEXT    NOT NULL DEFAULT '[]' -- JSON epoch ms of recent firing/resolved flips
    );
    -- One open incident per dedup key: a second one would be a duplicate page.
    CREATE UNIQUE INDEX incidents_open_key ON incidents (dedup_key) WHERE state <> 'resolved';
    CREATE INDEX incidents_key_resolved ON incidents (dedup_key, resolved_at);
    CREATE INDEX incidents_first_seen ON incidents (first_seen);

    CREATE TABLE incident_events (
      id          INTEGER PRIMARY KEY,
      incident_id TEXT    NOT NULL,
      at          INTEGER NOT NULL,
      kind        TEXT    NOT NULL,
      detail      TEXT    NOT NULL
    );
    CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

    -- Alerts notified together (route + owner + group_by values); one PagerDuty incident / Slack message each.
    CREATE TABLE notify_groups (
      id            TEXT    PRIMARY KEY,
      route_index   INTEGER NOT NULL,
      group_key     TEXT    NOT NULL,
      dedup_key     TEXT    NOT NULL,          -- deterministic from group_key
      owner         TEXT    NOT NULL,
      labels        TEXT    NOT NULL,          -- JSON: the group_by values
      state         TEXT    NOT NULL CHECK (state IN ('open', 'closed')),
      created_at    INTEGER NOT NULL,
      last_flush_at INTEGER,
      receivers     TEXT    NOT NULL DEFAULT '{}' -- JSON: per receiver kind, what it has been told
    );
    CREATE UNIQUE INDEX notify_groups_open_key ON notify_groups (group_key) WHERE state = 'open';

    CREATE TABLE notify_group_members (
      group_id    TEXT NOT NULL,
      incident_id TEXT NOT NULL,
      PRIMARY KEY (group_id, incident_id)
    ) WITHOUT ROWID;
    CREATE INDEX notify_group_members_incident ON notify_group_members (incident_id);

    -- Silences created through the API (config silences live in alerts/*.yaml).
    CREATE TABLE silences (
      id         TEXT    PRIMARY KEY,
      matchers   TEXT    NOT NULL,             -- JSON {"eq": {...}, "re": {...}}
      starts_at  INTEGER NOT NULL,
      ends_at    INTEGER NOT NULL,
      comment    TEXT    NOT NULL,
      created_by TEXT    NOT NULL,
      created_at INTEGER NOT NULL,
      deleted_at INTEGER                       -- DELETE /api/silences/:id keeps the record
    );
  `,
};
