// Label matchers and what is built from them: routing (first match or continue), silences, maintenance
// windows (one-off and recurring cron windows in a timezone) and inhibition. All pure.
import { compileSafe } from '../config/regex.ts';
import type { SafeRegex } from '../config/regex.ts';
import type { Labels } from './types.ts';
import type { AlertsConfig, InhibitRule, MaintenanceWindow, RouteConfig, SilenceSpec } from './config.ts';

export interface Matcher {
  eq: Record<string, string>;
  /** Anchored at both ends, as Alertmanager's `=~`; RE2 (linear time), so no pattern can stall a tick. */
  re: Record<string, SafeRegex>;
}

/** Throws RegexError for a pattern RE2 rejects (validation reports those before they get here). */
export function compileMatcher(eq: Record<string, string> = {}, re: Record<string, string> = {}): Matcher {
  return { eq: { ...eq }, re: Object.fromEntries(Object.entries(re).map(([k, v]) => [k, compileSafe(v, { anchored: true })])) };
}

/** A label that is absent matches as the empty string (Alertmanager semantics). */
export function matches(m: Matcher, labels: Labels): boolean {
  for (const [k, v] of Object.entries(m.eq)) if ((labels[k] ?? '') !== v) return false;
  for (const [k, re] of Object.entries(m.re)) if (!re.test(labels[k] ?? '')) return false;
  return true;
}

export function isEmptyMatcher(m: Matcher): boolean {
  return Object.keys(m.eq).length === 0 && Object.keys(m.re).length === 0;
}

/** The `=~` patterns as the user wrote them. */
export function regexSources(m: Matcher): Record<string, string> {
  return Object.fromEntries(Object.entries(m.re).map(([k, re]) => [k, re.source]));
}

/** `provider="openai", severity=~"crit.*"` */
export function describeMatcher(m: Matcher): string {
  const parts = [
    ...Object.entries(m.eq).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
    ...Object.entries(regexSources(m)).map(([k, v]) => `${k}=~${JSON.stringify(v)}`),
  ];
  return parts.length ? parts.join(', ') : '(everything)';
}

/** A silence from alerts/*.yaml as the silences API and the status page show it. */
export function configSilenceView(s: SilenceSpec) {
  return {
    id: s.id,
    origin: 'config',
    matchers: s.matcher.eq,
    matchersRe: regexSources(s.matcher),
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    comment: s.comment,
    createdBy: s.createdBy,
  };
}

/** Routes an alert with these labels takes: the first match, more with `continue`, else the root. */
export function routesFor(cfg: Pick<AlertsConfig, 'routes' | 'root'>, labels: Labels): RouteConfig[] {
  const out: RouteConfig[] = [];
  for (const r of cfg.routes) {
    if (!matches(r.matcher, labels)) continue;
    out.push(r);
    if (!r.continue) break;
  }
  return out.length ? out : [cfg.root];
}

/** The first silence in force at `now` that matches, or null. */
export function activeSilence(silences: readonly SilenceSpec[], labels: Labels, now: number): SilenceSpec | null {
  return silences.find((s) => s.startsAt <= now && now < s.endsAt && matches(s.matcher, labels)) ?? null;
}

/** When the window that holds `now` ends, or null when `now` is outside it. */
export function windowEnd(w: MaintenanceWindow, now: number): number | null {
  if (w.oneOff) return w.oneOff.startsAt <= now && now < w.oneOff.endsAt ? w.oneOff.endsAt : null;
  if (w.recurring) {
    // The latest start in (now - duration, now]: the first cron match after now - duration, if not in the future.
    const start = w.recurring.cron.next(now - w.recurring.durationMs);
    return start !== null && start <= now ? start + w.recurring.durationMs : null;
  }
  return null;
}

export function activeMaintenance(
  windows: readonly MaintenanceWindow[],
  labels: Labels,
  now: number,
  mode?: MaintenanceWindow['mode'],
): MaintenanceWindow | null {
  return windows.find((w) => (mode === undefined || w.mode === mode) && matches(w.matcher, labels) && windowEnd(w, now) !== null) ?? null;
}

/** The rule that inhibits `target` given the labels of alerts firing now, or null. An alert never inhibits itself. */
export function inhibitedBy(rules: readonly InhibitRule[], target: Labels, firing: readonly Labels[]): InhibitRule | null {
  for (const rule of rules) {
    if (!matches(rule.target, target)) continue;
    const hit = firing.some(
      (src) => src !== target && matches(rule.source, src) && rule.equal.every((l) => (src[l] ?? '') === (target[l] ?? '')),
    );
    if (hit) return rule;
  }
  return null;
}

/** Why an alert creates no notifications right now (silence, maintenance mute or pause, inhibition), or null. */
export function muteReason(cfg: AlertsConfig, silences: readonly SilenceSpec[], labels: Labels, firing: readonly Labels[], now: number): string | null {
  const s = activeSilence(silences, labels, now);
  if (s) return `silenced by ${s.id} (${s.createdBy}: ${s.comment})`;
  const m = activeMaintenance(cfg.maintenance, labels, now);
  if (m) return `maintenance ${m.name} (${m.mode})`;
  const i = inhibitedBy(cfg.inhibitRules, labels, firing);
  if (i) return `inhibited (source ${describeMatcher(i.source)})`;
  return null;
}
