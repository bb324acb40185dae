// Atlassian Statuspage subscriber webhooks → informational signals. Pure: parse a payload, map its
// components to providers and models through config, and build the Signal. Two payload shapes exist
// (research/lifecycle_signals.md §2): `{meta, page, incident}` and `{meta, page, component, component_update}`.
import type { Signal } from '../domain.ts';
import type { StatuspageSource } from './config.ts';
import { globMatch } from '../lifecycle/match.ts';

export const STATUS_DETECTOR = 'provider_status';

export interface IncidentEvent {
  type: 'incident';
  pageId: string | null;
  id: string;
  name: string;
  status: string;
  impact: string;
  createdAt: string;
  updatedAt: string;
  shortlink: string | null;
  latestUpdate: { status: string; body: string; at: string } | null;
  components: string[];
}

export interface ComponentEvent {
  type: 'component';
  pageId: string | null;
  updateId: string;
  componentId: string;
  name: string;
  oldStatus: string;
  newStatus: string;
  at: string;
}

export type StatuspageEvent = IncidentEvent | ComponentEvent;

const RESOLVED = new Set(['resolved', 'postmortem', 'completed']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const s = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function parseStatuspage(value: unknown): { ok: true; event: StatuspageEvent } | { ok: false; message: string } {
  if (!isObj(value)) return { ok: false, message: 'expected a JSON object' };
  const pageId = isObj(value.page) ? s(value.page.id) : null;
  if (isObj(value.incident)) {
    const i = value.incident;
    const id = s(i.id);
    const name = s(i.name);
    const status = s(i.status);
    if (!id || !name || !status) return { ok: false, message: 'incident needs id, name and status' };
    const updates = (Array.isArray(i.incident_updates) ? i.incident_updates : []).filter(isObj);
    // Newest first on the wire; sort anyway rather than trust the order.
    updates.sort((a, b) => String(b.created_at ?? '').localeCompare(String(a.created_at ?? '')));
    const latest = updates[0];
    const names = new Set<string>();
    for (const c of Array.isArray(i.components) ? i.components : []) if (isObj(c) && s(c.name)) names.add(c.name as string);
    for (const u of updates.slice(0, 1)) {
      for (const c of Array.isArray(u.affected_components) ? u.affected_components : []) if (isObj(c) && s(c.name)) names.add(c.name as string);
    }
    return {
      ok: true,
      event: {
        type: 'incident',
        pageId,
        id,
        name,
        status,
        impact: s(i.impact) ?? 'none',
        createdAt: s(i.created_at) ?? s(latest?.created_at) ?? '',
        updatedAt: s(i.updated_at) ?? s(latest?.created_at) ?? '',
        shortlink: s(i.shortlink),
        latestUpdate: latest ? { status: s(latest.status) ?? status, body: s(latest.body) ?? '', at: s(latest.created_at) ?? '' } : null,
        components: [...names],
      },
    };
  }
  if (isObj(value.component_update)) {
    const u = value.component_update;
    const c = isObj(value.component) ? value.component : {};
    const updateId = s(u.id);
    const componentId = s(u.component_id) ?? s(c.id);
    const newStatus = s(u.new_status);
    if (!updateId || !componentId || !newStatus) return { ok: false, message: 'component_update needs id, component_id and new_status' };
    return {
      ok: true,
      event: {
        type: 'component',
        pageId,
        updateId,
        componentId,
        name: s(c.name) ?? componentId,
        oldStatus: s(u.old_status) ?? 'unknown',
        newStatus,
        at: s(u.created_at) ?? s(c.updated_at) ?? '',
      },
    };
  }
  return { ok: false, message: 'neither an incident nor a component_update payload' };
}

/** Dedupe id for the raw-event store: one row per update. */
export function statuspageEventId(ev: StatuspageEvent): string {
  return ev.type === 'incident' ? `incident:${ev.id}:${ev.updatedAt}` : `component_update:${ev.updateId}`;
}

/** Reference for the state table: one row per incident or component. */
export function statuspageRef(ev: StatuspageEvent): string {
  return ev.type === 'incident' ? ev.id : `component:${ev.componentId}`;
}

export function isResolved(ev: StatuspageEvent): boolean {
  return ev.type === 'incident' ? RESOLVED.has(ev.status) : ev.newStatus === 'operational';
}

export function orderingStamp(ev: StatuspageEvent): string {
  return ev.type === 'incident' ? ev.updatedAt : ev.at;
}

export interface Mapping {
  /** Providers the event concerns (at least one). */
  providers: string[];
  /** Model patterns of the mapped components. */
  models: string[];
  /** False when components are configured and the event names only components that aren't. */
  relevant: boolean;
}

export function mapComponents(names: readonly string[], src: StatuspageSource): Mapping {
  const configured = Object.keys(src.components);
  const providers = new Set<string>();
  const models = new Set<string>();
  let mapped = 0;
  for (const n of names) {
    const key = configured.find((k) => k === n || globMatch(k, n));
    if (!key) continue;
    mapped++;
    const m = src.components[key];
    const p = m.provider ?? src.provider;
    if (p) providers.add(p);
    for (const x of m.models) models.add(x);
  }
  if (providers.size === 0) providers.add(src.provider ?? src.name);
  const relevant = configured.length === 0 || names.length === 0 || mapped > 0;
  return { providers: [...providers], models: [...models], relevant };
}

/** "09:12 UTC" from an ISO time; the raw text when it does not parse. */
export function hhmm(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso || 'unknown time';
  return `${new Date(t).toISOString().slice(11, 16)} UTC`;
}

function clipText(t: string, max: number): string {
  const one = t.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The informational signals for one event (one per provider it concerns). */
export function statuspageSignals(ev: StatuspageEvent, src: StatuspageSource, at: number): Signal[] {
  const names = ev.type === 'incident' ? ev.components : [ev.name];
  const map = mapComponents(names, src);
  const resolved = isResolved(ev);
  const base = statuspageRef(ev);
  return map.providers.map((provider) => {
    let summary: string;
    let evidence: Signal['evidence'];
    if (ev.type === 'incident') {
      summary = resolved
        ? `${src.displayName} says resolved: ${ev.name} (since ${hhmm(ev.createdAt)})`
        : `${src.displayName} says: ${ev.name} since ${hhmm(ev.createdAt)} (${ev.status}, impact ${ev.impact})`;
      evidence = {
        status_page: src.displayName,
        page_id: ev.pageId,
        incident_id: ev.id,
        status: ev.status,
        impact: ev.impact,
        components: ev.components.join(', ') || null,
        models: map.models.join(', ') || null,
        started_at: ev.createdAt || null,
        updated_at: ev.updatedAt || null,
        latest_update: ev.latestUpdate ? clipText(ev.latestUpdate.body, 500) : null,
        shortlink: ev.shortlink,
      };
    } else {
      summary = resolved
        ? `${src.displayName} says: ${ev.name} is operational again`
        : `${src.displayName} says: ${ev.name} ${ev.newStatus.replace(/_/g, ' ')} since ${hhmm(ev.at)} (was ${ev.oldStatus.replace(/_/g, ' ')})`;
      evidence = {
        status_page: src.displayName,
        page_id: ev.pageId,
        component_id: ev.componentId,
        component: ev.name,
        old_status: ev.oldStatus,
        new_status: ev.newStatus,
        models: map.models.join(', ') || null,
        started_at: ev.at || null,
      };
    }
    const labels: Record<string, string> = { provider, source: src.name };
    if (ev.type === 'component') labels.component = ev.name;
    return {
      detector: STATUS_DETECTOR,
      key: map.providers.length > 1 ? `${base}/${provider}` : base,
      severity: 'info',
      status: resolved ? 'resolved' : 'firing',
      summary,
      evidence,
      labels,
      at,
    } satisfies Signal;
  });
}
