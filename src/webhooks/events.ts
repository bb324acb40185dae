// Queries for the raw webhook events (migration 005): insert-before-process, replay guard, reprocessing.
import type { DatabaseSync, StatementSync } from 'node:sqlite';

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
  private readonly q: Record<'insert' | 'done' | 'failed' | 'pending' | 'count' | 'prune' | 'byStatus', StatementSync>;

  constructor(db: DatabaseSync) {
    this.q = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO webhook_events (source, kind, event_id, received_at, headers, body, status)
         VALUES (?, ?, ?, ?, ?, ?, 'pending')`,
      ),
      done: db.prepare("UPDATE webhook_events SET status = 'processed', attempts = attempts + 1, outcome = ?, error = NULL, processed_at = ? WHERE id = ?"),
      failed: db.prepare("UPDATE webhook_events SET status = 'failed', attempts = attempts + 1, error = ? WHERE id = ?"),
      pending: db.prepare(
        `SELECT id, source, kind, event_id, received_at, body, status, attempts FROM webhook_events
         WHERE status <> 'processed' AND attempts < ? ORDER BY id LIMIT ?`,
      ),
      count: db.prepare('SELECT COUNT(*) AS n FROM webhook_events'),
      byStatus: db.prepare('SELECT status, COUNT(*) AS n FROM webhook_events GROUP BY status'),
      prune: db.prepare("DELETE FROM webhook_events WHERE status = 'processed' AND received_at < ?"),
    };
  }

  /** Store a verified event; null when (source, eventId) was stored before (a replay). */
  insert(e: { source: string; kind: string; eventId: string; receivedAt: number; headers: Record<string, string>; body: Buffer }): number | null {
    const r = this.q.insert.run(e.source, e.kind, e.eventId, e.receivedAt, JSON.stringify(e.headers), e.body);
    return r.changes === 0 ? null : Number(r.lastInsertRowid);
  }

  markProcessed(id: number, outcome: string, at: number): void {
    this.q.done.run(outcome.slice(0, 500), at, id);
  }

  markFailed(id: number, error: string): void {
    this.q.failed.run(error.slice(0, 500), id);
  }

  /** Events stored but not yet processed (crash, processing error), oldest first. */
  pending(limit = 1000): StoredEvent[] {
    return (this.q.pending.all(MAX_ATTEMPTS, limit) as Record<string, unknown>[]).map((r) => ({
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

  count(): number {
    return Number((this.q.count.get() as { n: number }).n);
  }

  countsByStatus(): Record<string, number> {
    return Object.fromEntries((this.q.byStatus.all() as { status: string; n: number }[]).map((r) => [r.status, Number(r.n)]));
  }

  /** Drop processed events received before `before` (their ids are past any timestamp tolerance by then). */
  prune(before: number): number {
    return Number(this.q.prune.run(before).changes);
  }
}
