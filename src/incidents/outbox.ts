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
// - Several instances (one leader): with a `lease`, every claim is fenced by the leader's token in the same
//   UPDATE (a deposed leader claims nothing, even with a statement already on its way), a row is sent only
//   while this instance still leads by its own clock, and recover() re-queues only rows claimed under an older
//   token, so a follower starting never re-sends what the live leader is sending.
// Both engines, through the store's async `Sql`.
import { redactDeep } from '../config/redact.ts';
import type { Clock } from '../clock.ts';
import type { NotificationRecord } from '../domain.ts';
import type { Logger } from '../log.ts';
import type { DeliveryResult, Notification, Notifier, ReceiverKind } from '../notifiers/types.ts';
import type { Sql, SqlValue } from '../store/sql.ts';
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

/** The leader lease, as the outbox needs it (src/cluster/leader.ts). */
export interface OutboxLease {
  /** This instance's fencing token while it leads (by its own clock), else null. */
  readonly token: number | null;
  /** A condition true only while `token` holds the lease by the database's clock. */
  fence(token: number): { sql: string; params: SqlValue[] };
}

export interface OutboxOptions {
  sql: Sql;
  /** Fences claims and recovery (absent: a lone engine, e.g. tests and `vigil incidents`). */
  lease?: OutboxLease;
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
  claim_token: number | null;
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
  private readonly sql: Sql;
  private readonly random: () => number;
  private abort = new AbortController();
  private running: Promise<DeliveryReport> | null = null;

  constructor(opts: OutboxOptions) {
    this.o = opts;
    this.sql = opts.sql;
    this.random = opts.random ?? Math.random;
  }

  /** The lease condition for a fenced statement: null when not fenced, false when this instance does not lead. */
  private fence(): { token: number; sql: string; params: SqlValue[] } | null | false {
    const lease = this.o.lease;
    if (!lease) return null;
    const token = lease.token;
    if (token === null) return false;
    return { token, ...lease.fence(token) };
  }

  /**
   * Rows a dead process (or a deposed leader) left in flight go back to the queue. Call at start, and on
   * gaining the lease; returns how many. Fenced: only the leader recovers, and only rows of older tokens.
   */
  async recover(): Promise<number> {
    const f = this.fence();
    if (f === false) return 0;
    if (f === null) return (await this.sql.run(`UPDATE outbox SET status = 'queued' WHERE status = 'sending'`)).changes;
    return (
      await this.sql.run(`UPDATE outbox SET status = 'queued' WHERE status = 'sending' AND (claim_token IS NULL OR claim_token < ?) AND ${f.sql}`, [
        f.token,
        ...f.params,
      ])
    ).changes;
  }

  /** Persist one notification (call inside the transaction that decided it). Returns the row id. */
  async enqueue(item: OutboxItem, now: number): Promise<number> {
    const p = item.payload;
    const ttl = this.o.expireAfterMs() * (p.action === 'resolve' ? 2 : 1);
    const row = await this.sql.get<{ id: number }>(
      `INSERT INTO outbox (group_id, dedup_key, owner, receiver, action, reason, incident_id, payload, status, created_at, expires_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?) RETURNING id`,
      [item.groupId, p.dedupKey, p.owner, p.receiver, p.action, p.reason ?? 'new', p.incidentId, JSON.stringify(p), now, now + ttl, now],
    );
    const id = Number(row!.id);
    for (const m of new Set([p.incidentId, ...item.memberIds])) {
      await this.sql.run(`INSERT INTO outbox_members (incident_id, outbox_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, [m, id]);
    }
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

  /**
   * Abort deliveries in flight (shutdown, or the lease lost); their rows go back to the queue on the next start
   * or takeover. Later rounds (the lease regained) deliver again.
   */
  stop(): void {
    this.abort.abort(new Error('outbox stopped'));
    this.abort = new AbortController();
  }

  async pendingCount(): Promise<number> {
    return Number((await this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox WHERE status IN ('queued', 'sending')`))!.n);
  }

  /** When the earliest queued row became due, if one is due at `now` (for the engine's health). */
  async oldestDue(now: number): Promise<number | null> {
    const r = await this.sql.get<{ at: number | null }>(`SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?`, [now]);
    return r?.at == null ? null : Number(r.at);
  }

  async row(id: number): Promise<OutboxRow | null> {
    const r = await this.sql.get<Record_>(`SELECT * FROM outbox WHERE id = ?`, [id]);
    return r ? toRow(r) : null;
  }

  async rows(): Promise<OutboxRow[]> {
    return (await this.sql.all<Record_>(`SELECT * FROM outbox ORDER BY id`)).map(toRow);
  }

  /** The notification as it will be (or was) delivered. */
  async notification(id: number): Promise<Notification | null> {
    const r = await this.sql.get<Record_>(`SELECT * FROM outbox WHERE id = ?`, [id]);
    if (!r) return null;
    const prior = await this.sql.get<{ ref: string }>(
      `SELECT ref FROM outbox WHERE group_id = ? AND receiver = ? AND status = 'sent' AND ref IS NOT NULL AND id < ? ORDER BY id DESC LIMIT 1`,
      [r.group_id, r.receiver, r.id],
    );
    return { ...(JSON.parse(r.payload) as NotificationPayload), id: Number(r.id), priorRef: prior?.ref ?? null };
  }

  /** Notification history of one incident (for Incident.notifications). */
  async history(incidentId: string): Promise<(NotificationRecord & { id: number; reason: string; attempts: AttemptRecord[]; error: string | null })[]> {
    const rows = await this.sql.all<Record_>(`SELECT o.* FROM outbox_members m JOIN outbox o ON o.id = m.outbox_id WHERE m.incident_id = ? ORDER BY o.id`, [incidentId]);
    const out = [];
    for (const r of rows) {
      const attempts = await this.sql.all<{ at: number; ok: number; retryable: number; error: string | null; ref: string | null }>(
        `SELECT at, ok, retryable, error, ref FROM outbox_attempts WHERE outbox_id = ? ORDER BY id`,
        [r.id],
      );
      out.push({
        id: Number(r.id),
        receiver: r.receiver,
        action: r.action,
        reason: r.reason,
        status: r.status === 'sending' ? ('queued' as const) : r.status,
        ref: r.ref,
        at: r.done_at ?? r.created_at,
        error: r.last_error,
        attempts: attempts.map((a) => ({ at: a.at, ok: Number(a.ok) === 1, retryable: Number(a.retryable) === 1, error: a.error, ref: a.ref })),
      });
    }
    return out;
  }

  private async round(limit: number): Promise<DeliveryReport> {
    const report: DeliveryReport = { sent: 0, retried: 0, failed: 0, expired: 0 };
    const fence = this.fence();
    if (fence === false) return report; // a follower delivers nothing
    const abort = this.abort;
    const now = this.o.clock.now();
    const fenceSql = fence ? ` AND ${fence.sql}` : '';
    const fenceParams = fence ? fence.params : [];
    report.expired += (
      await this.sql.run(
        `UPDATE outbox SET status = 'expired', done_at = ?, last_error = COALESCE(last_error, 'not delivered in time') WHERE status = 'queued' AND expires_at <= ?${fenceSql}`,
        [now, now, ...fenceParams],
      )
    ).changes;
    // The head of each line that is due: no earlier row of the same (dedup_key, receiver) still pending.
    const candidates = await this.sql.all<Record_>(
      `SELECT o.* FROM outbox o
       WHERE o.status = 'queued' AND o.next_attempt_at <= ?
         AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.dedup_key = o.dedup_key AND e.receiver = o.receiver
                         AND e.id < o.id AND e.status IN ('queued', 'sending'))
       ORDER BY o.next_attempt_at, o.id LIMIT ?`,
      [now, limit],
    );
    // Each claim is fenced in the same statement: a leader deposed since this round began claims nothing.
    const due: Record_[] = [];
    for (const r of candidates) {
      const claimed = await this.sql.run(`UPDATE outbox SET status = 'sending', attempts = attempts + 1, claim_token = ? WHERE id = ? AND status = 'queued'${fenceSql}`, [
        fence ? fence.token : null,
        r.id,
        ...fenceParams,
      ]);
      if (claimed.changes === 1) due.push({ ...r, id: Number(r.id), attempts: Number(r.attempts), claim_token: fence ? fence.token : null });
    }
    const width = Math.max(1, this.o.concurrency ?? 4);
    for (let i = 0; i < due.length; i += width) {
      await Promise.all(due.slice(i, i + width).map((r) => this.deliverOne(r, report, abort.signal)));
    }
    return report;
  }

  private async deliverOne(r: Record_, report: DeliveryReport, signal: AbortSignal): Promise<void> {
    const n: Notification = { ...(await this.notification(r.id))!, attempt: r.attempts + 1, queuedAt: r.created_at };
    const built = this.o.receiver(r.owner, r.receiver);
    const notifier = this.o.notifiers[r.receiver];
    // The outcome of a row claimed under `claim_token` is written only while that claim stands (a new leader
    // may have re-queued it); a delivery that happened is always recorded, so nobody sends it again.
    const mine = `id = ? AND status = 'sending' AND claim_token IS NOT DISTINCT FROM ?`;
    const claim = [r.id, r.claim_token] as SqlValue[];
    if (this.o.lease && this.o.lease.token !== r.claim_token) {
      // The lease was lost (by this instance's own clock) between claim and send: leave the row to the next leader.
      await this.sql.run(`UPDATE outbox SET status = 'queued' WHERE ${mine}`, claim);
      return;
    }
    let result: DeliveryResult;
    if (!built.ok) result = { ok: false, retryable: false, error: built.reason };
    else if (!notifier) result = { ok: false, retryable: false, error: `no ${r.receiver} notifier is wired` };
    else {
      try {
        // The sending edge: no configured secret leaves in a notification, whatever its text quotes.
        result = await notifier.deliver(redactDeep(n), built.receiver, signal);
      } catch (err) {
        // A notifier should return a result; a throw is treated as a transient failure.
        result = { ok: false, retryable: true, error: `notifier threw: ${(err as Error).message ?? String(err)}`.slice(0, 300) };
      }
    }
    const at = this.o.clock.now();
    const error = result.ok ? null : (result.error ?? 'delivery failed').slice(0, 500);
    await this.sql.run(`INSERT INTO outbox_attempts (outbox_id, at, ok, retryable, error, ref) VALUES (?, ?, ?, ?, ?, ?)`, [
      r.id,
      at,
      result.ok ? 1 : 0,
      result.retryable ? 1 : 0,
      error,
      result.ref ?? null,
    ]);
    const line = { id: r.id, receiver: r.receiver, action: r.action, owner: r.owner, attempt: r.attempts + 1 };
    const final = (status: OutboxStatus) => this.sql.run(`UPDATE outbox SET status = ?, done_at = ?, last_error = ? WHERE ${mine}`, [status, at, error, ...claim]);
    const retry = (next: number) => this.sql.run(`UPDATE outbox SET status = 'queued', next_attempt_at = ?, last_error = ? WHERE ${mine}`, [next, error, ...claim]);
    if (result.ok) {
      await this.sql.run(`UPDATE outbox SET status = 'sent', ref = ?, done_at = ?, last_error = NULL WHERE id = ? AND status <> 'sent'`, [result.ref ?? null, at, r.id]);
      report.sent++;
    } else if (signal.aborted) {
      await retry(at); // shutdown or the lease lost: the next start or leader retries
    } else if (!result.retryable) {
      await final('failed');
      report.failed++;
      this.o.log?.error('notification failed permanently', { ...line, error });
    } else {
      const next = at + retryDelay(r.attempts + 1, result.retryAfterMs, this.random, this.o.backoffBaseMs, this.o.backoffMaxMs);
      if (at >= r.expires_at) {
        await final('expired');
        report.expired++;
        this.o.log?.error('notification expired undelivered', { ...line, error });
      } else {
        await retry(next);
        report.retried++;
        this.o.log?.warn('notification delivery failed; will retry', { ...line, error, retry_in_ms: next - at });
      }
    }
  }
}
