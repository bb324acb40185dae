// alerts/*.yaml, validated by the loader (file:line:column errors come from the zod schemas in
// src/config/schema.ts) → what the incidents engine uses: milliseconds, compiled matchers and cron windows.
import type { Severity } from '../domain.ts';
import type { Sourced, VigilConfig } from '../config/types.ts';
import { parseDuration } from '../config/duration.ts';
import { alertDefaultsSchema, escalationSchema, inhibitRuleSchema, maintenanceSchema, ownerSchema, receiversSchema, routeSchema, silenceSchema } from '../config/schema.ts';
import { CronSchedule } from '../scheduler/cron.ts';
import type { Receiver, ReceiverKind } from '../notifiers/types.ts';
import { compileMatcher } from './matchers.ts';
import type { Matcher } from './matchers.ts';
import type { z } from 'zod';

export interface EscalationConfig {
  /** PagerDuty waits until a group has been firing this long (0: at once). */
  pageAfterMs: number;
  /** Severities that page at once regardless of pageAfterMs. */
  pageAtOnce: Severity[];
}

export interface OwnerConfig {
  name: string;
  slackChannel?: string;
  /** Secret: never log, store or show. */
  pagerdutyRoutingKey?: string;
  runbook?: string;
  escalation: EscalationConfig;
}

export interface RouteConfig {
  /** Position in the merged route list; -1 for the root (defaults.notify). Part of the group key. */
  index: number;
  matcher: Matcher;
  notify: ReceiverKind[];
  groupBy: string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  continue: boolean;
  /** `alerts/routing.yaml:12`, for `routes test`. */
  source: string;
}

export interface SilenceSpec {
  id: string;
  matcher: Matcher;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  origin: 'config' | 'api';
}

export interface MaintenanceWindow {
  name: string;
  matcher: Matcher;
  mode: 'mute' | 'pause';
  oneOff?: { startsAt: number; endsAt: number };
  recurring?: { cron: CronSchedule; durationMs: number };
}

export interface InhibitRule {
  source: Matcher;
  target: Matcher;
  equal: string[];
}

export interface AvailabilitySettings {
  failureThreshold: number;
  successThreshold: number;
  /** 0: degraded results never alert. */
  degradedThreshold: number;
  forMs: number;
}

export interface AlertsConfig {
  /** Base for links in notifications (vigil.yaml server.public_url). */
  publicUrl: string;
  owners: Record<string, OwnerConfig>;
  receivers: {
    slack?: { token: string; apiUrl?: string };
    pagerduty?: { server?: string };
  };
  routes: RouteConfig[];
  /** Where alerts that match no route go. */
  root: RouteConfig;
  silences: SilenceSpec[];
  maintenance: MaintenanceWindow[];
  inhibitRules: InhibitRule[];
  escalation: EscalationConfig;
  expireAfterMs: number;
  flap: { flips: number; windowMs: number };
  availability: AvailabilitySettings;
  /** Who hears about Vigil itself (its crash, its own egress, one location failing alone). */
  vigilOwner: string;
  /** Raise the always-firing Watchdog alert (Alertmanager's pattern) for a dead man's switch route. */
  watchdog: boolean;
}

const ms = (text: string): number => {
  const v = parseDuration(text);
  if (v === null) throw new Error(`unvalidated duration ${JSON.stringify(text)}`);
  return v;
};

const where = (s: Sourced) => `${s.source.file}:${s.source.line}`;

/** Re-check a section the loader validated (cheap), for types and for configs built by hand. */
function parse<S extends z.ZodType>(schema: S, s: Sourced): z.output<S> {
  const r = schema.safeParse(s.value);
  if (!r.success) throw new Error(`${where(s)}: invalid alerts config: ${r.error.issues.map((i) => i.message.split('\n')[0]).join('; ')}`);
  return r.data;
}

export const DEFAULT_ESCALATION: EscalationConfig = { pageAfterMs: 0, pageAtOnce: ['critical'] };

function escalation(e: z.output<typeof escalationSchema> | undefined, base: EscalationConfig): EscalationConfig {
  return {
    pageAfterMs: e?.page_after !== undefined ? ms(e.page_after) : base.pageAfterMs,
    pageAtOnce: e?.page_at_once ?? base.pageAtOnce,
  };
}

/** The engine's view of `config.alerts` (call again after a reload). */
export function alertsConfig(config: Pick<VigilConfig, 'alerts'> & { server: Pick<VigilConfig['server'], 'publicUrl'> }): AlertsConfig {
  const a = config.alerts;
  const d = a.defaults ? parse(alertDefaultsSchema, a.defaults) : alertDefaultsSchema.parse({});
  const globalEscalation = escalation(a.escalation ? parse(escalationSchema, a.escalation) : undefined, DEFAULT_ESCALATION);

  const owners: Record<string, OwnerConfig> = {};
  for (const [name, s] of Object.entries(a.owners)) {
    const o = parse(ownerSchema, s);
    owners[name] = {
      name,
      ...(o.slack ? { slackChannel: o.slack } : {}),
      ...(o.pagerduty ? { pagerdutyRoutingKey: o.pagerduty } : {}),
      ...(o.runbook ? { runbook: o.runbook } : {}),
      escalation: escalation(o.escalation, globalEscalation),
    };
  }

  const receivers: AlertsConfig['receivers'] = {};
  const r = parse(receiversSchema, { value: Object.fromEntries(Object.entries(a.receivers).map(([k, v]) => [k, v.value])), source: { file: 'alerts', line: 0 } });
  if (r.slack) receivers.slack = { token: r.slack.token, ...(r.slack.api_url ? { apiUrl: r.slack.api_url } : {}) };
  if (r.pagerduty) receivers.pagerduty = { ...(r.pagerduty.server ? { server: r.pagerduty.server } : {}) };

  const timing = (x: { group_wait?: string; group_interval?: string; repeat_interval?: string }) => ({
    groupWaitMs: ms(x.group_wait ?? d.group_wait),
    groupIntervalMs: ms(x.group_interval ?? d.group_interval),
    repeatIntervalMs: ms(x.repeat_interval ?? d.repeat_interval),
  });
  const routes = a.routes.map((s, index): RouteConfig => {
    const x = parse(routeSchema, s);
    return {
      index,
      matcher: compileMatcher(x.match, x.match_re),
      notify: [...new Set(x.notify)],
      groupBy: x.group_by ?? d.group_by,
      ...timing(x),
      continue: x.continue,
      source: where(s),
    };
  });
  const root: RouteConfig = {
    index: -1,
    matcher: compileMatcher(),
    notify: [...new Set(d.notify)],
    groupBy: d.group_by,
    ...timing({}),
    continue: false,
    source: a.defaults ? `${where(a.defaults)} (defaults.notify)` : 'defaults.notify',
  };

  const silences = a.silences.map((s): SilenceSpec => {
    const x = parse(silenceSchema, s);
    return {
      id: x.id ?? `config:${s.source.file}:${s.source.line}`,
      matcher: compileMatcher(x.matchers, x.matchers_re),
      startsAt: Date.parse(x.starts_at),
      endsAt: Date.parse(x.ends_at),
      comment: x.comment,
      createdBy: x.created_by,
      origin: 'config',
    };
  });

  const maintenance = a.maintenance.map((s): MaintenanceWindow => {
    const x = parse(maintenanceSchema, s);
    return {
      name: x.name,
      matcher: compileMatcher(x.matchers, x.matchers_re),
      mode: x.mode,
      ...(x.cron && x.duration ? { recurring: { cron: new CronSchedule(x.cron, x.timezone), durationMs: ms(x.duration) } } : {}),
      ...(x.starts_at && x.ends_at ? { oneOff: { startsAt: Date.parse(x.starts_at), endsAt: Date.parse(x.ends_at) } } : {}),
    };
  });

  const inhibitRules = a.inhibitRules.map((s): InhibitRule => {
    const x = parse(inhibitRuleSchema, s);
    return { source: compileMatcher(x.source, x.source_re), target: compileMatcher(x.target, x.target_re), equal: x.equal };
  });

  return {
    publicUrl: config.server.publicUrl.replace(/\/+$/, ''),
    owners,
    receivers,
    routes,
    root,
    silences,
    maintenance,
    inhibitRules,
    escalation: globalEscalation,
    expireAfterMs: ms(d.expire_after),
    flap: { flips: d.flap.flips, windowMs: ms(d.flap.window) },
    availability: {
      failureThreshold: d.availability.failure_threshold,
      successThreshold: d.availability.success_threshold,
      degradedThreshold: d.availability.degraded_threshold,
      forMs: ms(d.availability.for),
    },
    vigilOwner: vigilOwnerOf(d.vigil_owner, owners, a.defaults),
    watchdog: d.watchdog,
  };
}

function vigilOwnerOf(named: string | undefined, owners: Record<string, OwnerConfig>, defaults: Sourced | null): string {
  if (named === undefined) return Object.keys(owners)[0] ?? 'unowned';
  if (!owners[named]) {
    const at = defaults ? `${where(defaults)} ` : '';
    throw new Error(`${at}defaults.vigil_owner: "${named}" is not an owner in alerts/ (known: ${Object.keys(owners).join(', ') || 'none'})`);
  }
  return named;
}

/** An empty config (no owners, no routes): alerts go to the console. For tests and a config without alerts/. */
export function emptyAlertsConfig(publicUrl = 'http://127.0.0.1:9464'): AlertsConfig {
  return alertsConfig({
    server: { publicUrl },
    alerts: { owners: {}, receivers: {}, routes: [], silences: [], maintenance: [], inhibitRules: [], escalation: null, defaults: null },
  });
}

export type ReceiverBuild = { ok: true; receiver: Receiver } | { ok: false; reason: string };

/**
 * The receiver an owner's alerts reach through `kind`, with secrets from the live config. Built at
 * delivery time so that the outbox never stores a token or routing key.
 */
export function buildReceiver(cfg: AlertsConfig, owner: string, kind: ReceiverKind): ReceiverBuild {
  const o = cfg.owners[owner];
  const name = `${owner}/${kind}`;
  switch (kind) {
    case 'console':
      return { ok: true, receiver: { name, kind } };
    case 'slack': {
      if (!o?.slackChannel) return { ok: false, reason: `owner "${owner}" has no slack channel in alerts/` };
      if (!cfg.receivers.slack?.token) return { ok: false, reason: 'receivers.slack (bot token) is not configured' };
      return {
        ok: true,
        receiver: {
          name,
          kind,
          slackToken: cfg.receivers.slack.token,
          slackChannel: o.slackChannel,
          ...(cfg.receivers.slack.apiUrl ? { slackApiUrl: cfg.receivers.slack.apiUrl } : {}),
        },
      };
    }
    case 'pagerduty': {
      if (!o?.pagerdutyRoutingKey) return { ok: false, reason: `owner "${owner}" has no pagerduty routing key in alerts/` };
      return {
        ok: true,
        receiver: {
          name,
          kind,
          routingKey: o.pagerdutyRoutingKey,
          ...(cfg.receivers.pagerduty?.server ? { pagerdutyServer: cfg.receivers.pagerduty.server } : {}),
        },
      };
    }
  }
}

/**
 * Every receiver an owner can be reached through, for `vigil alerts test <owner>` (the notifiers'
 * `sendTestNotification`), and why the others cannot be built.
 */
export function ownerReceivers(cfg: AlertsConfig, owner: string): { receivers: Receiver[]; problems: string[] } {
  const receivers: Receiver[] = [];
  const problems: string[] = [];
  for (const kind of ['slack', 'pagerduty'] as const) {
    const b = buildReceiver(cfg, owner, kind);
    if (b.ok) receivers.push(b.receiver);
    else problems.push(`${kind}: ${b.reason}`);
  }
  return { receivers, problems };
}

export function escalationFor(cfg: AlertsConfig, owner: string): EscalationConfig {
  return cfg.owners[owner]?.escalation ?? cfg.escalation;
}
