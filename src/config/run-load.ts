// The daemon's config: everything that can run with the variables that are set, the rest disabled and said so
// (`disabled: missing ${ANTHROPIC_API_KEY}`), so `docker run -e OPENAI_API_KEY=… vigil` starts and probes OpenAI.
// `--strict-env` (or strictEnv) restores all-or-nothing. Variables nothing can run without (server, storage) are
// always required.
import { pathToString } from './errors.ts';
import type { ConfigError } from './errors.ts';
import type { Env } from './interpolate.ts';
import { loadConfig } from './load.ts';
import { disabledBy, disabledReason, missingGlobal } from './requirements.ts';
import type { VigilConfig } from './types.ts';

export interface RunConfig {
  config: VigilConfig | null;
  errors: ConfigError[];
  warnings: ConfigError[];
  /** One line per disabled part, for the log: `probe anthropic-canary disabled: missing ${ANTHROPIC_API_KEY}`. */
  notes: string[];
}

export function loadRunConfig(dir: string, env: Env, opts: { strictEnv?: boolean } = {}): RunConfig {
  if (opts.strictEnv) {
    const r = loadConfig(dir, { env });
    return { config: r.config, errors: r.errors, warnings: r.warnings, notes: [] };
  }
  const r = loadConfig(dir, { env, allowMissingEnv: true });
  const fatal = missingGlobal(r.missingEnv);
  // Unset-variable warnings become errors again where nothing could run without them.
  const isFatal = (w: ConfigError) => fatal.some((m) => w.file === m.file && w.path === pathToString(m.path) && w.message === `environment variable ${m.name} is not set`);
  const errors = [...r.errors, ...r.warnings.filter(isFatal).map((w) => ({ ...w, severity: 'error' as const }))];
  // The others are said once, as what they disable.
  const warnings = r.warnings.filter((w) => !w.message.startsWith('environment variable '));
  if (!r.config || errors.length) return { config: null, errors, warnings, notes: [] };

  const config = r.config;
  const disabled = disabledBy(config, r.missingEnv);
  // One line per set of missing variables: `disabled: missing ${ANTHROPIC_API_KEY}: 14 probes (…), 1 drill (…)`.
  const byVars = new Map<string, { vars: string[]; probes: string[]; drills: string[]; other: string[] }>();
  const group = (vars: string[]) => {
    const key = vars.join(',');
    if (!byVars.has(key)) byVars.set(key, { vars, probes: [], drills: [], other: [] });
    return byVars.get(key)!;
  };
  for (const [id, vars] of Object.entries(disabled.probes)) group(vars).probes.push(id);
  for (const [id, vars] of Object.entries(disabled.drills)) group(vars).drills.push(id);
  for (const [what, vars] of Object.entries(disabled.other)) group(vars).other.push(what);
  const list = (n: number, one: string, ids: string[]) => (n ? [`${n} ${one}${n === 1 ? '' : 's'} (${ids.join(', ')})`] : []);
  const notes = [...byVars.values()].map(
    (g) => `${disabledReason(g.vars)}: ${[...list(g.probes.length, 'probe', g.probes), ...list(g.drills.length, 'drill', g.drills), ...g.other].join(', ')}`,
  );
  if (notes.length === 0) return { config, errors, warnings, notes };

  // Parts without their secrets are left out, so nothing runs half-configured (a webhook with an empty secret).
  config.disabled = disabled;
  config.drills = config.drills.filter((d) => !disabled.drills[String(d.value.id)]);
  for (const name of Object.keys(config.webhooks)) if (disabled.other[`webhook ${name}`]) delete config.webhooks[name];
  for (const name of Object.keys(config.modelLists)) if (disabled.other[`model list ${name}`]) delete config.modelLists[name];
  if (disabled.other.chaos) config.chaos = null;
  if (disabled.other.heartbeat) config.heartbeat = null;
  return { config, errors, warnings, notes };
}
