// SQL for incidents, their events, notification groups and API silences (tables from migration 002), on either
// engine through the store's async `Sql`.
import type { Severity } from '../domain.ts';
import type { Sql, SqlValue } from '../store/sql.ts';
import type { SilenceSpec } from './config.ts';
import { compileMatcher } from './matchers.ts';
import type { GroupRow, IncidentEvent, IncidentQuery, IncidentRow, Labels } from './types.ts';

interface IncidentRecord {
  id: string;
  dedup_key: string;
  detector: string;
  key: string;
  state: IncidentRow['state'];
  severity: Severity;
  summary: string;
  labels: string;
  evidence: string;
  first_seen: number;
  last_seen: number;
  fired_at: number | null;
  resolved_at: number | null;
  flapping: number;
  for_ms: number;
  signal_status: IncidentRow['signalStatus'];
  flips: string;
}

interface GroupRecord {
  id: string;
  route_index: number;
  group_key: string;
  dedup_key: string;
  owner: string;
  labels: string;
  state: GroupRow['state'];
  created_at: number;
  last_flush_at: number | null;
  receivers: string;
}

interface SilenceRecord {
  id: string;
  matchers: string;
  starts_at: number;
  ends_at: number;
  comment: string;
  created_by: string;
  created_at: number;
  deleted_at: number | null;
}

export interface StoredSilence {
  id: string;
  matchers: Labels;
  matchersRe: Labels;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  createdAt: number;
  deletedAt: number | null;
}

export interface EventRecord {
  at: number;
  kind: string;
  detail: string;
}

function toIncident(r: IncidentRecord): IncidentRow {
  return {
    id: r.id,
    dedupKey: r.dedup_key,
    detector: r.detector,
    key: r.key,
    state: r.state,
    severity: r.severity,
    summary: r.summary,
    labels: JSON.parse(r.labels),
    evidence: JSON.parse(r.evidence),
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    resolvedAt: r.resolved_at,
    flapping: r.flapping === 1,
    firedAt: r.fired_at,
    forMs: r.for_ms,
    signalStatus: r.signal_status,
    flips: JSON.parse(r.flips),
  };
}

function toGroup(r: GroupRecord): GroupRow {
  return {
    id: r.id,
    routeIndex: r.route_index,
    groupKey: r.group_key,
    dedupKey: r.dedup_key,
    owner: r.owner,
    labels: JSON.parse(r.labels),
    state: r.state,
    createdAt: r.created_at,
    lastFlushAt: r.last_flush_at,
    receivers: JSON.parse(r.receivers),
  };
}

export class IncidentDb {
  readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  private async incidents(query: string, params: SqlValue[] = []): Promise<IncidentRow[]> {
    return (await this.sql.all<IncidentRecord>(query, params)).map(toIncident);
  }

  private async groups(query: string, params: SqlValue[] = []): Promise<GroupRow[]> {
    return (await this.sql.all<GroupRecord>(query, params)).map(toGroup);
  }

  async openIncident(dedupKey: string): Promise<IncidentRow | null> {
    return (await this.incidents(`SELECT * FROM incidents WHERE dedup_key = ? AND state <> 'resolved'`, [dedupKey]))[0] ?? null;
  }

  async lastResolved(dedupKey: string): Promise<IncidentRow | null> {
    return (await this.incidents(`SELECT * FROM incidents WHERE dedup_key = ? AND state = 'resolved' ORDER BY resolved_at DESC LIMIT 1`, [dedupKey]))[0] ?? null;
  }

  openIncidents(): Promise<IncidentRow[]> {
    return this.incidents(`SELECT * FROM incidents WHERE state <> 'resolved' ORDER BY first_seen, id`);
  }

  async incident(id: string): Promise<IncidentRow | null> {
    return (await this.incidents(`SELECT * FROM incidents WHERE id = ?`, [id]))[0] ?? null;
  }

  listIncidents(q: IncidentQuery): Promise<IncidentRow[]> {
    const where = q.state === 'open' ? `WHERE state <> 'resolved'` : q.state ? `WHERE state = ?` : '';
    const params: SqlValue[] = q.state && q.state !== 'open' ? [q.state] : [];
    return this.incidents(`SELECT * FROM incidents ${where} ORDER BY first_seen DESC, id DESC LIMIT ?`, [...params, q.limit ?? 100]);
  }

  async saveIncident(i: IncidentRow): Promise<void> {
    await this.sql.run(
      `INSERT INTO incidents (id, dedup_key, detector, key, state, severity, summary, labels, evidence, first_seen, last_seen,
         fired_at, resolved_at, flapping, for_ms, signal_status, flips)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, severity = excluded.severity, summary = excluded.summary,
         labels = excluded.labels, evidence = excluded.evidence, last_seen = excluded.last_seen, fired_at = excluded.fired_at,
         resolved_at = excluded.resolved_at, flapping = excluded.flapping, signal_status = excluded.signal_status,
         flips = excluded.flips`,
      [
        i.id,
        i.dedupKey,
        i.detector,
        i.key,
        i.state,
        i.severity,
        i.summary,
        JSON.stringify(i.labels),
        JSON.stringify(i.evidence),
        i.firstSeen,
        i.lastSeen,
        i.firedAt,
        i.resolvedAt,
        i.flapping ? 1 : 0,
        i.forMs,
        i.signalStatus,
        JSON.stringify(i.flips),
      ],
    );
  }

  async addEvents(incidentId: string, at: number, events: readonly IncidentEvent[]): Promise<void> {
    for (const e of events) await this.sql.run(`INSERT INTO incident_events (incident_id, at, kind, detail) VALUES (?, ?, ?, ?)`, [incidentId, at, e.kind, e.detail]);
  }

  events(incidentId: string): Promise<EventRecord[]> {
    return this.sql.all<EventRecord>(`SELECT at, kind, detail FROM incident_events WHERE incident_id = ? ORDER BY id`, [incidentId]);
  }

  openGroups(): Promise<GroupRow[]> {
    return this.groups(`SELECT * FROM notify_groups WHERE state = 'open' ORDER BY created_at, id`);
  }

  async openGroup(groupKey: string): Promise<GroupRow | null> {
    return (await this.groups(`SELECT * FROM notify_groups WHERE group_key = ? AND state = 'open'`, [groupKey]))[0] ?? null;
  }

  async group(id: string): Promise<GroupRow | null> {
    return (await this.groups(`SELECT * FROM notify_groups WHERE id = ?`, [id]))[0] ?? null;
  }

  async insertGroup(g: GroupRow): Promise<void> {
    await this.sql.run(
      `INSERT INTO notify_groups (id, route_index, group_key, dedup_key, owner, labels, state, created_at, last_flush_at, receivers)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [g.id, g.routeIndex, g.groupKey, g.dedupKey, g.owner, JSON.stringify(g.labels), g.state, g.createdAt, g.lastFlushAt, JSON.stringify(g.receivers)],
    );
  }

  async updateGroup(g: GroupRow): Promise<void> {
    await this.sql.run(`UPDATE notify_groups SET state = ?, last_flush_at = ?, receivers = ? WHERE id = ?`, [g.state, g.lastFlushAt, JSON.stringify(g.receivers), g.id]);
  }

  async addMember(groupId: string, incidentId: string): Promise<void> {
    await this.sql.run(`INSERT INTO notify_group_members (group_id, incident_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, [groupId, incidentId]);
  }

  members(groupId: string): Promise<IncidentRow[]> {
    return this.incidents(`SELECT i.* FROM notify_group_members m JOIN incidents i ON i.id = m.incident_id WHERE m.group_id = ? ORDER BY i.first_seen, i.id`, [groupId]);
  }

  groupsOf(incidentId: string): Promise<GroupRow[]> {
    return this.groups(`SELECT g.* FROM notify_group_members m JOIN notify_groups g ON g.id = m.group_id WHERE m.incident_id = ? ORDER BY g.created_at`, [incidentId]);
  }

  async insertSilence(s: StoredSilence): Promise<void> {
    await this.sql.run(`INSERT INTO silences (id, matchers, starts_at, ends_at, comment, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
      s.id,
      JSON.stringify({ eq: s.matchers, re: s.matchersRe }),
      s.startsAt,
      s.endsAt,
      s.comment,
      s.createdBy,
      s.createdAt,
    ]);
  }

  private liveSilences(now: number): Promise<SilenceRecord[]> {
    return this.sql.all<SilenceRecord>(`SELECT * FROM silences WHERE deleted_at IS NULL AND ends_at > ? ORDER BY starts_at, id`, [now]);
  }

  /**
   * API silences not yet over at `now` (some may start later). A row that can't be used (its matchers don't
   * parse, or a pattern RE2 rejects, written by an older Vigil or by hand) is skipped and reported through
   * `onBad`, never thrown: one bad row must not stop the engine.
   */
  async activeSilences(now: number, onBad?: (id: string, error: string) => void): Promise<SilenceSpec[]> {
    return (await this.liveSilences(now)).flatMap((r) => {
      try {
        const s = toSilence(r);
        return [{ id: s.id, matcher: compileMatcher(s.matchers, s.matchersRe), startsAt: s.startsAt, endsAt: s.endsAt, comment: s.comment, createdBy: s.createdBy, origin: 'api' as const }];
      } catch (err) {
        onBad?.(r.id, err instanceof Error ? err.message : String(err));
        return [];
      }
    });
  }

  /** API silences not yet over at `now` (the API's cap). */
  async liveSilenceCount(now: number): Promise<number> {
    return Number((await this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM silences WHERE deleted_at IS NULL AND ends_at > ?`, [now]))!.n);
  }

  async silences(limit = 500): Promise<StoredSilence[]> {
    // A row whose matchers don't parse is left out here too (activeSilences reports it).
    return (await this.sql.all<SilenceRecord>(`SELECT * FROM silences ORDER BY created_at DESC, id LIMIT ?`, [limit])).flatMap((r) => {
      try {
        return [toSilence(r)];
      } catch {
        return [];
      }
    });
  }

  /** Ends a silence now (keeps the record). False when there is no such live silence. */
  async deleteSilence(id: string, now: number): Promise<boolean> {
    const r = await this.sql.run(
      `UPDATE silences SET deleted_at = ?, ends_at = CASE WHEN ends_at < ? THEN ends_at ELSE ? END WHERE id = ? AND deleted_at IS NULL`,
      [now, now, now, id],
    );
    return r.changes > 0;
  }
}

function toSilence(r: SilenceRecord): StoredSilence {
  const m = JSON.parse(r.matchers) as { eq: Labels; re: Labels };
  return {
    id: r.id,
    matchers: m.eq,
    matchersRe: m.re,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    comment: r.comment,
    createdBy: r.created_by,
    createdAt: r.created_at,
    deletedAt: r.deleted_at,
  };
}
