// Migration 5: webhook events (raw, stored before processing; also the replay guard), provider model lists,
// the deprecation registry, countdown notices sent, and status-page incident state.
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 5,
  name: 'webhooks',
  up: `
    -- Every authenticated webhook, stored before it is processed so a crash or a processing bug loses nothing.
    -- (source, event_id) is the replay guard: a webhook-id seen before is acknowledged and not processed again.
    CREATE TABLE webhook_events (
      id           INTEGER PRIMARY KEY,
      source       TEXT    NOT NULL,           -- vigil.yaml webhooks key
      kind         TEXT    NOT NULL,           -- standard-webhooks | statuspage | generic
      event_id     TEXT    NOT NULL,           -- webhook-id, statuspage update id, or sha256 of the body
      received_at  INTEGER NOT NULL,           -- epoch ms
      headers      TEXT    NOT NULL,           -- JSON: content-type, webhook-id, webhook-timestamp (never signatures or tokens)
      body         BLOB    NOT NULL,           -- raw bytes as received
      status       TEXT    NOT NULL,           -- pending | processed | failed
      attempts     INTEGER NOT NULL DEFAULT 0,
      outcome      TEXT,                       -- what processing did, e.g. "deprecation gpt-4o", "ignored response.completed"
      error        TEXT,
      processed_at INTEGER,
      UNIQUE (source, event_id)
    );
    -- Only unprocessed rows (startup reprocessing); kept tiny so an insert costs few page writes.
    CREATE INDEX webhook_events_unprocessed ON webhook_events (id) WHERE status <> 'processed';

    -- What each provider's model list said, by the provider name of vigil.yaml.
    CREATE TABLE provider_models (
      provider      TEXT    NOT NULL,
      model         TEXT    NOT NULL,
      present       INTEGER NOT NULL,          -- 0/1 in the latest successful poll
      first_seen    INTEGER NOT NULL,
      last_seen     INTEGER NOT NULL,
      shutdown_date TEXT,                      -- OpenAI shutdown_date (YYYY-MM-DD) when listed
      PRIMARY KEY (provider, model)
    ) WITHOUT ROWID;

    -- Models that probes or consumers use, as seen by the poller: disappearance needs confirmation.
    CREATE TABLE model_watch (
      provider     TEXT    NOT NULL,
      model        TEXT    NOT NULL,
      seen         INTEGER NOT NULL,           -- 0/1: ever satisfied by a listed id
      via          TEXT,                       -- the listed id that last satisfied it (itself, or a dated snapshot)
      missed       INTEGER NOT NULL,           -- consecutive successful polls without it
      firing       INTEGER NOT NULL,           -- 0/1: a critical signal is out
      updated_at   INTEGER NOT NULL,
      PRIMARY KEY (provider, model)
    ) WITHOUT ROWID;

    CREATE TABLE model_polls (
      provider     TEXT PRIMARY KEY,
      last_ok_at   INTEGER,
      last_try_at  INTEGER NOT NULL,
      last_error   TEXT,
      models       INTEGER
    ) WITHOUT ROWID;

    -- Dated deprecations by where they came from (config, webhook:<source>, api:<provider>, shipped).
    CREATE TABLE deprecations (
      model        TEXT    NOT NULL,
      provider     TEXT    NOT NULL DEFAULT '',  -- provider kind (openai, anthropic, gemini) or '' for any
      origin       TEXT    NOT NULL,
      shutdown_at  TEXT    NOT NULL,             -- YYYY-MM-DD (UTC)
      replacement  TEXT,
      url          TEXT,
      noted_at     INTEGER NOT NULL,
      PRIMARY KEY (model, provider, origin)
    ) WITHOUT ROWID;

    -- Countdown notices sent: each lead time fires once per model, owner and shutdown date.
    CREATE TABLE deprecation_notices (
      model        TEXT    NOT NULL,
      provider     TEXT    NOT NULL,
      owner        TEXT    NOT NULL,
      shutdown_at  TEXT    NOT NULL,
      lead_days    INTEGER NOT NULL,             -- 0 = on or after the shutdown date
      fired_at     INTEGER NOT NULL,
      emitted      INTEGER NOT NULL,             -- 0 = passed over (a later lead was already due), 1 = signalled
      resolved     INTEGER NOT NULL,             -- 1 once superseded by the next lead or no longer relevant
      PRIMARY KEY (model, provider, owner, shutdown_at, lead_days)
    ) WITHOUT ROWID;

    -- Status-page incidents and components we have signalled, so out-of-order updates never reopen one.
    CREATE TABLE status_incidents (
      source       TEXT    NOT NULL,
      ref          TEXT    NOT NULL,             -- incident id, or component:<id>
      status       TEXT    NOT NULL,
      updated_at   TEXT    NOT NULL,             -- ISO from the payload (ordering guard)
      resolved     INTEGER NOT NULL,
      PRIMARY KEY (source, ref)
    ) WITHOUT ROWID;
  `,
};
