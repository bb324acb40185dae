// probe_results: one row per ProbeResult. Scalar columns for what we query, a JSON column for the rest.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { ProbeResult } from '../domain.ts';
import { StatementCache, transaction, whereClause } from './db.ts';

export interface ResultQuery {
  probe?: string;
  /** Inclusive lower bound on startedAt (epoch ms). */
  since?: number;
  /** Exclusive upper bound on startedAt (epoch ms). */
  until?: number;
  /** `only`: drill traffic only; `exclude`: none of it; default `include`. */
  drills?: 'include' | 'exclude' | 'only';
  drillId?: string;
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
] as const;
const SELECT_COLS = COLUMNS.join(', ');

// node:sqlite refuses to bind `undefined`; optional fields become NULL.
const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

function toParams(r: ProbeResult): SQLInputValue[] {
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
  return r;
}

function where(q: ResultQuery): { sql: string; params: SQLInputValue[] } {
  return whereClause([
    ['probe_id = ?', q.probe],
    ['started_at >= ?', q.since],
    ['started_at < ?', q.until],
    ['drill_id = ?', q.drillId],
    q.drills === 'exclude' && 'drill_id IS NULL',
    q.drills === 'only' && 'drill_id IS NOT NULL',
  ]);
}

export class ResultQueries {
  private readonly db: DatabaseSync;
  private readonly insertStmt: StatementSync;
  private readonly latestStmt: StatementSync;
  private readonly stmts: StatementCache;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.stmts = new StatementCache(db);
    this.insertStmt = db.prepare(
      `INSERT INTO probe_results (${SELECT_COLS}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
    );
    // Latest non-drill result per probe without scanning the table: walk distinct probe ids through the
    // (probe_id, started_at) index one seek at a time (a "loose index scan"), then take each probe's newest row.
    // Cost is O(probes × log rows), independent of history length; no extra write on insert.
    this.latestStmt = db.prepare(`
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
      WHERE p.id IS NOT NULL`);
  }


  /** Insert one result (its own transaction, committed on return). Returns the row id. */
  insert(r: ProbeResult): number {
    return Number(this.insertStmt.run(...toParams(r)).lastInsertRowid);
  }

  /** Insert all or none, in one transaction. */
  insertMany(rs: readonly ProbeResult[]): void {
    if (rs.length === 0) return;
    transaction(this.db, () => {
      for (const r of rs) this.insertStmt.run(...toParams(r));
    });
  }

  list(q: ResultQuery = {}): ProbeResult[] {
    const w = where(q);
    const dir = q.order === 'desc' ? 'DESC' : 'ASC';
    let sql = `SELECT ${SELECT_COLS} FROM probe_results${w.sql} ORDER BY started_at ${dir}, id ${dir}`;
    const params = [...w.params];
    if (q.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(Math.max(0, Math.floor(q.limit)));
    }
    return (this.stmts.get(sql).all(...params) as Row[]).map(rowToResult);
  }

  count(q: Omit<ResultQuery, 'limit' | 'order'> = {}): number {
    const w = where(q);
    return (this.stmts.get(`SELECT COUNT(*) AS c FROM probe_results${w.sql}`).get(...w.params) as { c: number }).c;
  }

  /** Newest non-drill result of every probe that has one. */
  latest(): Map<string, ProbeResult> {
    const out = new Map<string, ProbeResult>();
    for (const row of this.latestStmt.all() as Row[]) out.set(row.probe_id, rowToResult(row));
    return out;
  }
}
