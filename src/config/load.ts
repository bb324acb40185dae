// Read a config directory (vigil.yaml, probes/, scenarios/, alerts/), report every problem in every file
// at once, and produce a VigilConfig only when there are no errors.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ConfigError, FieldPath } from './errors.ts';
import { pathToString, sortErrors } from './errors.ts';
import { lineOf, locate, parseSource, valuesOf } from './source.ts';
import type { SourceFile } from './source.ts';
import { interpolateDocument } from './interpolate.ts';
import type { Env } from './interpolate.ts';
import { errorMap, issuesToErrors } from './issues.ts';
import { alertsFileSchema, drillSchema, LOCATION_RE, probeSchema, vigilFileSchema } from './schema.ts';
import type { AlertsFile, ProbeInput, VigilFile } from './schema.ts';
import { crossChecks } from './checks.ts';
import type { CheckInput, Item } from './checks.ts';
import { mapGlobal, mapProbe } from './map.ts';
import { collectSecretFields, redactString, registerSecret, rememberSecrets } from './redact.ts';
import type { Sourced, VigilConfig } from './types.ts';

export interface LoadOptions {
  /** Defaults to process.env. */
  env?: Env;
  /**
   * Report unset variables as warnings and use "" (for CI checks of config structure without
   * production secrets). Off by default: a daemon must not start without its keys.
   */
  allowMissingEnv?: boolean;
}

export interface LoadResult {
  /** Null when there is any error. */
  config: VigilConfig | null;
  errors: ConfigError[];
  warnings: ConfigError[];
  /** Every unset variable without a default, with the field that uses it (see requirements.ts). */
  missingEnv: MissingEnv[];
}

export interface MissingEnv {
  name: string;
  /** Relative to the config directory. */
  file: string;
  path: FieldPath;
  line: number;
  /** The `id` of the probe or drill the field belongs to (`probes[i]` / `drills[i]` of a list file). */
  item?: string;
}

function itemId(raw: unknown, p: FieldPath): string | undefined {
  if ((p[0] !== 'probes' && p[0] !== 'drills') || typeof p[1] !== 'number') return undefined;
  const list = (raw as Record<string, unknown> | null)?.[p[0]];
  const id = Array.isArray(list) ? (list[p[1]] as { id?: unknown } | undefined)?.id : undefined;
  return typeof id === 'string' ? id : undefined;
}

const SECTIONS = ['probes', 'scenarios', 'alerts'] as const;

// The top level of each list file; items are validated one by one so that one broken probe does not
// hide the problems (or the cross-file checks) of its siblings.
const probesEnvelope = z.strictObject({ probes: z.array(z.unknown()).default([]) });
const scenariosEnvelope = z.strictObject({ drills: z.array(z.unknown()).default([]) });

interface FileState {
  src: SourceFile;
  raw: unknown;
}

export function loadConfig(dir: string, opts: LoadOptions = {}): LoadResult {
  const env = opts.env ?? process.env;
  const root = path.resolve(dir);
  const problems: ConfigError[] = [];
  const secrets = new Set<string>();
  const files: string[] = [];
  const missingEnv: MissingEnv[] = [];

  const read = (rel: string): FileState | null => {
    files.push(rel);
    let text: string;
    try {
      text = fs.readFileSync(path.join(root, rel), 'utf8');
    } catch (err) {
      problems.push({ severity: 'error', file: rel, line: 0, column: 0, path: '', message: `cannot read: ${(err as Error).message}` });
      return null;
    }
    const { source, errors } = parseSource(rel, text);
    problems.push(...errors);
    if (!source) return null;
    const interpolation = interpolateDocument(source, env);
    problems.push(
      ...interpolation.errors.map((e) =>
        opts.allowMissingEnv && e.message.startsWith('environment variable ') ? { ...e, severity: 'warning' as const } : e,
      ),
    );
    for (const s of interpolation.secretValues) secrets.add(s);
    const raw = valuesOf(source) ?? {};
    for (const m of interpolation.missing) missingEnv.push({ name: m.name, file: rel, path: m.path, line: locate(source, m.path).line, item: itemId(raw, m.path) });
    collectSecretFields(raw, secrets);
    return { src: source, raw };
  };

  const validate = <S extends z.ZodType>(src: SourceFile, schema: S, data: unknown, base: FieldPath = []): z.output<S> | null => {
    const r = schema.safeParse(data, { error: errorMap, reportInput: true });
    if (r.success) return r.data;
    problems.push(...issuesToErrors(src, schema, r.error.issues, base));
    return null;
  };

  // vigil.yaml
  const vigilName = ['vigil.yaml', 'vigil.yml'].find((f) => fs.existsSync(path.join(root, f)));
  let vigil: CheckInput['vigil'] = null;
  if (!vigilName) {
    problems.push({
      severity: 'error',
      file: 'vigil.yaml',
      line: 0,
      column: 0,
      path: '',
      message: `not found in ${root}`,
      hint: 'point --config at the directory that holds vigil.yaml, probes/, scenarios/ and alerts/',
    });
  } else {
    const f = read(vigilName);
    if (f) vigil = { src: f.src, raw: f.raw, data: validate(f.src, vigilFileSchema, f.raw) };
  }

  // probes/, scenarios/, alerts/
  const probes: Item<ProbeInput>[] = [];
  const drills: Item<{ id: string } & Record<string, unknown>>[] = [];
  const alerts: { src: SourceFile; data: AlertsFile }[] = [];
  for (const section of SECTIONS) {
    for (const rel of listYaml(root, section)) {
      const f = read(rel);
      if (!f) continue;
      if (section === 'alerts') {
        const data = validate(f.src, alertsFileSchema, f.raw);
        if (data) alerts.push({ src: f.src, data });
        continue;
      }
      const [envelope, key, itemSchema] =
        section === 'probes' ? ([probesEnvelope, 'probes', probeSchema] as const) : ([scenariosEnvelope, 'drills', drillSchema] as const);
      const top = validate(f.src, envelope, f.raw) as Record<string, unknown[]> | null;
      (top?.[key] ?? []).forEach((raw, i) => {
        const itemPath = [key, i];
        const data = validate(f.src, itemSchema, raw, itemPath);
        const item = { src: f.src, path: itemPath, raw, data };
        if (section === 'probes') probes.push(item as Item<ProbeInput>);
        else drills.push(item as Item<{ id: string } & Record<string, unknown>>);
      });
    }
  }

  problems.push(...crossChecks({ vigil, probes, drills, alerts }));

  // Without the variable the field is empty, and an empty field may fail its own check (a URL, a minimum length):
  // when unset variables are allowed, that is the same problem as the warning already says, not a second one.
  if (opts.allowMissingEnv) dropConsequences(problems, missingEnv);
  dropShadowedWarnings(problems);
  // Nothing secret may leave the loader, whatever a message quotes.
  for (const p of problems) {
    p.message = redactString(p.message, secrets);
    if (p.hint) p.hint = redactString(p.hint, secrets);
  }
  const envLocation = env.VIGIL_LOCATION;
  if (envLocation !== undefined && envLocation !== '' && !LOCATION_RE.test(envLocation)) {
    problems.push({
      severity: 'error',
      file: 'environment',
      line: 0,
      column: 0,
      path: 'VIGIL_LOCATION',
      message: `VIGIL_LOCATION ${JSON.stringify(envLocation.slice(0, 80))} is not a valid location name`,
      hint: 'lower-case letters, digits, "-" and "_", e.g. eu-west',
    });
  }
  sortErrors(problems);
  // Process-wide: whatever later quotes one of these values (a provider echoing its key, a log line, an API
  // response) shows *** instead, also after a reload that dropped it.
  for (const s of secrets) registerSecret(s);
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  if (errors.length > 0 || !vigil?.data) return { config: null, errors, warnings, missingEnv };

  const config = assemble(root, files, { src: vigil.src, data: vigil.data }, probes, drills, alerts);
  if (envLocation) config.location = envLocation;
  rememberSecrets(config, secrets);
  return { config, errors, warnings, missingEnv };
}

function assemble(
  root: string,
  files: string[],
  vigil: { src: SourceFile; data: VigilFile },
  probes: Item<ProbeInput>[],
  drills: Item<Record<string, unknown>>[],
  alerts: { src: SourceFile; data: AlertsFile }[],
): VigilConfig {
  const sourced = <T extends Record<string, unknown>>(src: SourceFile, p: FieldPath, value: T): Sourced<T> => ({
    value,
    source: { file: src.file, line: lineOf(src, p) },
  });
  const v = vigil.data;

  const config: VigilConfig = {
    ...mapGlobal(v, root),
    files,
    probes: probes.map(({ src, path: p, data }) => mapProbe(data!, v, { file: src.file, line: lineOf(src, p) })),
    drills: drills.map(({ src, path: p, data }) => sourced(src, p, data!)),
    alerts: { owners: {}, receivers: {}, routes: [], silences: [], maintenance: [], inhibitRules: [], escalation: null, defaults: null },
    webhooks: Object.fromEntries(Object.entries(v.webhooks ?? {}).map(([name, w]) => [name, sourced(vigil.src, ['webhooks', name], w)])),
    modelLists: Object.fromEntries(Object.entries(v.model_lists ?? {}).map(([name, m]) => [name, sourced(vigil.src, ['model_lists', name], m)])),
    consumers: (v.consumers ?? []).map((c, i) => sourced(vigil.src, ['consumers', i], c)),
    deprecations: (v.deprecations ?? []).map((d, i) => sourced(vigil.src, ['deprecations', i], d)),
  };
  for (const { src, data } of alerts) {
    for (const [name, o] of Object.entries(data.owners ?? {})) config.alerts.owners[name] = sourced(src, ['owners', name], o);
    for (const [name, r] of Object.entries(data.receivers ?? {})) config.alerts.receivers[name] = sourced(src, ['receivers', name], r);
    const lists = [
      ['routes', 'routes'],
      ['silences', 'silences'],
      ['maintenance', 'maintenance'],
      ['inhibit_rules', 'inhibitRules'],
    ] as const;
    for (const [yamlKey, key] of lists) {
      (data[yamlKey] ?? []).forEach((x, i) => config.alerts[key].push(sourced(src, [yamlKey, i], x)));
    }
    if (data.escalation) config.alerts.escalation = sourced(src, ['escalation'], data.escalation);
    if (data.defaults) config.alerts.defaults = sourced(src, ['defaults'], data.defaults);
  }
  return config;
}

function dropConsequences(problems: ConfigError[], missing: readonly MissingEnv[]): void {
  const at = new Set(missing.map((m) => `${m.file}\0${pathToString(m.path)}`));
  for (let i = problems.length - 1; i >= 0; i--) {
    const p = problems[i];
    if (p.severity === 'error' && at.has(`${p.file}\0${p.path}`) && !p.message.startsWith('environment variable ')) problems.splice(i, 1);
  }
}

/**
 * A warning about something that already has a more precise problem is noise: "provider has no api_key"
 * next to "OPENAI_API_KEY is not set" on its api_key field.
 */
function dropShadowedWarnings(problems: ConfigError[]): void {
  const all = problems.map((p) => ({ key: `${p.file}\0${p.path}`, error: p.severity === 'error' }));
  for (let i = problems.length - 1; i >= 0; i--) {
    const w = problems[i];
    if (w.severity !== 'warning' || !w.path) continue;
    const key = `${w.file}\0${w.path}`;
    const shadowed = all.some((o, j) => j !== i && ((o.error && o.key === key) || o.key.startsWith(`${key}.`) || o.key.startsWith(`${key}[`)));
    if (shadowed) problems.splice(i, 1);
  }
}

/** `<section>/**.yaml|yml`, sorted, hidden files skipped; paths relative to the config root. */
function listYaml(root: string, section: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return; // a missing section directory is fine
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (/\.ya?ml$/.test(e.name)) out.push(child);
    }
  };
  walk(section);
  return out;
}
