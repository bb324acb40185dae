// One leader among the instances sharing a store, for the work that must happen once (incident evaluation, the
// notification outbox, drills, model-list polling, webhook processing). A lease row in the database
// (migration 8): the holder renews it every `renewMs`; others try to take it every `renewMs` and succeed only
// once it has expired by the database's clock, so instances with skewed clocks still agree.
//
// Safety: an instance believes it leads only until `ttlMs` (less a margin) after it *sent* its last successful
// renewal, measured on its own monotonic clock. A partitioned or paused leader therefore stops acting before
// the lease can expire in the database and anyone else can take it: never two leaders acting at once. And every
// leader-only write carries the fencing token (`fence()`), so a write from a deposed leader that was already on
// its way is refused by the database.
// Liveness: after the leader dies, another instance leads within ttlMs + renewMs (10 s + 2 s by default); at
// once when the holder was a process on this same host that no longer exists (a restart after kill -9).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { runnerAlive } from '../chaos/drill-runner-id.ts';
import type { Sql, SqlValue } from '../store/sql.ts';

export interface LeaderOptions {
  sql: Sql;
  /** This instance, unique among those sharing the store (default host:pid:random). */
  instance?: string;
  location: string;
  /** Lease name: one leader per name. */
  name?: string;
  ttlMs?: number;
  renewMs?: number;
  /** Called on every change of leadership of this instance (true: now leads, with this token). */
  onChange?: (leading: boolean, token: number | null) => void;
  log?: { warn(msg: string, fields?: Record<string, unknown>): void; info(msg: string, fields?: Record<string, unknown>): void };
  /** Monotonic ms (performance.now); injectable for tests. */
  monotonic?: () => number;
}

/** Who leads, as the database says (for the status page, /api and /metrics). */
export interface LeaseView {
  holder: string;
  location: string;
  token: number;
  acquiredAt: number;
  renewedAt: number;
  expiresAt: number;
  /** Whether the lease is current by the database's clock. */
  live: boolean;
}

export const DEFAULT_TTL_MS = 10_000;
export const DEFAULT_RENEW_MS = 2_000;

export const defaultInstanceId = (): string => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

export class Leader {
  readonly instance: string;
  readonly location: string;
  readonly name: string;
  readonly ttlMs: number;
  readonly renewMs: number;
  private readonly o: LeaderOptions;
  private readonly now: () => number;
  private heldToken: number | null = null;
  /** Monotonic time until which this instance may act as leader. */
  private validUntil = -Infinity;
  private wasLeading = false;
  private timer: NodeJS.Timeout | null = null;
  private stepDownTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(o: LeaderOptions) {
    this.o = o;
    this.instance = o.instance ?? defaultInstanceId();
    this.location = o.location;
    this.name = o.name ?? 'leader';
    this.ttlMs = o.ttlMs ?? DEFAULT_TTL_MS;
    this.renewMs = o.renewMs ?? DEFAULT_RENEW_MS;
    if (this.renewMs * 2 >= this.ttlMs) throw new Error(`leader lease: renew every ${this.renewMs} ms is too slow for a ${this.ttlMs} ms lease`);
    this.now = o.monotonic ?? (() => performance.now());
  }

  /** Whether this instance leads right now (checked against its own clock: no database round trip). */
  get isLeader(): boolean {
    return this.heldToken !== null && this.now() < this.validUntil;
  }

  /** The fencing token while leading, else null. */
  get token(): number | null {
    return this.isLeader ? this.heldToken : null;
  }

  /**
   * A condition for leader-only writes: `UPDATE … WHERE … AND ${f.sql}` with `f.params` appended. True only while
   * this instance holds the lease with this token and it has not expired by the database's clock.
   */
  fence(token: number): { sql: string; params: SqlValue[] } {
    return {
      sql: `EXISTS (SELECT 1 FROM leader_lease WHERE name = ? AND holder = ? AND token = ? AND expires_at > ${this.o.sql.dialect.nowMs})`,
      params: [this.name, this.instance, token],
    };
  }

  /** Start campaigning: try (or renew) now and every renewMs. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** One round: take or renew the lease. Resolves with whether this instance leads. Concurrent calls share one. */
  campaign(): Promise<boolean> {
    this.running ??= this.round().finally(() => {
      this.running = null;
    });
    return this.running.then(() => this.isLeader);
  }

  /** Stop campaigning and give the lease up (a successor takes over at its next try, not after the TTL). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A round stuck on an unreachable database is not waited for beyond the lease.
    await Promise.race([this.running, new Promise((r) => setTimeout(r, this.ttlMs).unref?.())]);
    if (this.stepDownTimer) clearTimeout(this.stepDownTimer);
    const token = this.heldToken;
    this.heldToken = null;
    this.validUntil = -Infinity;
    this.changed();
    if (token !== null) {
      try {
        await this.o.sql.run(`UPDATE leader_lease SET expires_at = ${this.o.sql.dialect.nowMs} WHERE name = ? AND holder = ? AND token = ?`, [this.name, this.instance, token]);
      } catch (err) {
        this.o.log?.warn('leader lease: could not release (it will expire)', { error: String(err) });
      }
    }
  }

  /** The lease as the database has it, or null when nobody ever led. */
  async current(): Promise<LeaseView | null> {
    const r = await this.o.sql.get<{ holder: string; location: string; token: number; acquired_at: number; renewed_at: number; expires_at: number; now: number }>(
      `SELECT holder, location, token, acquired_at, renewed_at, expires_at, ${this.o.sql.dialect.nowMs} AS now FROM leader_lease WHERE name = ?`,
      [this.name],
    );
    if (!r) return null;
    return { holder: r.holder, location: r.location, token: r.token, acquiredAt: r.acquired_at, renewedAt: r.renewed_at, expiresAt: r.expires_at, live: r.expires_at > r.now };
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.campaign().finally(() => this.schedule(this.renewMs));
    }, ms);
    this.timer.unref?.();
  }

  private async round(): Promise<void> {
    const sentAt = this.now();
    const now = this.o.sql.dialect.nowMs;
    let token: number | null = null;
    try {
      // Take it when free or expired, renew it when ours; the token moves on only when the holder changes.
      const row = await withTimeout(
        this.o.sql.get<{ token: number }>(
          `INSERT INTO leader_lease (name, holder, location, token, acquired_at, renewed_at, expires_at)
           VALUES (?, ?, ?, 1, ${now}, ${now}, ${now} + ?)
           ON CONFLICT (name) DO UPDATE SET
             token = CASE WHEN leader_lease.holder = excluded.holder THEN leader_lease.token ELSE leader_lease.token + 1 END,
             acquired_at = CASE WHEN leader_lease.holder = excluded.holder THEN leader_lease.acquired_at ELSE excluded.acquired_at END,
             holder = excluded.holder, location = excluded.location,
             renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
           WHERE leader_lease.holder = excluded.holder OR leader_lease.expires_at <= excluded.renewed_at
           RETURNING token`,
          [this.name, this.instance, this.location, this.ttlMs],
        ),
        this.ttlMs - this.renewMs,
      );
      token = row?.token ?? (await this.takeFromDeadNeighbour());
    } catch (err) {
      // Unreachable database: keep acting only until the lease we already hold runs out (isLeader checks).
      this.o.log?.warn('leader lease: renewal failed', { error: String(err), leading: this.isLeader });
      this.armStepDown();
      return;
    }
    if (token === null) {
      this.heldToken = null;
      this.validUntil = -Infinity;
    } else {
      this.heldToken = token;
      // Measured from when the statement was sent: the database set expires_at later than that.
      this.validUntil = sentAt + this.ttlMs - safetyMargin(this.ttlMs);
    }
    this.changed();
    this.armStepDown();
  }

  /**
   * The holder is a process of this host that has died (instance ids are host:pid:random): it can never write
   * again, so there is no need to wait for its lease to run out.
   */
  private async takeFromDeadNeighbour(): Promise<number | null> {
    const cur = await this.o.sql.get<{ holder: string; token: number }>('SELECT holder, token FROM leader_lease WHERE name = ?', [this.name]);
    if (!cur || cur.holder === this.instance) return null;
    const m = /^(.+):(\d+):[^:]*$/.exec(cur.holder);
    if (!m || runnerAlive(`${m[1]}:${m[2]}`, hostname()) !== false) return null;
    const now = this.o.sql.dialect.nowMs;
    const row = await this.o.sql.get<{ token: number }>(
      `UPDATE leader_lease SET holder = ?, location = ?, token = token + 1, acquired_at = ${now}, renewed_at = ${now}, expires_at = ${now} + ?
       WHERE name = ? AND holder = ? AND token = ? RETURNING token`,
      [this.instance, this.location, this.ttlMs, this.name, cur.holder, cur.token],
    );
    if (row) this.o.log?.info('took over the lease of a dead process on this host', { from: cur.holder, token: row.token });
    return row?.token ?? null;
  }

  /** Report the step-down at the moment the lease runs out locally, not at the next (possibly hung) round. */
  private armStepDown(): void {
    if (this.stepDownTimer) clearTimeout(this.stepDownTimer);
    this.stepDownTimer = null;
    if (!this.isLeader) return this.changed();
    this.stepDownTimer = setTimeout(() => this.changed(), Math.max(0, this.validUntil - this.now()) + 1);
    this.stepDownTimer.unref?.();
  }

  private changed(): void {
    const leading = this.isLeader;
    if (leading === this.wasLeading) return;
    this.wasLeading = leading;
    this.o.log?.info(leading ? 'leading' : 'not leading', { instance: this.instance, location: this.location, token: this.heldToken });
    this.o.onChange?.(leading, leading ? this.heldToken : null);
  }
}

/** Room for clock-rate drift between this host and the database: 10 % of the TTL, at most 1 s. */
const safetyMargin = (ttlMs: number): number => Math.min(1_000, ttlMs / 10);

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer from the database in ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
