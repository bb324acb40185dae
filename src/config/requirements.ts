// Which unset ${VARS} matter to what: every command asks only for the keys it needs. `probe X` needs X's provider
// (or gateway) and X's own fields; `alerts test` only receivers; `run` starts with what it has and reports the rest
// as `disabled: missing ${VAR}`. Pure: from the loader's list of unset variables and where each is used.
import type { ProbeSpec } from '../domain.ts';
import { pathToString } from './errors.ts';
import type { MissingEnv } from './load.ts';
import type { VigilConfig } from './types.ts';

/** What an unset variable takes away. */
export type Dependent =
  | { kind: 'endpoint'; target: string }
  | { kind: 'probe'; id: string }
  | { kind: 'drill'; id: string }
  | { kind: 'alerts'; what: string }
  | { kind: 'webhook'; name: string }
  | { kind: 'section'; name: string }
  | { kind: 'global'; field: string };

/** Sections of vigil.yaml that can be left out without stopping the rest. */
const OPTIONAL_SECTIONS = new Set(['chaos', 'model_lists', 'consumers', 'deprecations', 'heartbeat', 'pricing']);

export function dependentOf(m: MissingEnv): Dependent {
  const [a, b] = m.path;
  if (m.file === 'vigil.yaml' || m.file === 'vigil.yml') {
    if (a === 'providers' && typeof b === 'string') return { kind: 'endpoint', target: `provider:${b}` };
    if (a === 'gateway') return { kind: 'endpoint', target: 'gateway' };
    if (a === 'webhooks' && typeof b === 'string') return { kind: 'webhook', name: b };
    if (a === 'model_lists' && typeof b === 'string') return { kind: 'section', name: `model list ${b}` };
    if (typeof a === 'string' && OPTIONAL_SECTIONS.has(a)) return { kind: 'section', name: a };
    return { kind: 'global', field: pathToString(m.path) };
  }
  if (m.file.startsWith('probes/')) return m.item ? { kind: 'probe', id: m.item } : { kind: 'global', field: `${m.file}: ${pathToString(m.path)}` };
  if (m.file.startsWith('scenarios/')) return m.item ? { kind: 'drill', id: m.item } : { kind: 'global', field: `${m.file}: ${pathToString(m.path)}` };
  if (m.file.startsWith('alerts/')) return { kind: 'alerts', what: pathToString(m.path.slice(0, 2)) };
  return { kind: 'global', field: `${m.file}: ${pathToString(m.path)}` };
}

/** `${OPENAI_API_KEY}` (vigil.yaml:34 providers.openai.api_key). */
export function describeMissing(m: MissingEnv): string {
  return `\${${m.name}} (${m.file}:${m.line} ${pathToString(m.path)})`;
}

/** The unset variables one probe needs: its target's endpoint and its own fields. */
export function missingForProbe(spec: Pick<ProbeSpec, 'id' | 'target'>, missing: readonly MissingEnv[]): MissingEnv[] {
  return missing.filter((m) => {
    const d = dependentOf(m);
    return (d.kind === 'endpoint' && d.target === spec.target) || (d.kind === 'probe' && d.id === spec.id);
  });
}

/** The unset variables that matter for reaching `owner` (its own entry and the receivers in alerts/ files). */
export function missingForOwner(owner: string, missing: readonly MissingEnv[]): MissingEnv[] {
  return missing.filter((m) => dependentOf(m).kind === 'alerts' && (m.path[0] === 'receivers' || (m.path[0] === 'owners' && m.path[1] === owner)));
}

/** Unset variables nothing can run without (server, storage, …): `run` refuses to start on these. */
export function missingGlobal(missing: readonly MissingEnv[]): MissingEnv[] {
  return missing.filter((m) => dependentOf(m).kind === 'global');
}

/** What `run` turns off for lack of a variable, each with the variables it lacks. */
export interface Disabled {
  probes: Record<string, string[]>;
  drills: Record<string, string[]>;
  /** Anything else (a webhook source, a receiver, the fault proxy, the heartbeat): label → variables. */
  other: Record<string, string[]>;
}

export function emptyDisabled(): Disabled {
  return { probes: {}, drills: {}, other: {} };
}

/**
 * Probes lacking their endpoint's or their own variables are disabled; drills lacking theirs, or using a disabled
 * probe, too; optional sections, webhook sources and receivers go without. Global variables are not handled here
 * (see missingGlobal).
 */
export function disabledBy(config: Pick<VigilConfig, 'probes' | 'drills'>, missing: readonly MissingEnv[]): Disabled {
  const out = emptyDisabled();
  const add = (rec: Record<string, string[]>, key: string, name: string) => {
    const list = (rec[key] ??= []);
    if (!list.includes(name)) list.push(name);
  };
  for (const spec of config.probes) for (const m of missingForProbe(spec, missing)) add(out.probes, spec.id, m.name);
  for (const m of missing) {
    const d = dependentOf(m);
    if (d.kind === 'drill') add(out.drills, d.id, m.name);
    else if (d.kind === 'webhook') add(out.other, `webhook ${d.name}`, m.name);
    else if (d.kind === 'section') add(out.other, d.name, m.name);
    else if (d.kind === 'alerts') add(out.other, `alerts ${d.what}`, m.name);
  }
  for (const drill of config.drills) {
    const id = String(drill.value.id);
    for (const probe of drillProbes(drill.value)) for (const v of out.probes[probe] ?? []) add(out.drills, id, v);
  }
  return out;
}

/** `disabled: missing ${A}, ${B}`. */
export function disabledReason(vars: readonly string[]): string {
  return `disabled: missing ${vars.map((v) => `\${${v}}`).join(', ')}`;
}

/** Probes a drill sends or checks (`probes`, `steady_state`, `abort.steady_state`). */
function drillProbes(d: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  for (const p of list(d.probes)) if (typeof p === 'string') out.add(p);
  const checks = [...list(d.steady_state), ...list((d.abort as { steady_state?: unknown } | undefined)?.steady_state)];
  for (const c of checks) {
    const p = (c as { probe?: unknown } | null)?.probe;
    if (typeof p === 'string') out.add(p);
  }
  return [...out];
}
