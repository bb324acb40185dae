// The durable outbox: a notification is a SQLite row before anything is sent, and delivery works from the
// rows. So a receiver that is down for half an hour, or a restart, loses nothing.
//
// - Order: per (dedup key, receiver) the rows go out one after another in id order; a row waits while an
//   earlier one of its line is queued or in flight, so a resolve never overtakes its trigger.
// - Retries: exponential backoff with jitter (base 10 s, cap 5 min), never sooner than the receiver's
//   Retry-After. A permanent failure (notifier says not retryable) is `failed` and does not hold the line.
// - Expiry: a row not delivered within expire_after is `expired` and stops holding the line. A resolve
//   gets twice as long and still goes out after its trigger expired: the trigger may have reached the
//   receiver without us seeing the answer, and resolving an unknown PagerDuty key is harmless.
// - Restart: rows left `sending` by a dead process are queued again, and every retry tells the notifier its
//   attempt number. Delivered exactly once all the same: PagerDuty dedups by key; Slack messages carry a
//   marker (message metadata naming the row) that the Slack notifier looks for before posting again, and an
//   update of the same message is idempotent.
// - Secrets: rows hold the owner and the receiver kind; the receiver (token, routing key) is built from
//   the live config at delivery.
import { redactDeep } from '../config/redact.ts';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Clock } from '../clock.ts';
import type { NotificationRecord } from '../domain.ts';
import type { Logger } from '../log.ts';
import type { DeliveryResult, Notification, Notifier, ReceiverKind } from '../notifiers/types.ts';
import { oneRow } from '../store/db.ts';
import type { ReceiverBuild } from './config.ts';

export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'expired';

/** What the engine queues: a Notification without the row id and the prior ref (known at delivery). */
export type NotificationPayload = Omit<Notification, 'id' | 'priorRef'>;

export interface OutboxItem {
  groupId: string;
  /** Incidents the notification speaks of (history of each). */
  memberIds: string[];
  payload: NotificationPayload;
}

export interface OutboxRow {
  id: number;
  groupId: string;
  dedupKey: string;
  owner: string;
  receiver: ReceiverKind;
  action: Notification['action'];
  reason: string;
  incidentId: string;
  status: OutboxStatus;
  createdAt: number;
  expiresAt: number;
  nextAttemptAt: number;
  attempts: number;
  lastError: string | null;
  ref: string | null;
  doneAt: number | null;
}

export interface AttemptRecord {
  at: number;
  ok: boolean;
  retryable: boolean;
  error: string | null;
  ref: string | null;
}

export interface DeliveryReport {
  sent: number;
  retried: number;
  failed: number;
  expired: number;
}

export interface OutboxOptions {
  db: DatabaseSync;
  clock: Clock;
  notifiers: Partial<Record<ReceiverKind, Notifier>>;
  /** Builds the receiver from the live config (secrets never stored). */
  receiver: (owner: string, kind: ReceiverKind) => ReceiverBuild;
  /** Give up after this long (resolves: twice as long). */
  expireAfterMs: () => number;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** [0, 1) for jitter; injectable for tests. */
  random?: () => number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Deliveries in flight at once (different lines; one line is always sequential). */
  concurrency?: number;
}

interface Record_ {
  id: number;
  group_id: string;
  dedup_key: string;
  owner: string;
  receiver: ReceiverKind;
  action: Notification['action'];
  reason: string;
  incident_id: string;
  payload: string;
  status: OutboxStatus;
  created_at: number;
  expires_at: number;
  next_attempt_at: number;
  attempts: number;
  last_error: string | null;
  ref: string | null;
  done_at: number | null;
}

const toRow = (r: Record_): OutboxRow => ({
  id: r.id,
  groupId: r.group_id,
  dedupKey: r.dedup_key,
  owner: r.owner,
  receiver: r.receiver,
  action: r.action,
  reason: r.reason,
  incidentId: r.incident_id,
  status: r.status,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  nextAttemptAt: r.next_attempt_at,
  attempts: r.attempts,
  lastError: r.last_error,
  ref: r.ref,
  doneAt: r.done_at,
});

/** Exponential backoff with equal jitter, never below the receiver's Retry-After. */
export function retryDelay(attempts: number, retryAfterMs: number | undefined, random: () => number, baseMs = 10_000, maxMs = 300_000): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

export class Outbox {
  private readonly o: OutboxOptions;
  private readonly q: Record<string, StatementSync>;
  private readonly random: () => number;
  private readonly abort = new AbortController();
  private running: Promise<DeliveryReport> | null = null;

  constructor(opts: OutboxOptions) {
    this.o = opts;
    this.random = opts.random ?? Math.random;
    const p = (sql: string) => opts.db.prepare(sql);
    this.q = {
      insert: p(`INSERT INTO outbox (group_id, dedup_key, owner, receiver, action, reason, incident_id, payload, status, created_at, expires_at, next_attempt_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`),
      member: p(`INSERT OR IGNORE INTO outbox_members (incident_id, outbox_id) VALUES (?, ?)`),
      recover: p(`UPDATE outbox SET status = 'queued' WHERE status = 'sending'`),
      expire: p(`UPDATE outbox SET status = 'expired', done_at = ?, last_error = COALESCE(last_error, 'not delivered in time')
                 WHERE status = 'queued' AND expires_at <= ?`),
      // The head of each line that is due: no earlier row of the same (dedup_key, receiver) still pending.
      due: p(`SELECT o.* FROM outbox o
              WHERE o.status = 'queued' AND o.next_attempt_at <= ?
                AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.dedup_key = o.dedup_key AND e.receiver = o.receiver
                                AND e.id < o.id AND e.status IN ('queued', 'sending'))
              ORDER BY o.next_attempt_at, o.id LIMIT ?`),
      claim: p(`UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ? AND status = 'queued'`),
      sent: p(`UPDATE outbox SET status = 'sent', ref = ?, done_at = ?, last_error = NULL WHERE id = ?`),
      retry: p(`UPDATE outbox SET status = 'queued', next_attempt_at = ?, last_error = ? WHERE id = ?`),
      final: p(`UPDATE outbox SET status = ?, done_at = ?, last_error = ? WHERE id = ?`),
      attempt: p(`INSERT INTO outbox_attempts (outbox_id, at, ok, retryable, error, ref) VALUES (?, ?, ?, ?, ?, ?)`),
      priorRef: p(`SELECT ref FROM outbox WHERE group_id = ? AND receiver = ? AND status = 'sent' AND ref IS NOT NULL AND id < ?
                   ORDER BY id DESC LIMIT 1`),
      history: p(`SELECT o.* FROM outbox_members m JOIN outbox o ON o.id = m.outbox_id WHERE m.incident_id = ? ORDER BY o.id`),
      attempts: p(`SELECT at, ok, retryable, error, ref FROM outbox_attempts WHERE outbox_id = ? ORDER BY id`),
      pending: p(`SELECT COUNT(*) AS n FROM outbox WHERE status IN ('queued', 'sending')`),
      byId: p(`SELECT * FROM outbox WHERE id = ?`),
      all: p(`SELECT * FROM outbox ORDER BY id`),
    };
  }

  /** Rows a dead process left in flight go back to the queue. Call once at start; returns how many. */
  recover(): number {
    return Number(this.q.recover.run().changes);
  }

  /** Persist one notification (call inside the transaction that decided it). Returns the row id. */
  enqueue(item: OutboxItem, now: number): number {
    const p = item.payload;
    const ttl = this.o.expireAfterMs() * (p.action === 'resolve' ? 2 : 1);
    const id = Number(
      this.q.insert.run(item.groupId, p.dedupKey, p.owner, p.receiver, p.action, p.reason ?? 'new', p.incidentId, JSON.stringify(p), now, now + ttl, now)
        .lastInsertRowid,
    );
    for (const m of new Set([p.incidentId, ...item.memberIds])) this.q.member.run(m, id);
    return id;
  }

  /**
   * Send what is due now, one round (each line's head at most once). Concurrent calls share one round.
   * Rows that fail retryably wait for their backoff; call again later (the manager's tick does).
   */
  deliverDue(limit = 100): Promise<DeliveryReport> {
    this.running ??= this.round(limit).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Abort deliveries in flight (shutdown); their rows go back to the queue on the next start. */
  stop(): void {
    this.abort.abort(new Error('outbox stopped'));
  }

  pendingCount(): number {
    return (this.q.pending.get() as { n: number }).n;
  }

  row(id: number): OutboxRow | null {
    return oneRow(this.q.byId, toRow, id);
  }

  rows(): OutboxRow[] {
    return (this.q.all.all() as unknown as Record_[]).map(toRow);
  }

  /** The notification as it will be (or was) delivered. */
  notification(id: number): Notification | null {
    const r = this.q.byId.get(id) as Record_ | undefined;
    if (!r) return null;
    const prior = this.q.priorRef.get(r.group_id, r.receiver, r.id) as { ref: string } | undefined;
    return { ...(JSON.parse(r.payload) as NotificationPayload), id: r.id, priorRef: prior?.ref ?? null };
  }

  /** Notification history of one incident (for Incident.notifications). */
  history(incidentId: string): (NotificationRecord & { id: number; reason: string; attempts: AttemptRecord[]; error: string | null })[] {
    return (this.q.history.all(incidentId) as unknown as Record_[]).map((r) => ({
      id: r.id,
      receiver: r.receiver,
      action: r.action,
      reason: r.reason,
      status: r.status === 'sending' ? 'queued' : r.status,
      ref: r.ref,
      at: r.done_at ?? r.created_at,
      error: r.last_error,
      attempts: (this.q.attempts.all(r.id) as unknown as { at: number; ok: number; retryable: number; error: string | null; ref: string | null }[]).map(
        (a) => ({ at: a.at, ok: a.ok === 1, retryable: a.retryable === 1, error: a.error, ref: a.ref }),
      ),
    }));
  }

  private async round(limit: number): Promise<DeliveryReport> {
    const report: DeliveryReport = { sent: 0, retried: 0, failed: 0, expired: 0 };
    const now = this.o.clock.now();
    report.expired += Number(this.q.expire.run(now, now).changes);
    const due = (this.q.due.all(now, limit) as unknown as Record_[]).filter((r) => Number(this.q.claim.run(r.id).changes) === 1);
    const width = Math.max(1, this.o.concurrency ?? 4);
    for (let i = 0; i < due.length; i += width) {
      await Promise.all(due.slice(i, i + width).map((r) => this.deliverOne(r, report)));
    }
    return report;
  }

  private async deliverOne(r: Record_, report: DeliveryReport): Promise<void> {
    const n: Notification = { ...this.notification(r.id)!, attempt: r.attempts + 1, queuedAt: r.created_at };
    const built = this.o.receiver(r.owner, r.receiver);
    const notifier = this.o.notifiers[r.receiver];
    let result: DeliveryResult;
    if (!built.ok) result = { ok: false, retryable: false, error: built.reason };
    else if (!notifier) result = { ok: false, retryable: false, error: `no ${r.receiver} notifier is wired` };
    else {
      try {
        // The sending edge: no configured secret leaves in a notification, whatever its text quotes.
        result = await notifier.deliver(redactDeep(n), built.receiver, this.abort.signal);
      } catch (err) {
        // A notifier should return a result; a throw is treated as a transient failure.
        result = { ok: false, retryable: true, error: `notifier threw: ${(err as Error).message ?? String(err)}`.slice(0, 300) };
      }
    }
    const at = this.o.clock.now();
    const error = result.ok ? null : (result.error ?? 'delivery failed').slice(0, 500);
    this.q.attempt.run(r.id, at, result.ok ? 1 : 0, result.retryable ? 1 : 0, error, result.ref ?? null);
    const line = { id: r.id, receiver: r.receiver, action: r.action, owner: r.owner, attempt: r.attempts + 1 };
    if (result.ok) {
      this.q.sent.run(result.ref ?? null, at, r.id);
      report.sent++;
    } else if (this.abort.signal.aborted) {
      this.q.retry.run(at, error, r.id); // shutdown: next start retries
    } else if (!result.retryable) {
      this.q.final.run('failed', at, error, r.id);
      report.failed++;
      this.o.log?.error('notification failed permanently', { ...line, error });
    } else {
      const next = at + retryDelay(r.attempts + 1, result.retryAfterMs, this.random, this.o.backoffBaseMs, this.o.backoffMaxMs);
      if (at >= r.expires_at) {
        this.q.final.run('expired', at, error, r.id);
        report.expired++;
        this.o.log?.error('notification expired undelivered', { ...line, error });
      } else {
        this.q.retry.run(next, error, r.id);
        report.retried++;
        this.o.log?.warn('notification delivery failed; will retry', { ...line, error, retry_in_ms: next - at });
      }
    }
  }
}
