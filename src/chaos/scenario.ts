// Scenarios (scenarios/*.yaml, validated by drillSchema in src/config/schema.ts) → DrillSpec, the camelCase
// shape the drill runner uses, plus the checks that need the probes too (references, targets).
import type { z } from 'zod';
import type { ConfigError } from '../config/errors.ts';
import { parseDuration } from '../config/duration.ts';
import type { Item } from '../config/checks.ts';
import type { drillSchema, ProbeInput, VigilFile } from '../config/schema.ts';
import { errorAt } from '../config/source.ts';
import { didYouMean } from '../config/suggest.ts';
import type { Sourced, VigilConfig } from '../config/types.ts';
import type { ProbeSpec } from '../domain.ts';
import type { FaultSpec } from './faults.ts';

export type DrillInput = z.output<typeof drillSchema>;

export interface SteadyCheck {
  probe: string;
  outcome: 'ok' | 'ok_or_degraded';
  /** Glob on the gateway's servedBy (e.g. the primary), or null. */
  servedBy: string | null;
}

export interface LatencyBound {
  op: '<' | '<=';
  ms: number;
}

export interface DrillExpect {
  /** Any of these (globs) must match the gateway's `servedBy`; null: not checked. */
  servedBy: string[] | null;
  model: string | null;
  provider: string | null;
  outcome: 'ok' | 'ok_or_degraded';
  extraLatency: LatencyBound | null;
  assertions: 'pass' | 'ignore';
}

export interface DrillSpec {
  id: string;
  name: string | null;
  owner: string;
  /** Null for a manual drill. */
  schedule: { cron: string; timezone: string } | null;
  target: string | null;
  faults: FaultSpec[];
  scope: 'drill' | 'upstream';
  native: 'litellm_mock_fallbacks' | null;
  /** fallback: the fallback works; safety_bypass: refusals of the primary are not laundered by a fallback. */
  check: 'fallback' | 'safety_bypass';
  /** safety_bypass: glob on servedBy naming the primary (null: from the gateway's headers). */
  primary: string | null;
  /** Extra headers on the drill's attempts (may hold secrets: never logged). */
  headers: Record<string, string>;
  steadyState: SteadyCheck[];
  probes: string[];
  repeat: number;
  intervalMs: number;
  baseline: 'measure' | 'history';
  expect: DrillExpect;
  abort: { steadyState: SteadyCheck[]; maxDurationMs: number };
  severity: 'warning' | 'critical';
  source?: { file: string; line: number };
}

export function parseLatencyBound(text: string): LatencyBound {
  const m = /^\s*(<=?)\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!m) throw new Error(`not a latency bound: ${JSON.stringify(text)}`);
  return { op: m[1] as LatencyBound['op'], ms: Number(m[2]) };
}

const steady = (c: DrillInput['steady_state'][number]): SteadyCheck => ({ probe: c.probe, outcome: c.outcome, servedBy: c.served_by ?? null });

/** Validated drill → DrillSpec. `probes` supply the owner when neither the drill nor defaults name one. */
export function mapDrill(d: DrillInput, defaults: { owner?: string }, probes: readonly ProbeSpec[], source?: { file: string; line: number }): DrillSpec {
  const served = d.expect.served_by;
  const firstProbe = probes.find((p) => p.id === d.probes[0]);
  return {
    id: d.id,
    name: d.name ?? null,
    owner: d.owner ?? defaults.owner ?? firstProbe?.owner ?? 'unowned',
    schedule: d.schedule ? { cron: d.schedule, timezone: d.timezone ?? 'UTC' } : null,
    target: d.target ?? null,
    faults: d.faults,
    scope: d.scope,
    native: d.native ?? null,
    check: d.check,
    primary: d.primary ?? null,
    headers: { ...(d.headers ?? {}) },
    steadyState: d.steady_state.map(steady),
    probes: [...d.probes],
    repeat: d.repeat,
    intervalMs: parseDuration(d.interval)!,
    baseline: d.baseline,
    expect: {
      servedBy: served === undefined ? null : Array.isArray(served) ? served : [served],
      model: d.expect.model ?? null,
      provider: d.expect.provider ?? null,
      outcome: d.expect.outcome,
      extraLatency: d.expect.extra_latency_ms ? parseLatencyBound(d.expect.extra_latency_ms) : null,
      assertions: d.expect.assertions,
    },
    abort: {
      steadyState: d.abort.steady_state.map(steady),
      maxDurationMs: parseDuration(d.abort.max_duration)!,
    },
    severity: d.severity,
    ...(source ? { source } : {}),
  };
}

/** Every drill of a loaded config; drills that reference unknown probes come back as `problems`, not specs. */
export function drillsOf(config: Pick<VigilConfig, 'drills' | 'probes' | 'defaults'>): { drills: DrillSpec[]; problems: string[] } {
  const drills: DrillSpec[] = [];
  const problems: string[] = [];
  const known = new Map(config.probes.map((p) => [p.id, p]));
  for (const s of config.drills as Sourced<DrillInput>[]) {
    const d = s.value;
    const where = `${s.source.file}:${s.source.line}`;
    const refs = [...d.probes, ...d.steady_state.map((c) => c.probe), ...d.abort.steady_state.map((c) => c.probe)];
    const missing = refs.filter((id) => !known.has(id));
    if (missing.length > 0) {
      problems.push(`${where}: drill ${d.id}: unknown probe${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
      continue;
    }
    const wrongTarget = d.target ? d.probes.filter((id) => known.get(id)!.target !== d.target) : [];
    if (wrongTarget.length > 0) {
      problems.push(`${where}: drill ${d.id}: probe ${wrongTarget.join(', ')} does not have target ${d.target}`);
      continue;
    }
    const kinds = safetyKindProblem(d, (id) => known.get(id)?.kind);
    if (kinds) {
      problems.push(`${where}: drill ${d.id}: ${kinds}`);
      continue;
    }
    drills.push(mapDrill(d, config.defaults, config.probes, s.source));
  }
  return { drills, problems };
}

/**
 * Cross-file checks for drills, placed at file:line:column (for src/config/checks.ts `crossChecks`): probe
 * references exist, `target` matches the probes, someone owns the drill.
 */
export function drillChecks(input: { vigil: { data: VigilFile | null } | null; probes: Item<ProbeInput>[]; drills: Item<{ id: string }>[] }): ConfigError[] {
  const probes = new Map<string, ProbeInput>();
  for (const p of input.probes) if (p.data) probes.set(p.data.id, p.data);
  const ids = [...probes.keys()];
  const errors: ConfigError[] = [];
  for (const item of input.drills) {
    const d = item.data as DrillInput | null;
    if (!d) continue;
    const ref = (id: string, path: (string | number)[]) => {
      if (probes.has(id)) return true;
      const guess = didYouMean(id, ids);
      errors.push(errorAt(item.src, [...item.path, ...path], `unknown probe \`${id}\``, { hint: guess ?? 'name a probe id from probes/*.yaml' }));
      return false;
    };
    d.probes.forEach((id, i) => {
      if (ref(id, ['probes', i]) && d.target && probes.get(id)!.target !== d.target) {
        errors.push(errorAt(item.src, [...item.path, 'probes', i], `probe \`${id}\` has target ${probes.get(id)!.target}, the drill says ${d.target}`));
      }
    });
    const kinds = safetyKindProblem(d, (id) => probes.get(id)?.kind ?? 'canary');
    if (kinds && d.probes.every((id) => probes.has(id))) errors.push(errorAt(item.src, [...item.path, 'probes'], kinds, { hint: 'a safety_bypass drill sends should_refuse probes (and benign ones, for the opposite check) through the gateway' }));
    d.steady_state.forEach((c, i) => ref(c.probe, ['steady_state', i, 'probe']));
    d.abort.steady_state.forEach((c, i) => ref(c.probe, ['abort', 'steady_state', i, 'probe']));
    if (!d.owner && !input.vigil?.data?.defaults.owner && d.probes.every((id) => !probes.get(id)?.owner)) {
      errors.push(errorAt(item.src, item.path, 'drill has no owner', { severity: 'warning', hint: 'set `owner:` so a failed drill reaches a team' }));
    }
  }
  return errors;
}

/** A safety_bypass drill judges should-refuse and benign answers: its probes must be of those kinds, one should_refuse at least. */
function safetyKindProblem(d: Pick<DrillInput, 'check' | 'probes'>, kindOf: (id: string) => ProbeSpec['kind'] | undefined): string | null {
  if (d.check !== 'safety_bypass') return null;
  const wrong = d.probes.filter((id) => kindOf(id) !== 'should_refuse' && kindOf(id) !== 'benign');
  if (wrong.length > 0) return `safety_bypass drill: probe ${wrong.join(', ')} is not kind should_refuse or benign`;
  if (!d.probes.some((id) => kindOf(id) === 'should_refuse')) return 'safety_bypass drill: no should_refuse probe among its probes';
  return null;
}
