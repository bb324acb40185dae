// Queries for the raw webhook events (migration 005): insert-before-process, replay guard, reprocessing.
// Asynchronous SQL on the store (SQLite or Postgres).
import type { Sql } from '../store/sql.ts';

export interface StoredEvent {
  id: number;
  source: string;
  kind: string;
  eventId: string;
  receivedAt: number;
  body: Buffer;
  status: 'pending' | 'processed' | 'failed';
  attempts: number;
}

export const MAX_ATTEMPTS = 5;

export class WebhookEvents {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Store a verified event; null when (source, eventId) was stored before (a replay). */
  async insert(e: { source: string; kind: string; eventId: string; receivedAt: number; headers: Record<string, string>; body: Buffer }): Promise<number | null> {
    const r = await this.sql.get<{ id: number }>(
      `INSERT INTO webhook_events (source, kind, event_id, received_at, headers, body, status)
       VALUES (?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (source, event_id) DO NOTHING RETURNING id`,
      [e.source, e.kind, e.eventId, e.receivedAt, JSON.stringify(e.headers), e.body],
    );
    return r ? Number(r.id) : null;
  }

  async markProcessed(id: number, outcome: string, at: number): Promise<void> {
    await this.sql.run("UPDATE webhook_events SET status = 'processed', attempts = attempts + 1, outcome = ?, error = NULL, processed_at = ? WHERE id = ?", [
      outcome.slice(0, 500),
      at,
      id,
    ]);
  }

  async markFailed(id: number, error: string): Promise<void> {
    await this.sql.run("UPDATE webhook_events SET status = 'failed', attempts = attempts + 1, error = ? WHERE id = ?", [error.slice(0, 500), id]);
  }

  /**
   * Events stored but not yet processed, oldest first: those stored by an instance that does not lead (`pending`),
   * and with `retryFailed` also those whose processing failed (crash, processing error) fewer than MAX_ATTEMPTS times.
   */
  async pending(limit = 1000, opts: { retryFailed?: boolean } = {}): Promise<StoredEvent[]> {
    const which = opts.retryFailed === false ? "status = 'pending'" : "status <> 'processed'";
    const rows = await this.sql.all<Record<string, unknown>>(
      `SELECT id, source, kind, event_id, received_at, body, status, attempts FROM webhook_events
       WHERE ${which} AND attempts < ? ORDER BY id LIMIT ?`,
      [MAX_ATTEMPTS, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      source: String(r.source),
      kind: String(r.kind),
      eventId: String(r.event_id),
      receivedAt: Number(r.received_at),
      body: Buffer.from(r.body as Uint8Array),
      status: r.status as StoredEvent['status'],
      attempts: Number(r.attempts),
    }));
  }

  async count(): Promise<number> {
    return Number((await this.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_events'))?.n ?? 0);
  }

  async countsByStatus(): Promise<Record<string, number>> {
    const rows = await this.sql.all<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM webhook_events GROUP BY status');
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Drop processed events received before `before` (their ids are past any timestamp tolerance by then). */
  async prune(before: number): Promise<number> {
    return (await this.sql.run("DELETE FROM webhook_events WHERE status = 'processed' AND received_at < ?", [before])).changes;
  }
}
