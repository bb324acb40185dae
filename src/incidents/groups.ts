// Notification groups, pure: which group an incident joins, and what each receiver of a group should be
// told now. Alertmanager's dispatch + notify stages in one function per group:
//
// - group_wait: a new group waits before its first notification, so siblings failing together arrive
//   in one message ("5 probes of openai failing"). Except a page on confirmation: a confirmed critical
//   availability failure (not flapping) is the first news of an outage and goes out at once; the group's
//   wait then applies to what follows (siblings joining, recoveries), which go out together at the end of
//   the group_wait the group would have had.
// - group_interval: later changes (new members, recoveries, flapping) go out at most this often, each
//   after settling for group_wait, so siblings that recover together are one message.
// - repeat_interval: reminders while still firing (Slack, console; PagerDuty never repeats).
// - escalation: PagerDuty only for alerts that page: critical at once, others once firing for page_after.
// - each alert resolves on its own evidence: members are alerts (the latest incident of each dedup key, so an
//   alert that resolved and fired again is one firing alert, not "resolved" beside itself); chat receivers
//   hear which are firing and which resolved; PagerDuty's incident resolves as soon as none of the group's
//   firing alerts pages (a slow safety probe still failing as a warning does not hold the page open), and a
//   later alert that pages opens a new one.
// - muted members (silence, maintenance, inhibition) create no trigger and no reminder, but the resolve
//   contract holds: every receiver that got a trigger gets the resolve, muted or not.
import { createHash } from 'node:crypto';
import type { Severity } from '../domain.ts';
import type { ReceiverKind } from '../notifiers/types.ts';
import type { EscalationConfig, RouteConfig } from './config.ts';
import type { GroupReceiverState, GroupRow, IncidentRow, Labels, NotifyIntent } from './types.ts';
import { SEVERITY_RANK } from './types.ts';

export interface MemberView {
  incident: IncidentRow;
  /** Why it creates no notifications now, or null. */
  muted: string | null;
}

export interface GroupPlan {
  group: GroupRow;
  intents: NotifyIntent[];
  /** Alerts the intents speak of: firing and unmuted, firing but muted, then resolved. */
  reported: IncidentRow[];
  /** Ids of the reported alerts that are firing but muted (named as such). */
  muted: string[];
}

/** `owner` is always part of the key: receivers are built per owner. */
export function groupKeyOf(route: RouteConfig, owner: string, labels: Labels): { key: string; labels: Labels } {
  const by = [...new Set(route.groupBy.filter((l) => l !== 'owner'))].sort();
  const values: Labels = { owner };
  for (const l of by) values[l] = labels[l] ?? '';
  const key = `route${route.index}{${Object.entries(values)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
  return { key, labels: values };
}

export function dedupKeyOfGroup(groupKey: string): string {
  return `vigil-${createHash('sha256').update(groupKey).digest('hex').slice(0, 32)}`;
}

export function newGroup(id: string, route: RouteConfig, owner: string, labels: Labels, now: number): GroupRow {
  const g = groupKeyOf(route, owner, labels);
  return {
    id,
    routeIndex: route.index,
    groupKey: g.key,
    dedupKey: dedupKeyOfGroup(g.key),
    owner,
    labels: g.labels,
    state: 'open',
    createdAt: now,
    lastFlushAt: null,
    receivers: {},
  };
}

function emptyState(): GroupReceiverState {
  return { triggeredAt: null, lastSentAt: null, digest: null, resolvedAt: null };
}

export function maxSeverity(list: readonly IncidentRow[]): Severity {
  let s: Severity = 'info';
  for (const i of list) if (SEVERITY_RANK[i.severity] > SEVERITY_RANK[s]) s = i.severity;
  return s;
}

/**
 * Detectors whose firing incidents are already confirmed (the availability detector counts only confirmed
 * failures; `vigil` is Vigil's own crash, certain and with seconds to get out).
 */
const CONFIRMED_DETECTORS = new Set(['availability', 'egress', 'vigil']);

/**
 * Page on confirmation: a confirmed critical failure is the first news of an outage, so it skips group_wait.
 * A flapping one waits like any other (flap damping).
 */
export function pagesAtOnce(i: IncidentRow): boolean {
  return i.state === 'firing' && i.severity === 'critical' && !i.flapping && CONFIRMED_DETECTORS.has(i.detector);
}

/** When an alert pages: at once for the severities that do, else once it has been firing for page_after. */
export function pagesFrom(i: IncidentRow, esc: EscalationConfig): number {
  const since = i.firedAt ?? i.firstSeen;
  return esc.pageAtOnce.includes(i.severity) ? since : since + esc.pageAfterMs;
}

/**
 * The alerts of a group: the latest incident of each dedup key. An alert that resolved and fired again is a
 * member twice (two incidents); only its current incident speaks for it.
 */
export function latestPerKey(members: readonly MemberView[]): MemberView[] {
  const byKey = new Map<string, MemberView>();
  for (const m of members) {
    const cur = byKey.get(m.incident.dedupKey);
    const newer = !cur || m.incident.firstSeen > cur.incident.firstSeen || (m.incident.firstSeen === cur.incident.firstSeen && m.incident.id > cur.incident.id);
    if (newer) byKey.set(m.incident.dedupKey, m);
  }
  return [...byKey.values()];
}

/** What to tell each receiver of `route` about `group` at `now`. Never mutates its inputs. */
export function planGroup(group: GroupRow, all: readonly MemberView[], route: RouteConfig, esc: EscalationConfig, now: number): GroupPlan {
  const g: GroupRow = { ...group, receivers: { ...group.receivers } };
  const intents: NotifyIntent[] = [];
  const members = latestPerKey(all);
  const firingViews = members.filter((m) => m.incident.state === 'firing');
  const firing = firingViews.map((m) => m.incident);
  const active = firingViews.filter((m) => m.muted === null).map((m) => m.incident);
  const muted = firingViews.filter((m) => m.muted !== null).map((m) => m.incident);
  const resolved = members.filter((m) => m.incident.state === 'resolved').map((m) => m.incident);
  const allResolved = firing.length === 0;
  const firstFlushAt = g.createdAt + route.groupWaitMs;
  const urgent = active.some(pagesAtOnce);
  // After an early (page-on-confirmation) flush, the next one is due when group_wait would have ended.
  const flushDue =
    g.lastFlushAt === null ? now >= firstFlushAt : g.lastFlushAt < firstFlushAt ? now >= firstFlushAt : now >= g.lastFlushAt + route.groupIntervalMs;
  const digest = [
    active.map((i) => `${i.id}:${i.severity}${i.flapping ? ':flapping' : ''}`).sort().join(','),
    resolved.map((i) => i.id).sort().join(','),
  ].join('|');
  // PagerDuty is about the alerts that page; muted ones still hold its incident open (the resolve contract).
  const paging = (list: readonly IncidentRow[]) => list.filter((i) => now >= pagesFrom(i, esc));
  const activePaging = paging(active);
  const firingPaging = paging(firing);

  // Receivers told earlier but no longer on the route (a reload changed it) still get their resolve.
  const kinds = [...new Set([...route.notify, ...(Object.keys(g.receivers) as ReceiverKind[])])];
  for (const kind of kinds) {
    const pd = kind === 'pagerduty';
    let rs: GroupReceiverState = { ...(g.receivers[kind] ?? emptyState()) };
    if (rs.resolvedAt !== null) {
      // Its part is over, unless PagerDuty's incident resolved while the group went on and another alert now pages.
      if (!(pd && route.notify.includes(kind) && activePaging.length > 0)) continue;
      rs = emptyState();
    }
    if (rs.triggeredAt === null) {
      if (!route.notify.includes(kind)) continue;
      // Never told: only a firing, unmuted member is news (for PagerDuty, one that pages), after group_wait
      // unless it pages on confirmation.
      const news = pd ? activePaging : active;
      if (news.length === 0 || (now < firstFlushAt && !urgent)) continue;
      const escalated = pd && g.lastFlushAt !== null;
      intents.push({ receiver: kind, action: 'trigger', reason: escalated ? 'escalated' : 'new' });
      Object.assign(rs, { triggeredAt: now, lastSentAt: now, digest, changedAt: null });
    } else if (pd) {
      // PagerDuty keeps its incident as it was triggered (no updates, no reminders) and resolves it once no
      // firing alert of the group pages, after the change settled for group_wait.
      if (firingPaging.length > 0) rs.changedAt = null;
      else {
        rs.changedAt ??= now;
        if (flushDue && now >= rs.changedAt + route.groupWaitMs) {
          intents.push({ receiver: kind, action: 'resolve', reason: 'resolved' });
          Object.assign(rs, { resolvedAt: now, lastSentAt: now, digest, changedAt: null });
        }
      }
    } else if (!allResolved && active.length === 0) {
      // Everything still firing is muted: no updates, no reminders (its resolve still comes later).
      g.receivers[kind] = rs;
      continue;
    } else if (digest !== rs.digest) {
      // A change settles for group_wait (siblings recovering together go out as one), at most every group_interval.
      rs.changedAt ??= now;
      if (flushDue && now >= rs.changedAt + route.groupWaitMs) {
        if (allResolved) {
          intents.push({ receiver: kind, action: 'resolve', reason: 'resolved' });
          Object.assign(rs, { resolvedAt: now, lastSentAt: now });
        } else {
          intents.push({ receiver: kind, action: 'update', reason: 'changed' });
          rs.lastSentAt = now;
        }
        Object.assign(rs, { digest, changedAt: null });
      }
    } else {
      if (rs.changedAt != null) rs.changedAt = null; // changed and changed back before it went out
      if (active.length > 0 && rs.lastSentAt !== null && now >= rs.lastSentAt + route.repeatIntervalMs) {
        intents.push({ receiver: kind, action: 'update', reason: 'repeat' });
        rs.lastSentAt = now;
      }
    }
    g.receivers[kind] = rs;
  }
  if (intents.length > 0) g.lastFlushAt = now;

  const told = Object.values(g.receivers).filter((r) => r && r.triggeredAt !== null);
  if (allResolved && told.every((r) => r!.resolvedAt !== null)) g.state = 'closed';
  const order = (a: IncidentRow, b: IncidentRow) => (a.firedAt ?? a.firstSeen) - (b.firedAt ?? b.firstSeen) || a.key.localeCompare(b.key);
  return {
    group: g,
    intents,
    reported: [...[...active].sort(order), ...[...muted].sort(order), ...[...resolved].sort(order)],
    muted: muted.map((i) => i.id),
  };
}
