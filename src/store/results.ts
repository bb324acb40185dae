// probe_results: one row per ProbeResult. Scalar columns for what we query, a JSON column for the rest.
// Writes are group-committed: results arriving while a write is in flight go out together in the next one
// (multi-row INSERTs in one transaction), and each caller's promise settles when its own row is committed.
import type { ErrorClass, ProbeResult } from '../domain.ts';
import { whereClause } from './db.ts';
import type { Sql, SqlValue } from './sql.ts';

/** What availability streaks read of a stored result. */
export type OutcomeRow = Pick<ProbeResult, 'startedAt' | 'outcome' | 'confirmed' | 'drillId' | 'errorClass'>;

export interface LocationSummary {
  probe: string;
  location: string;
  results: number;
  failed: number;
  /** Mean total time of the results that answered (ok or degraded), ms; null when none did. */
  meanTotalMs: number | null;
  lastAt: number;
  lastOutcome: string;
}

export interface ResultQuery {
  probe?: string;
  /** Inclusive lower bound on startedAt (epoch ms). */
  since?: number;
  /** Exclusive upper bound on startedAt (epoch ms). */
  until?: number;
  /** `only`: drill traffic only; `exclude`: none of it; default `include`. */
  drills?: 'include' | 'exclude' | 'only';
  drillId?: string;
  /** The vantage point that recorded it. */
  location?: string;
  limit?: number;
  /** By startedAt (then insertion order). Default `asc`. */
  order?: 'asc' | 'desc';
}

/** The part of a ProbeResult that has no column of its own. */
interface Detail {
  errorMessage: string | null;
  timeoutPhase: ProbeResult['timeoutPhase'];
  retryAfterSec: number | null;
  tlsMs: number | null;
  outputTokensPerSec: number | null;
  excerpt: string;
  textHash: string;
  assertions: ProbeResult['assertions'];
  gateway: ProbeResult['gateway'];
}

const COLUMNS = [
  'probe_id',
  'started_at',
  'target',
  'provider',
  'requested_model',
  'served_model',
  'fingerprint',
  'outcome',
  'error_class',
  'http_status',
  'ttft_ms',
  'total_ms',
  'connect_ms',
  'ttfb_ms',
  'tokens_in',
  'tokens_out',
  'cost_usd',
  'finish_reason',
  'refusal',
  'attempt',
  'confirmed',
  'drill_id',
  'detail',
  'location',
] as const;
const SELECT_COLS = COLUMNS.join(', ');

// Neither engine binds `undefined`; optional fields become NULL.
const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

function toParams(r: ProbeResult, location: string | null): SqlValue[] {
  const t = r.timings;
  const detail: Detail = {
    errorMessage: n(r.errorMessage),
    timeoutPhase: n(r.timeoutPhase),
    retryAfterSec: n(r.retryAfterSec),
    tlsMs: n(t.tlsMs),
    outputTokensPerSec: n(t.outputTokensPerSec),
    excerpt: r.excerpt,
    textHash: r.textHash,
    assertions: r.assertions,
    gateway: n(r.gateway),
  };
  return [
    r.probeId,
    r.startedAt,
    r.target,
    r.provider,
    r.requestedModel,
    n(r.servedModel),
    n(r.fingerprint),
    r.outcome,
    n(r.errorClass),
    n(r.httpStatus),
    n(t.ttftMs),
    n(t.totalMs),
    n(t.connectMs),
    n(t.ttfbMs),
    n(r.tokensIn),
    n(r.tokensOut),
    n(r.costUsd),
    n(r.finishReason),
    n(r.refusal),
    r.attempt,
    r.confirmed ? 1 : 0,
    n(r.drillId),
    JSON.stringify(detail, function (this: unknown, _k, v) {
      // Top-level null members are left out (restored as null on read): smaller rows for typical results.
      // Only top level: nulls inside gateway/assertions are data and must round-trip.
      return this === detail && v === null ? undefined : v;
    }),
    r.location ?? location,
  ];
}

type Row = Record<(typeof COLUMNS)[number], any>;

export function rowToResult(row: Row): ProbeResult {
  const d = JSON.parse(row.detail) as Partial<Detail>;
  const r: ProbeResult = {
    probeId: row.probe_id,
    startedAt: row.started_at,
    target: row.target,
    provider: row.provider,
    requestedModel: row.requested_model,
    servedModel: row.served_model,
    fingerprint: row.fingerprint,
    outcome: row.outcome,
    errorClass: row.error_class,
    errorMessage: d.errorMessage ?? null,
    timeoutPhase: d.timeoutPhase ?? null,
    httpStatus: row.http_status,
    retryAfterSec: d.retryAfterSec ?? null,
    timings: {
      connectMs: row.connect_ms,
      tlsMs: d.tlsMs ?? null,
      ttfbMs: row.ttfb_ms,
      ttftMs: row.ttft_ms,
      totalMs: row.total_ms,
      outputTokensPerSec: d.outputTokensPerSec ?? null,
    },
    tokensIn: row.tokens_in,
    tokensOut: row.tokens_out,
    costUsd: row.cost_usd,
    finishReason: row.finish_reason,
    refusal: row.refusal,
    excerpt: d.excerpt ?? '',
    textHash: d.textHash ?? '',
    assertions: d.assertions ?? [],
    gateway: d.gateway ?? null,
    attempt: row.attempt,
    confirmed: row.confirmed === 1,
  };
  // drillId is optional on the type: absent, not undefined, so results round-trip under toStrictEqual.
  if (row.drill_id !== null) r.drillId = row.drill_id;
  if (row.location !== null && row.location !== undefined) r.location = row.location;
  return r;
}

function where(q: ResultQuery): { sql: string; params: SqlValue[] } {
  return whereClause([
    ['probe_id = ?', q.probe],
    ['started_at >= ?', q.since],
    ['started_at < ?', q.until],
    ['drill_id = ?', q.drillId],
    ['location = ?', q.location],
    q.drills === 'exclude' && 'drill_id IS NULL',
    q.drills === 'only' && 'drill_id IS NOT NULL',
  ]);
}

/** Rows per INSERT statement: powers of two, so a handful of statement shapes serve every batch size. */
const MAX_ROWS_PER_INSERT = 256;
/** Results per group commit. */
const MAX_BATCH = 2_000;

interface Pending {
  r: ProbeResult;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ResultQueries {
  private readonly sql: Sql;
  private readonly insertSql = new Map<number, string>();
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  // Latest non-drill result per probe without scanning the table: walk distinct probe ids through the
  // (probe_id, started_at) index one seek at a time (a "loose index scan"), then take each probe's newest row.
  // Cost is O(probes × log rows), independent of history length; no extra write on insert.
  private readonly latestSql = `
      WITH RECURSIVE p(id) AS (
        SELECT (SELECT MIN(probe_id) FROM probe_results)
        UNION ALL
        SELECT (SELECT MIN(probe_id) FROM probe_results WHERE probe_id > p.id) FROM p WHERE p.id IS NOT NULL
      )
      SELECT ${SELECT_COLS} FROM p JOIN probe_results r ON r.id = (
        SELECT id FROM probe_results
        WHERE probe_id = p.id AND drill_id IS NULL
        ORDER BY started_at DESC, id DESC LIMIT 1
      )
      WHERE p.id IS NOT NULL`;

  private readonly location: string | null;

  /** `location`: stamped on every result that carries none (the instance's vantage point). */
  constructor(sql: Sql, location: string | null = null) {
    this.sql = sql;
    this.location = location;
  }

  /** Insert one result; resolves once it is committed (durable against a process crash). */
  insert(r: ProbeResult): Promise<void> {
    // Inside a caller's transaction the row belongs to it (and to its rollback): no group commit.
    if (this.sql.inTransaction) return this.write([r]);
    return new Promise((resolve, reject) => {
      this.queue.push({ r, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Insert all or none, in one transaction. */
  async insertMany(rs: readonly ProbeResult[]): Promise<void> {
    if (rs.length === 0) return;
    await this.sql.transaction(() => this.write(rs));
  }

  /** Resolves once every insert queued so far is committed (or failed); at once when none is. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.insertMany(batch.map((p) => p.r));
          for (const p of batch) p.resolve();
        } catch (err) {
          if (batch.length === 1) {
            batch[0].reject(err);
            continue;
          }
          // One bad row must not fail its neighbours: retry them one by one, each with its own outcome.
          for (const p of batch) {
            try {
              await this.insertMany([p.r]);
              p.resolve();
            } catch (e) {
              p.reject(e);
            }
          }
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async write(rs: readonly ProbeResult[]): Promise<void> {
    let i = 0;
    while (i < rs.length) {
      let size = MAX_ROWS_PER_INSERT;
      while (size > rs.length - i) size >>= 1;
      const params: SqlValue[] = [];
      for (let k = i; k < i + size; k++) params.push(...toParams(rs[k], this.location));
      await this.sql.run(this.insertStatement(size), params);
      i += size;
    }
  }

  private insertStatement(rows: number): string {
    let s = this.insertSql.get(rows);
    if (!s) {
      const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
      s = `INSERT INTO probe_results (${SELECT_COLS}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`;
      this.insertSql.set(rows, s);
    }
    return s;
  }

  async list(q: ResultQuery = {}): Promise<ProbeResult[]> {
    const w = where(q);
    const dir = q.order === 'desc' ? 'DESC' : 'ASC';
    let sql = `SELECT ${SELECT_COLS} FROM probe_results${w.sql} ORDER BY started_at ${dir}, id ${dir}`;
    const params = [...w.params];
    if (q.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(Math.max(0, Math.floor(q.limit)));
    }
    return (await this.sql.all<Row>(sql, params)).map(rowToResult);
  }

  /**
   * A probe's newest `limit` rows, newest first, with only what availability streaks read: four columns through
   * the cached statement instead of whole results (10,000 probes at start-up).
   */
  async recentOutcomes(probeId: string, limit: number): Promise<Pick<ProbeResult, 'startedAt' | 'outcome' | 'confirmed' | 'drillId'>[]> {
    const rows = await this.sql.all<{ started_at: number; outcome: ProbeResult['outcome']; confirmed: number; drill_id: string | null }>(
      'SELECT started_at, outcome, confirmed, drill_id FROM probe_results WHERE probe_id = ? ORDER BY started_at DESC, id DESC LIMIT ?',
      [probeId, limit],
    );
    return rows.map((r) => (r.drill_id === null ? { startedAt: Number(r.started_at), outcome: r.outcome, confirmed: Number(r.confirmed) === 1 } : { startedAt: Number(r.started_at), outcome: r.outcome, confirmed: Number(r.confirmed) === 1, drillId: r.drill_id }));
  }

  /**
   * Rows of one location (or none recorded) that started at or after `since`, oldest first, with only what availability streaks read
   * (one range query through the time index: what was stored after the streaks were saved).
   */
  async outcomesSince(since: number, location: string): Promise<(OutcomeRow & { probeId: string })[]> {
    const rows = await this.sql.all<{ probe_id: string; started_at: number; outcome: ProbeResult['outcome']; confirmed: number; drill_id: string | null; error_class: ErrorClass | null }>(
      'SELECT probe_id, started_at, outcome, confirmed, drill_id, error_class FROM probe_results WHERE started_at >= ? AND (location = ? OR location IS NULL) ORDER BY started_at, id',
      [since, location],
    );
    return rows.map((r) => {
      const o: OutcomeRow & { probeId: string } = { probeId: r.probe_id, startedAt: Number(r.started_at), outcome: r.outcome, confirmed: Number(r.confirmed) === 1, errorClass: r.error_class };
      if (r.drill_id !== null) o.drillId = r.drill_id;
      return o;
    });
  }

  async count(q: Omit<ResultQuery, 'limit' | 'order'> = {}): Promise<number> {
    const w = where(q);
    return (await this.sql.get<{ c: number }>(`SELECT COUNT(*) AS c FROM probe_results${w.sql}`, w.params))!.c;
  }

  /**
   * Rows with an id above `afterId`, in id order, each with its id: for following what other instances record.
   * Ids are given at insert and rows become visible at commit, so a row may appear after one with a higher id:
   * callers re-read from their lowest unseen id (see cluster/result-tail.ts).
   */
  async after(afterId: number, limit: number): Promise<{ id: number; result: ProbeResult }[]> {
    const rows = await this.sql.all<Row & { id: number }>(`SELECT id, ${SELECT_COLS} FROM probe_results WHERE id > ? ORDER BY id LIMIT ?`, [afterId, limit]);
    return rows.map((row) => ({ id: Number(row.id), result: rowToResult(row) }));
  }

  /**
   * Per probe and location since `since` (drills left out): how many results, how many failed, the mean total
   * time of those that answered (ok or degraded: not a failure, not Vigil's own fault), and the newest result's
   * outcome and time. The one query behind GET /api/locations and the status page's per-location rows.
   */
  async byLocation(since: number): Promise<LocationSummary[]> {
    const rows = await this.sql.all<{ probe_id: string; location: string | null; n: number; failed: number; mean_ms: number | null; last_at: number; last_outcome: string }>(
      `SELECT a.probe_id, a.location, a.n, a.failed, a.mean_ms, a.last_at,
              (SELECT r.outcome FROM probe_results r WHERE r.probe_id = a.probe_id AND r.location IS NOT DISTINCT FROM a.location
                 AND r.started_at = a.last_at AND r.drill_id IS NULL LIMIT 1) AS last_outcome
       FROM (SELECT probe_id, location, COUNT(*) AS n, SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END) AS failed,
                    AVG(CASE WHEN outcome IN ('ok', 'degraded') THEN total_ms END) AS mean_ms, MAX(started_at) AS last_at
             FROM probe_results WHERE started_at >= ? AND drill_id IS NULL GROUP BY probe_id, location) a
       ORDER BY a.probe_id, a.location`,
      [since],
    );
    return rows.map((r) => ({
      probe: r.probe_id,
      location: r.location ?? 'default',
      results: Number(r.n),
      failed: Number(r.failed),
      meanTotalMs: r.mean_ms === null ? null : Math.round(Number(r.mean_ms) * 10) / 10,
      lastAt: Number(r.last_at),
      lastOutcome: r.last_outcome,
    }));
  }

  /** The highest row id (0 for an empty table). */
  async maxId(): Promise<number> {
    return Number((await this.sql.get<{ m: number | null }>('SELECT MAX(id) AS m FROM probe_results'))?.m ?? 0);
  }

  /** Newest non-drill result of every probe that has one. */
  async latest(): Promise<Map<string, ProbeResult>> {
    const out = new Map<string, ProbeResult>();
    for (const row of await this.sql.all<Row>(this.latestSql)) out.set(row.probe_id, rowToResult(row));
    return out;
  }
}
