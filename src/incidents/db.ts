// SQL for incidents, their events, notification groups and API silences (tables from migration 002).
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Severity } from '../domain.ts';
import type { SilenceSpec } from './config.ts';
import { oneRow } from '../store/db.ts';
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
  readonly db: DatabaseSync;
  private readonly q: Record<string, StatementSync>;

  constructor(db: DatabaseSync) {
    this.db = db;
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      openByKey: p(`SELECT * FROM incidents WHERE dedup_key = ? AND state <> 'resolved'`),
      lastResolvedByKey: p(`SELECT * FROM incidents WHERE dedup_key = ? AND state = 'resolved' ORDER BY resolved_at DESC LIMIT 1`),
      open: p(`SELECT * FROM incidents WHERE state <> 'resolved' ORDER BY first_seen, id`),
      byId: p(`SELECT * FROM incidents WHERE id = ?`),
      upsert: p(`INSERT INTO incidents (id, dedup_key, detector, key, state, severity, summary, labels, evidence, first_seen, last_seen,
                   fired_at, resolved_at, flapping, for_ms, signal_status, flips)
                 VALUES (:id, :dedup_key, :detector, :key, :state, :severity, :summary, :labels, :evidence, :first_seen, :last_seen,
                   :fired_at, :resolved_at, :flapping, :for_ms, :signal_status, :flips)
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, severity = excluded.severity, summary = excluded.summary,
                   labels = excluded.labels, evidence = excluded.evidence, last_seen = excluded.last_seen, fired_at = excluded.fired_at,
                   resolved_at = excluded.resolved_at, flapping = excluded.flapping, signal_status = excluded.signal_status,
                   flips = excluded.flips`),
      event: p(`INSERT INTO incident_events (incident_id, at, kind, detail) VALUES (?, ?, ?, ?)`),
      events: p(`SELECT at, kind, detail FROM incident_events WHERE incident_id = ? ORDER BY id`),
      openGroups: p(`SELECT * FROM notify_groups WHERE state = 'open' ORDER BY created_at, id`),
      openGroupByKey: p(`SELECT * FROM notify_groups WHERE group_key = ? AND state = 'open'`),
      groupById: p(`SELECT * FROM notify_groups WHERE id = ?`),
      insertGroup: p(`INSERT INTO notify_groups (id, route_index, group_key, dedup_key, owner, labels, state, created_at, last_flush_at, receivers)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      updateGroup: p(`UPDATE notify_groups SET state = ?, last_flush_at = ?, receivers = ? WHERE id = ?`),
      addMember: p(`INSERT OR IGNORE INTO notify_group_members (group_id, incident_id) VALUES (?, ?)`),
      members: p(`SELECT i.* FROM notify_group_members m JOIN incidents i ON i.id = m.incident_id WHERE m.group_id = ? ORDER BY i.first_seen, i.id`),
      groupsOf: p(`SELECT g.* FROM notify_group_members m JOIN notify_groups g ON g.id = m.group_id WHERE m.incident_id = ? ORDER BY g.created_at`),
      insertSilence: p(`INSERT INTO silences (id, matchers, starts_at, ends_at, comment, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      silences: p(`SELECT * FROM silences WHERE deleted_at IS NULL AND ends_at > ? ORDER BY starts_at, id`),
      allSilences: p(`SELECT * FROM silences ORDER BY created_at DESC, id LIMIT ?`),
      deleteSilence: p(`UPDATE silences SET deleted_at = ?, ends_at = MIN(ends_at, ?) WHERE id = ? AND deleted_at IS NULL`),
    };
  }

  openIncident(dedupKey: string): IncidentRow | null {
    return oneRow(this.q.openByKey, toIncident, dedupKey);
  }

  lastResolved(dedupKey: string): IncidentRow | null {
    return oneRow(this.q.lastResolvedByKey, toIncident, dedupKey);
  }

  openIncidents(): IncidentRow[] {
    return (this.q.open.all() as unknown as IncidentRecord[]).map(toIncident);
  }

  incident(id: string): IncidentRow | null {
    return oneRow(this.q.byId, toIncident, id);
  }

  listIncidents(q: IncidentQuery): IncidentRow[] {
    const where =
      q.state === 'open' ? `WHERE state <> 'resolved'` : q.state ? `WHERE state = '${q.state === 'pending' ? 'pending' : q.state === 'firing' ? 'firing' : 'resolved'}'` : '';
    const rows = this.db.prepare(`SELECT * FROM incidents ${where} ORDER BY first_seen DESC, id DESC LIMIT ?`).all(q.limit ?? 100);
    return (rows as unknown as IncidentRecord[]).map(toIncident);
  }

  saveIncident(i: IncidentRow): void {
    this.q.upsert.run({
      id: i.id,
      dedup_key: i.dedupKey,
      detector: i.detector,
      key: i.key,
      state: i.state,
      severity: i.severity,
      summary: i.summary,
      labels: JSON.stringify(i.labels),
      evidence: JSON.stringify(i.evidence),
      first_seen: i.firstSeen,
      last_seen: i.lastSeen,
      fired_at: i.firedAt,
      resolved_at: i.resolvedAt,
      flapping: i.flapping ? 1 : 0,
      for_ms: i.forMs,
      signal_status: i.signalStatus,
      flips: JSON.stringify(i.flips),
    });
  }

  addEvents(incidentId: string, at: number, events: readonly IncidentEvent[]): void {
    for (const e of events) this.q.event.run(incidentId, at, e.kind, e.detail);
  }

  events(incidentId: string): EventRecord[] {
    return this.q.events.all(incidentId) as unknown as EventRecord[];
  }

  openGroups(): GroupRow[] {
    return (this.q.openGroups.all() as unknown as GroupRecord[]).map(toGroup);
  }

  openGroup(groupKey: string): GroupRow | null {
    return oneRow(this.q.openGroupByKey, toGroup, groupKey);
  }

  group(id: string): GroupRow | null {
    return oneRow(this.q.groupById, toGroup, id);
  }

  insertGroup(g: GroupRow): void {
    this.q.insertGroup.run(g.id, g.routeIndex, g.groupKey, g.dedupKey, g.owner, JSON.stringify(g.labels), g.state, g.createdAt, g.lastFlushAt, JSON.stringify(g.receivers));
  }

  updateGroup(g: GroupRow): void {
    this.q.updateGroup.run(g.state, g.lastFlushAt, JSON.stringify(g.receivers), g.id);
  }

  addMember(groupId: string, incidentId: string): void {
    this.q.addMember.run(groupId, incidentId);
  }

  members(groupId: string): IncidentRow[] {
    return (this.q.members.all(groupId) as unknown as IncidentRecord[]).map(toIncident);
  }

  groupsOf(incidentId: string): GroupRow[] {
    return (this.q.groupsOf.all(incidentId) as unknown as GroupRecord[]).map(toGroup);
  }

  insertSilence(s: StoredSilence): void {
    this.q.insertSilence.run(s.id, JSON.stringify({ eq: s.matchers, re: s.matchersRe }), s.startsAt, s.endsAt, s.comment, s.createdBy, s.createdAt);
  }

  /**
   * API silences not yet over at `now` (some may start later). A row that can't be used (its matchers don't
   * parse, or a pattern RE2 rejects, written by an older Vigil or by hand) is skipped and reported through
   * `onBad`, never thrown: one bad row must not stop the engine.
   */
  activeSilences(now: number, onBad?: (id: string, error: string) => void): SilenceSpec[] {
    return (this.q.silences.all(now) as unknown as SilenceRecord[]).flatMap((r) => {
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
  liveSilenceCount(now: number): number {
    return (this.q.silences.all(now) as unknown[]).length;
  }

  silences(limit = 500): StoredSilence[] {
    // A row whose matchers don't parse is left out here too (activeSilences reports it).
    return (this.q.allSilences.all(limit) as unknown as SilenceRecord[]).flatMap((r) => {
      try {
        return [toSilence(r)];
      } catch {
        return [];
      }
    });
  }

  /** Ends a silence now (keeps the record). False when there is no such live silence. */
  deleteSilence(id: string, now: number): boolean {
    return Number(this.q.deleteSilence.run(now, now, id).changes) > 0;
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
