// The incidents engine's I/O shell: signals in (ingest), time in (tick), notifications out (outbox).
// Decisions are the pure functions of state.ts (incident lifecycle), matchers.ts (routes, silences,
// maintenance, inhibition) and groups.ts (who hears what when); this class loads their inputs from the store
// (SQLite or PostgreSQL, through `store.sql`), stores their outputs in the same transaction, and lets the outbox
// deliver. Everything it knows is in the database, so a new manager on the same store (a restart, or another
// instance taking the lease) carries on where the old one stopped.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Incident, Signal } from '../domain.ts';
import type { Logger } from '../log.ts';
import type { Notifier, ReceiverKind } from '../notifiers/types.ts';
import type { AlertsConfig, RouteConfig, SilenceSpec } from './config.ts';
import { buildReceiver, escalationFor } from './config.ts';
import { IncidentDb } from './db.ts';
import type { EventRecord, StoredSilence } from './db.ts';
import { groupKeyOf, maxSeverity, newGroup, planGroup } from './groups.ts';
import type { MemberView } from './groups.ts';
import { activeMaintenance, describeMatcher, muteReason, routesFor } from './matchers.ts';
import { Outbox } from './outbox.ts';
import type { AttemptRecord, DeliveryReport, NotificationPayload, OutboxLease } from './outbox.ts';
import type { Sql } from '../store/sql.ts';
import { applySignal, dedupKeyOf, retireIncident, tickIncident } from './state.ts';
import type { Transition } from './state.ts';
import type { GroupRow, IncidentQuery, IncidentRow, Labels, NotifyIntent } from './types.ts';

export interface IncidentManagerOptions {
  /** The store's async SQL (src/store/store.ts), either engine. */
  store: { sql: Sql };
  /** The leader lease: fences every outbox claim (absent: a lone engine). */
  lease?: OutboxLease;
  clock: Clock;
  /** The live alerts config (re-read on every use, so a reload applies at once). */
  config: () => AlertsConfig;
  notifiers: Partial<Record<ReceiverKind, Notifier>>;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** A reader next to the running daemon (`vigil incidents`): leaves rows in flight alone. */
  readOnly?: boolean;
  /** Jitter source for delivery backoff (tests pass a fixed one). */
  random?: () => number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface TickReport {
  /** Incidents whose state changed by time (pending → firing, flapping settled). */
  transitions: number;
  /** Notifications queued in this tick. */
  queued: number;
  delivery: DeliveryReport;
}

export type NotificationHistory = Awaited<ReturnType<Outbox['history']>>[number];

export interface IncidentDetail {
  incident: Incident;
  events: EventRecord[];
  notifications: NotificationHistory[];
  groups: { id: string; groupKey: string; dedupKey: string; state: GroupRow['state']; owner: string }[];
}

export interface SilenceInput {
  matchers?: Labels;
  matchersRe?: Labels;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
}

export interface RouteTestResult {
  route: string;
  matcher: string;
  groupBy: string[];
  groupKey: string;
  receivers: { kind: ReceiverKind; name: string; ok: boolean; note: string }[];
  /** When none of the receivers can be used, the alert still goes to Vigil's console log (as routeOf does): why. */
  fallback: string | null;
}

export interface RoutesTest {
  labels: Labels;
  routes: RouteTestResult[];
  /** Why nothing would be sent right now (silence, maintenance, inhibition needs firing sources: not checked). */
  muted: string | null;
  paused: boolean;
}

const SEP = ', ';

export class IncidentManager {
  readonly outbox: Outbox;
  private readonly o: IncidentManagerOptions;
  private readonly sql: Sql;
  private readonly idb: IncidentDb;
  private loop: { abort: AbortController; done: Promise<void> } | null = null;
  private ticking = false;
  private recoverPending = true;
  /** Cuts the loop's sleep short: something was queued that should go out now, not at the next tick. */
  private wake: { controller: AbortController; requested: boolean } = { controller: new AbortController(), requested: false };

  constructor(opts: IncidentManagerOptions) {
    this.o = opts;
    this.sql = opts.store.sql;
    this.idb = new IncidentDb(this.sql);
    this.outbox = new Outbox({
      sql: this.sql,
      lease: opts.lease,
      clock: opts.clock,
      notifiers: opts.notifiers,
      receiver: (owner, kind) => buildReceiver(opts.config(), owner, kind),
      expireAfterMs: () => opts.config().expireAfterMs,
      log: opts.log,
      random: opts.random,
      backoffBaseMs: opts.backoffBaseMs,
      backoffMaxMs: opts.backoffMaxMs,
    });
  }

  /**
   * Rows left in flight by a dead process (or a deposed leader) go back to the queue. The first tick after
   * construction and after each start() (the daemon starts the loop on taking the lease) does this before
   * delivering. Returns how many.
   */
  async recover(): Promise<number> {
    this.recoverPending = false;
    if (this.o.readOnly) return 0;
    const recovered = await this.outbox.recover();
    if (recovered > 0) this.o.log?.warn('notifications left in flight by the last run are queued again', { count: recovered });
    return recovered;
  }

  // ── inputs ──────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * One detector verdict. Opens, updates or resolves the key's incident and decides notifications (which
   * the next tick delivers). `forMs`: pending time for a new incident (default: the availability
   * detector's `for` for availability signals, else 0). Returns the incident, or null when there is none.
   */
  ingest(signal: Signal, opts: { forMs?: number } = {}): Promise<IncidentRow | null> {
    const now = this.o.clock.now();
    const cfg = this.o.config();
    const forMs = opts.forMs ?? (signal.detector === 'availability' ? cfg.availability.forMs : 0);
    return this.sql.transaction(async () => {
      const key = dedupKeyOf(signal);
      const current = await this.idb.openIncident(key);
      const previous = current ? null : await this.idb.lastResolved(key);
      const t = applySignal(current, previous, signal, now, { forMs, flap: cfg.flap }, () => newId('inc', now));
      if (!t.incident) return null;
      await this.commit(t, now, cfg);
      if ((await this.planGroupsOf(t.incident.id, now, cfg)) > 0) this.wakeUp();
      return t.incident;
    });
  }

  /**
   * Resolve open incidents of `detector` whose key is not in `keep` (a reload removed their probe: no
   * signal will ever resolve them). Flapping does not hold these. Returns how many were resolved.
   */
  retire(detector: string, keep: ReadonlySet<string>, why = 'no longer monitored (removed from the config)'): Promise<number> {
    const now = this.o.clock.now();
    const cfg = this.o.config();
    return this.sql.transaction(async () => {
      let n = 0;
      for (const inc of await this.idb.openIncidents()) {
        if (inc.detector !== detector || keep.has(inc.key)) continue;
        await this.commit(retireIncident(inc, now, why), now, cfg);
        await this.planGroupsOf(inc.id, now, cfg);
        n++;
      }
      return n;
    });
  }

  /** Time-based steps (pending → firing, flapping settles, group_wait/interval, escalation, repeats), then delivery. */
  async tick(): Promise<TickReport> {
    if (this.recoverPending) await this.recover();
    const { transitions, queued } = await this.evaluate();
    const delivery = await this.outbox.deliverDue();
    return { transitions, queued, delivery };
  }

  /** The decision half of tick(), in one transaction: nothing is sent. */
  evaluate(): Promise<{ transitions: number; queued: number }> {
    const now = this.o.clock.now();
    const cfg = this.o.config();
    return this.sql.transaction(async () => {
      let transitions = 0;
      for (const inc of await this.idb.openIncidents()) {
        const t = tickIncident(inc, now, { forMs: inc.forMs, flap: cfg.flap });
        if (t.events.length === 0) continue;
        transitions++;
        await this.commit(t, now, cfg);
      }
      const ctx = await this.muteContext(now, cfg);
      let queued = 0;
      for (const g of await this.idb.openGroups()) queued += await this.planAndQueue(g, now, cfg, ctx);
      return { transitions, queued };
    });
  }

  /**
   * Run tick() every `everyMs` of the clock until stop(). A notification queued by ingest() (a page on
   * confirmation) wakes the loop at once rather than waiting for the next tick. Errors are logged, never fatal.
   */
  start(everyMs = 5000): void {
    if (this.loop) return;
    this.recoverPending = true;
    const abort = new AbortController();
    const done = (async () => {
      while (!abort.signal.aborted) {
        this.wake = { controller: new AbortController(), requested: false };
        this.ticking = true;
        try {
          await this.tick();
        } catch (err) {
          this.o.log?.error('incidents tick failed', { error: String(err) });
        } finally {
          this.ticking = false;
        }
        if (this.wake.requested) continue; // queued while this tick ran: deliver it now
        try {
          await this.o.clock.sleep(everyMs, AbortSignal.any([abort.signal, this.wake.controller.signal]));
        } catch {
          if (abort.signal.aborted) return;
        }
      }
    })();
    this.loop = { abort, done };
  }

  /** True while the loop sleeps with nothing asked of it (tests and benches on a virtual clock wait for this). */
  get idle(): boolean {
    return !this.ticking && !this.wake.requested;
  }

  private wakeUp(): void {
    if (!this.loop || this.o.readOnly) return;
    this.wake.requested = true;
    this.wake.controller.abort();
  }

  /** Stop the loop and abort deliveries in flight (they are retried after the next start). */
  async stop(): Promise<void> {
    this.outbox.stop();
    if (!this.loop) return;
    this.loop.abort.abort();
    await this.loop.done;
    this.loop = null;
  }

  /**
   * Delete what ended before `before` (epoch ms): resolved incidents with their events and notification
   * history, closed groups, finished outbox rows. Open incidents and undelivered rows are never touched.
   * For the daemon's maintenance loop (e.g. with storage.raw_retention). Returns incidents deleted.
   */
  prune(before: number): Promise<number> {
    const sql = this.sql;
    return sql.transaction(async () => {
      const ids = (await sql.all<{ id: string }>(`SELECT id FROM incidents WHERE state = 'resolved' AND resolved_at < ?`, [before])).map((r) => r.id);
      const oldGroups = `SELECT id FROM notify_groups WHERE state = 'closed' AND id NOT IN (
          SELECT m.group_id FROM notify_group_members m JOIN incidents i ON i.id = m.incident_id WHERE i.state <> 'resolved' OR i.resolved_at >= ?)`;
      // Rows of open groups stay: a later update or resolve needs the Slack ts they recorded.
      const oldRows = `SELECT id FROM outbox WHERE status IN ('sent', 'failed', 'expired') AND done_at < ?
          AND group_id NOT IN (SELECT id FROM notify_groups WHERE state = 'open')`;
      await sql.run(`DELETE FROM outbox_attempts WHERE outbox_id IN (${oldRows})`, [before]);
      await sql.run(`DELETE FROM outbox_members WHERE outbox_id IN (${oldRows})`, [before]);
      await sql.run(`DELETE FROM outbox WHERE id IN (${oldRows})`, [before]);
      await sql.run(`DELETE FROM notify_group_members WHERE group_id IN (${oldGroups})`, [before]);
      await sql.run(`DELETE FROM notify_groups WHERE state = 'closed' AND id NOT IN (SELECT group_id FROM notify_group_members)`);
      for (const id of ids) {
        await sql.run(`DELETE FROM incident_events WHERE incident_id = ?`, [id]);
        await sql.run(`DELETE FROM incidents WHERE id = ?`, [id]);
      }
      await sql.run(`DELETE FROM outbox_members WHERE incident_id NOT IN (SELECT id FROM incidents) AND outbox_id NOT IN (SELECT id FROM outbox)`);
      return ids.length;
    });
  }

  // ── questions ───────────────────────────────────────────────────────────────────────────────────────────

  /** Whether a probe with these labels is in a `mode: pause` maintenance window: the scheduler should skip it. */
  isPaused(labels: Labels, now = this.o.clock.now()): boolean {
    return activeMaintenance(this.o.config().maintenance, labels, now, 'pause') !== null;
  }

  async listIncidents(q: IncidentQuery = {}): Promise<Incident[]> {
    const rows = await this.idb.listIncidents({ state: q.state, limit: Math.min(Math.max(q.limit ?? 100, 1), 1000) });
    const out: Incident[] = [];
    for (const i of rows) out.push(await this.withHistory(i));
    return out;
  }

  async incident(id: string): Promise<IncidentDetail | null> {
    const inc = await this.idb.incident(id);
    if (!inc) return null;
    return {
      incident: await this.withHistory(inc),
      events: await this.idb.events(id),
      notifications: await this.outbox.history(id),
      groups: (await this.idb.groupsOf(id)).map((g) => ({ id: g.id, groupKey: g.groupKey, dedupKey: g.dedupKey, state: g.state, owner: g.owner })),
    };
  }

  /** Which routes and receivers an alert with these labels would reach (`vigil routes test`). */
  async routesTest(labels: Labels): Promise<RoutesTest> {
    const cfg = this.o.config();
    return routesTest(cfg, labels, await this.silences(this.o.clock.now(), cfg), this.o.clock.now());
  }

  // ── silences ────────────────────────────────────────────────────────────────────────────────────────────

  async createSilence(input: SilenceInput): Promise<StoredSilence> {
    const now = this.o.clock.now();
    const s: StoredSilence = {
      id: newId('sil', now),
      matchers: input.matchers ?? {},
      matchersRe: input.matchersRe ?? {},
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      comment: input.comment,
      createdBy: input.createdBy,
      createdAt: now,
      deletedAt: null,
    };
    await this.idb.insertSilence(s);
    this.o.log?.info('silence created', { id: s.id, created_by: s.createdBy, until: new Date(s.endsAt).toISOString() });
    return s;
  }

  /** API silences (newest first, including ended and deleted ones) and the config's. */
  async listSilences(): Promise<{ api: StoredSilence[]; config: SilenceSpec[] }> {
    return { api: await this.idb.silences(), config: this.o.config().silences };
  }

  /** API silences not yet over (the API caps these). */
  liveSilenceCount(): Promise<number> {
    return this.idb.liveSilenceCount(this.o.clock.now());
  }

  deleteSilence(id: string): Promise<boolean> {
    return this.idb.deleteSilence(id, this.o.clock.now());
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────────────────

  private async commit(t: Transition, now: number, cfg: AlertsConfig): Promise<void> {
    const inc = t.incident!;
    await this.idb.saveIncident(inc);
    await this.idb.addEvents(inc.id, now, t.events);
    if (inc.state === 'firing') await this.joinGroups(inc, now, cfg);
  }

  /** A firing incident is a member of one open group per route it matches (new routes after a severity change too). */
  private async joinGroups(inc: IncidentRow, now: number, cfg: AlertsConfig): Promise<void> {
    const owner = ownerOf(inc);
    const mine = new Set((await this.idb.groupsOf(inc.id)).filter((g) => g.state === 'open').map((g) => g.groupKey));
    const labels = matchLabels(inc);
    for (const route of routesFor(cfg, labels)) {
      const { key } = groupKeyOf(route, owner, labels);
      if (mine.has(key)) continue;
      let g = await this.idb.openGroup(key);
      if (!g) {
        g = newGroup(newId('grp', now), route, owner, labels, now);
        await this.idb.insertGroup(g);
      }
      await this.idb.addMember(g.id, inc.id);
      await this.idb.addEvents(inc.id, now, [{ kind: 'grouped', detail: `${g.groupKey} → ${route.notify.join(', ')}` }]);
    }
  }

  /** Plan the incident's open groups now; returns how many notifications were queued. */
  private async planGroupsOf(incidentId: string, now: number, cfg: AlertsConfig): Promise<number> {
    const ctx = await this.muteContext(now, cfg);
    let queued = 0;
    for (const g of await this.idb.groupsOf(incidentId)) if (g.state === 'open') queued += await this.planAndQueue(g, now, cfg, ctx);
    return queued;
  }

  private async muteContext(now: number, cfg: AlertsConfig): Promise<{ silences: SilenceSpec[]; firing: { id: string; labels: Labels }[] }> {
    const firing = (await this.idb.openIncidents()).filter((i) => i.state === 'firing').map((i) => ({ id: i.id, labels: matchLabels(i) }));
    return { silences: await this.silences(now, cfg), firing };
  }

  private async silences(now: number, cfg: AlertsConfig): Promise<SilenceSpec[]> {
    return [...cfg.silences, ...(await this.idb.activeSilences(now, (id, error) => this.reportBadSilence(id, error)))];
  }

  private badSilences = new Set<string>();
  /** Once per row: a stored silence that can't be used is skipped (it silences nothing) and said so. */
  private reportBadSilence(id: string, error: string): void {
    if (this.badSilences.has(id)) return;
    this.badSilences.add(id);
    this.o.log?.error('stored silence skipped: it cannot be used; delete it and create a valid one', { id, error });
  }

  private async planAndQueue(g: GroupRow, now: number, cfg: AlertsConfig, ctx: Awaited<ReturnType<IncidentManager['muteContext']>>): Promise<number> {
    const route = this.routeOf(g, cfg);
    const members: MemberView[] = (await this.idb.members(g.id)).map((incident) => {
      const labels = matchLabels(incident);
      const sources = ctx.firing.filter((f) => f.id !== incident.id).map((f) => f.labels);
      return { incident, muted: incident.state === 'firing' ? muteReason(cfg, ctx.silences, labels, sources, now) : null };
    });
    const plan = planGroup(g, members, route, escalationFor(cfg, g.owner), now);
    if (JSON.stringify(plan.group) !== JSON.stringify(g)) await this.idb.updateGroup(plan.group);
    for (const intent of plan.intents) {
      if (plan.reported.length === 0) break; // nothing to speak of (cannot happen: planGroup only speaks of members)
      const payload = this.payload(plan.group, plan.reported, new Set(plan.muted), intent, cfg);
      await this.outbox.enqueue({ groupId: g.id, memberIds: plan.reported.map((i) => i.id), payload }, now);
      this.o.log?.info('notification queued', { receiver: intent.receiver, action: intent.action, reason: intent.reason, group: g.groupKey, alerts: plan.reported.length });
    }
    return plan.intents.length;
  }

  /** The group's route from the live config; a route a reload removed keeps its timings from the root and notifies nobody new. */
  private routeOf(g: GroupRow, cfg: AlertsConfig): RouteConfig {
    const r = g.routeIndex === -1 ? cfg.root : cfg.routes[g.routeIndex];
    const route = r ?? { ...cfg.root, index: g.routeIndex, notify: [] };
    // Receivers the owner cannot be reached through are left out; with none left, the console still hears it.
    const usable = route.notify.filter((k) => buildReceiver(cfg, g.owner, k).ok);
    if (route.notify.length > 0 && usable.length === 0) return { ...route, notify: ['console'] };
    return { ...route, notify: usable };
  }

  private payload(g: GroupRow, reported: IncidentRow[], muted: ReadonlySet<string>, intent: NotifyIntent, cfg: AlertsConfig): NotificationPayload {
    const alerts = reported.map(snapshot);
    const lead = reported[0];
    const incident = alerts.length === 1 ? alerts[0] : summarise(g, reported, muted);
    return {
      incidentId: lead.id,
      dedupKey: g.dedupKey,
      receiver: intent.receiver,
      action: intent.action,
      reason: intent.reason,
      incident,
      ...(alerts.length > 1 ? { alerts } : {}),
      links: this.links(cfg, lead.id, g.owner),
      owner: g.owner,
    };
  }

  private links(cfg: AlertsConfig, incidentId: string, owner: string): { href: string; text: string }[] {
    const links: { href: string; text: string }[] = [];
    links.push({ href: `${cfg.publicUrl}/api/incidents/${encodeURIComponent(incidentId)}`, text: 'Incident in Vigil' });
    const runbook = cfg.owners[owner]?.runbook;
    if (runbook) links.push({ href: runbook, text: 'Runbook' });
    return links;
  }

  private async withHistory(i: IncidentRow): Promise<Incident> {
    return { ...snapshot(i), notifications: (await this.outbox.history(i.id)).map(({ receiver, action, status, ref, at }) => ({ receiver, action, status, ref, at })) };
  }
}

/** The labels routes, silences and inhibition see: the signal's labels plus detector, key and severity. */
export function matchLabels(i: Pick<IncidentRow, 'labels' | 'detector' | 'key' | 'severity'>): Labels {
  return { ...i.labels, detector: i.detector, key: i.key, severity: i.severity };
}

function ownerOf(i: IncidentRow): string {
  return i.labels.owner || 'unowned';
}

function snapshot(i: IncidentRow): Omit<Incident, 'notifications'> {
  return {
    id: i.id,
    dedupKey: i.dedupKey,
    detector: i.detector,
    key: i.key,
    state: i.state,
    severity: i.severity,
    summary: i.summary,
    labels: i.labels,
    evidence: i.evidence,
    firstSeen: i.firstSeen,
    lastSeen: i.lastSeen,
    resolvedAt: i.resolvedAt,
    flapping: i.flapping,
  };
}

/**
 * One incident that speaks for a group, naming every alert by what it is now:
 * "2 alerts firing for provider=openai: a, b; resolved: c; silenced: d (<first summary>)".
 */
function summarise(g: GroupRow, reported: IncidentRow[], muted: ReadonlySet<string>): Omit<Incident, 'notifications'> {
  const firing = reported.filter((i) => i.state === 'firing');
  const loud = firing.filter((i) => !muted.has(i.id));
  const quiet = firing.filter((i) => muted.has(i.id));
  const resolved = reported.filter((i) => i.state === 'resolved');
  const lead = reported[0];
  const scope = Object.entries(g.labels)
    .filter(([k, v]) => k !== 'owner' && v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join(SEP);
  const where = scope ? ` for ${scope}` : '';
  const keys = (list: IncidentRow[]) => list.map((i) => i.key).join(SEP);
  const summary = firing.length
    ? (loud.length ? `${loud.length} alert${loud.length === 1 ? '' : 's'} firing${where}: ${keys(loud)}` : `only silenced alerts firing${where}`) +
      (resolved.length ? `; resolved: ${keys(resolved)}` : '') +
      (quiet.length ? `; silenced: ${keys(quiet)}` : '') +
      ` (${lead.summary})`
    : `resolved: all ${resolved.length} alerts${where} recovered (${keys(resolved)})`;
  const common: Labels = {};
  for (const [k, v] of Object.entries(lead.labels)) if (reported.every((i) => i.labels[k] === v)) common[k] = v;
  const detectors = [...new Set(reported.map((i) => i.detector))];
  return {
    id: lead.id,
    dedupKey: lead.dedupKey,
    detector: detectors.length === 1 ? detectors[0] : detectors.join('+'),
    key: scope || g.groupKey,
    state: firing.length ? 'firing' : 'resolved',
    severity: maxSeverity(firing.length ? firing : resolved),
    summary: summary.length > 1000 ? `${summary.slice(0, 999)}…` : summary,
    labels: common,
    evidence: { ...lead.evidence, alerts_firing: firing.length, alerts_resolved: resolved.length },
    firstSeen: Math.min(...reported.map((i) => i.firstSeen)),
    lastSeen: Math.max(...reported.map((i) => i.lastSeen)),
    resolvedAt: firing.length ? null : Math.max(...resolved.map((i) => i.resolvedAt ?? i.lastSeen)),
    flapping: reported.some((i) => i.flapping),
  };
}

/** Pure `routes test`: routes, receivers per the owner label, and whether it would be muted now. */
export function routesTest(cfg: AlertsConfig, labels: Labels, silences: readonly SilenceSpec[], now: number): RoutesTest {
  const owner = labels.owner || 'unowned';
  const esc = escalationFor(cfg, owner);
  const routes = routesFor(cfg, labels).map((route): RouteTestResult => {
    const receivers = route.notify.map((kind) => {
      const b = buildReceiver(cfg, owner, kind);
      let note = b.ok ? 'at once' : b.reason;
      if (b.ok && kind === 'pagerduty' && esc.pageAfterMs > 0) {
        note = esc.pageAtOnce.includes((labels.severity ?? '') as never)
          ? `at once (severity ${labels.severity} pages at once)`
          : `after ${Math.round(esc.pageAfterMs / 60_000)}m still firing (escalation.page_after)`;
      }
      return { kind, name: `${owner}/${kind}`, ok: b.ok, note };
    });
    return {
      route: route.index === -1 ? `root (${route.source})` : `routes[${route.index}] at ${route.source}`,
      matcher: route.index === -1 ? '(no route matched)' : describeMatcher(route.matcher),
      groupBy: route.groupBy,
      groupKey: groupKeyOf(route, owner, labels).key,
      receivers,
      // The same rule as routeOf: with no usable receiver, nothing is lost; the console log hears it.
      fallback:
        receivers.length > 0 && receivers.every((r) => !r.ok)
          ? `fallback: no receiver above is configured for owner "${owner}", so this alert goes to Vigil's console log (stderr) instead`
          : null,
    };
  });
  return {
    labels,
    routes,
    muted: muteReason(cfg, silences, labels, [], now),
    paused: activeMaintenance(cfg.maintenance, labels, now, 'pause') !== null,
  };
}

function newId(prefix: string, now: number): string {
  return `${prefix}-${now.toString(36)}-${randomBytes(3).toString('hex')}`;
}

export type { AttemptRecord };
