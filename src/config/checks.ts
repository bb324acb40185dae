// Checks that span fields or files: ids unique across files, targets that name a configured provider,
// either/or fields, inherited defaults that leave a probe incomplete. Schema-level checks live in schema.ts.
import type { ConfigError } from './errors.ts';
import { errorAt, locate } from './source.ts';
import type { SourceFile } from './source.ts';
import { DEFAULT_TIMEOUTS } from './map.ts';
import { parseDuration } from './duration.ts';
import { findPrice, mergePricing } from './pricing.ts';
import type { AlertsFile, ProbeInput, VigilFile } from './schema.ts';
import { didYouMean } from './suggest.ts';
import { drillChecks } from '../chaos/scenario.ts';

export interface Item<T> {
  src: SourceFile;
  /** Path of the item inside its file, e.g. `['probes', 2]`. */
  path: (string | number)[];
  /** Validated value, or null when the item failed the schema (only `raw` is known then). */
  data: T | null;
  raw: unknown;
}

export interface CheckInput {
  vigil: { src: SourceFile; data: VigilFile | null; raw: unknown } | null;
  probes: Item<ProbeInput>[];
  drills: Item<{ id: string }>[];
  alerts: { src: SourceFile; data: AlertsFile }[];
}

export function crossChecks(input: CheckInput): ConfigError[] {
  return [
    ...duplicateIds(input.probes, 'probe'),
    ...duplicateIds(input.drills, 'drill'),
    ...duplicateOwners(input.alerts),
    ...vigilOwnerKnown(input.alerts),
    ...gatewayOwnerKnown(input),
    ...probeChecks(input),
    ...drillChecks(input),
  ];
}

function rawId(raw: unknown): string | undefined {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

function where(src: SourceFile, path: (string | number)[]): string {
  const { line, column } = locate(src, path);
  return `${src.file}:${line}:${column}`;
}

/** Unique ids across all files; each later duplicate names the first definition. */
function duplicateIds(items: Item<unknown>[], what: string): ConfigError[] {
  const first = new Map<string, Item<unknown>>();
  const errors: ConfigError[] = [];
  for (const item of items) {
    const id = rawId(item.raw);
    if (id === undefined) continue;
    const prev = first.get(id);
    if (!prev) {
      first.set(id, item);
      continue;
    }
    errors.push(
      errorAt(item.src, [...item.path, 'id'], `duplicate ${what} id \`${id}\`, first defined at ${where(prev.src, [...prev.path, 'id'])}`, {
        hint: `${what} ids must be unique across all files; rename one`,
      }),
    );
  }
  return errors;
}

function duplicateOwners(files: CheckInput['alerts']): ConfigError[] {
  const errors: ConfigError[] = [];
  const seen = new Map<string, SourceFile>();
  let escalation: SourceFile | null = null;
  const seenOnce = new Map<string, SourceFile>();
  for (const { src, data } of files) {
    for (const name of Object.keys(data.owners ?? {})) {
      const prev = seen.get(name);
      if (prev) {
        errors.push(errorAt(src, ['owners', name], `owner \`${name}\` is already defined at ${where(prev, ['owners', name])}`, { key: true }));
      } else seen.set(name, src);
    }
    if (data.escalation) {
      if (escalation) errors.push(errorAt(src, ['escalation'], `\`escalation\` is already defined at ${where(escalation, ['escalation'])}`, { key: true }));
      else escalation = src;
    }
    // One file may set `defaults` and each receiver kind: a second one would silently win.
    const once: (string | number)[][] = [...(data.defaults ? [['defaults']] : []), ...Object.keys(data.receivers ?? {}).map((k) => ['receivers', k])];
    for (const p of once) {
      const k = p.join('.');
      const prev = seenOnce.get(k);
      if (prev) errors.push(errorAt(src, p, `\`${k}\` is already defined at ${where(prev, p)}`, { key: true }));
      else seenOnce.set(k, src);
    }
  }
  return errors;
}

/** `defaults.vigil_owner` must name an owner, or Vigil's own alerts would reach nobody. */
function vigilOwnerKnown(files: CheckInput['alerts']): ConfigError[] {
  const owners = new Set(files.flatMap((a) => Object.keys(a.data.owners ?? {})));
  const errors: ConfigError[] = [];
  for (const { src, data } of files) {
    const named = data.defaults?.vigil_owner;
    if (named !== undefined && !owners.has(named)) {
      errors.push(errorAt(src, ['defaults', 'vigil_owner'], `owner \`${named}\` has no entry under \`owners\` in alerts/`, {
        hint: didYouMean(named, owners) ?? "Vigil's own alerts (a crash, its own egress) would reach nobody",
      }));
    }
  }
  return errors;
}

/** vigil.yaml `gateway.owner` must name an owner (when alerts/ has any), or gateway-only failures reach nobody. */
function gatewayOwnerKnown(input: CheckInput): ConfigError[] {
  const named = input.vigil?.data?.gateway?.owner;
  const owners = new Set(input.alerts.flatMap((a) => Object.keys(a.data.owners ?? {})));
  if (!input.vigil || named === undefined || owners.size === 0 || owners.has(named)) return [];
  return [
    errorAt(input.vigil.src, ['gateway', 'owner'], `owner \`${named}\` has no entry under \`owners\` in alerts/`, {
      hint: didYouMean(named, owners) ?? 'gateway-only failures would reach nobody',
    }),
  ];
}

/** What probe checks need from vigil.yaml, taken from the raw data when vigil.yaml itself is invalid. */
interface GlobalFacts {
  providers: Map<string, { kind?: string; apiKey?: string }>;
  hasGateway: boolean;
  defaultOwner?: string;
  defaultTimeout: { connect?: string; first_byte?: string; total?: string };
  valid: VigilFile | null;
}

function globalFacts(vigil: CheckInput['vigil']): GlobalFacts {
  const raw = (vigil?.raw ?? {}) as Record<string, any>;
  const providers = new Map<string, { kind?: string; apiKey?: string }>();
  const rawProviders = raw && typeof raw.providers === 'object' && raw.providers ? raw.providers : {};
  for (const [name, p] of Object.entries(rawProviders as Record<string, any>)) {
    providers.set(name, { kind: typeof p?.kind === 'string' ? p.kind : undefined, apiKey: typeof p?.api_key === 'string' ? p.api_key : undefined });
  }
  const d = vigil?.data?.defaults;
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  return {
    providers,
    hasGateway: raw?.gateway != null,
    defaultOwner: d ? d.owner : str(raw?.defaults?.owner),
    defaultTimeout: d ? d.timeout : {},
    valid: vigil?.data ?? null,
  };
}

function probeChecks(input: CheckInput): ConfigError[] {
  const errors: ConfigError[] = [];
  const g = globalFacts(input.vigil);
  const pricing = g.valid ? mergePricing(g.valid.pricing) : null;
  const owners = new Set(input.alerts.flatMap((a) => Object.keys(a.data.owners ?? {})));
  const keylessUsed = new Set<string>();

  // Works on the raw item (guarding types) so that a probe with a schema error still gets these checks:
  // every problem is reported in one pass.
  for (const { src, path, raw } of input.probes) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) continue;
    const p = raw as RawProbe;
    const at = (field: (string | number)[], message: string, opts: { hint?: string; severity?: 'warning'; key?: boolean } = {}) =>
      errors.push(errorAt(src, [...path, ...field], message, opts));

    if (p.every !== undefined && p.cron !== undefined) {
      at(['cron'], 'set either `every` or `cron`, not both', { key: true, hint: 'remove one of them' });
    }
    if (p.prompt !== undefined && p.messages !== undefined) {
      at(['messages'], 'set either `prompt` or `messages`, not both', { key: true });
    } else if (p.prompt === undefined && p.messages === undefined) {
      at([], 'missing `prompt` or `messages`', { hint: 'e.g. prompt: "Reply with the single word: pong"' });
    }
    if (p.system !== undefined && p.messages !== undefined) {
      at(['system'], '`system` only goes with `prompt`', { key: true, hint: 'put a { role: system } message first in `messages` instead' });
    }
    if (p.owner === undefined && g.defaultOwner === undefined) {
      at(['owner'], 'missing required field `owner`', { hint: 'name the team that gets this probe\'s alerts, or set defaults.owner in vigil.yaml' });
    }
    const owner = typeof p.owner === 'string' ? p.owner : p.owner === undefined ? g.defaultOwner : undefined;
    if (owner && owners.size > 0 && !owners.has(owner)) {
      at(p.owner ? ['owner'] : [], `owner \`${owner}\` has no entry under \`owners\` in alerts/`, {
        severity: 'warning',
        hint: didYouMean(owner, owners) ?? 'its alerts will have nowhere to go',
      });
    }

    // Target must name something vigil.yaml configures.
    if (input.vigil && typeof p.target === 'string' && TARGET_RE.test(p.target)) {
      if (p.target === 'gateway') {
        if (!g.hasGateway) at(['target'], 'target is `gateway` but vigil.yaml has no `gateway` section', { hint: 'add gateway: { flavour, base_url, api_key } to vigil.yaml' });
      } else {
        const name = p.target.slice('provider:'.length);
        const provider = g.providers.get(name);
        if (!provider) {
          const known = [...g.providers.keys()];
          at(['target'], `unknown provider \`${name}\``, {
            hint: [didYouMean(name, known), known.length ? `vigil.yaml providers: ${known.join(', ')}` : 'vigil.yaml defines no providers'].filter(Boolean).join(' '),
          });
        } else {
          if (provider.kind === 'anthropic' && typeof p.temperature === 'number' && p.temperature > 1) {
            at(['temperature'], `anthropic accepts temperature from 0 to 1, got ${p.temperature}`);
          }
          if (provider.apiKey === '' || provider.apiKey === undefined) keylessUsed.add(name);
        }
      }
    }

    // Inherited timeouts may be inconsistent only once combined with the probe's own.
    const ownTimeout = p.timeout && typeof p.timeout === 'object' ? p.timeout : {};
    if (g.valid) {
      const t = { ...DEFAULT_TIMEOUTS, ...stripUndefined(g.defaultTimeout), ...stripUndefined(ownTimeout) };
      const total = typeof t.total === 'string' ? parseDuration(t.total) : null;
      for (const phase of ['connect', 'first_byte'] as const) {
        const value = typeof t[phase] === 'string' ? parseDuration(t[phase]) : null;
        if (total !== null && value !== null && value > total) {
          const own = ownTimeout[phase] !== undefined || ownTimeout.total !== undefined;
          at(own ? ['timeout', ownTimeout[phase] !== undefined ? phase : 'total'] : [], `timeout.${phase} (${t[phase]}) is longer than timeout.total (${t.total})`, {
            hint: 'the total timeout covers the whole call, so it must be the longest',
          });
        }
      }
    }

    if (pricing && typeof p.model === 'string' && p.model && !findPrice(p.model, pricing)) {
      at(['model'], `no price for model \`${p.model}\`; its cost is not estimated`, {
        severity: 'warning',
        hint: `add it to vigil.yaml: pricing: { "${p.model}": { input_per_mtok: …, output_per_mtok: … } }`,
      });
    }
  }

  if (input.vigil) {
    for (const name of keylessUsed) {
      errors.push(
        errorAt(input.vigil.src, ['providers', name], `provider \`${name}\` has no api_key but probes use it; calls will fail with an auth error`, {
          severity: 'warning',
          key: true,
          hint: 'set api_key: "${ENV_VAR}"',
        }),
      );
    }
  }
  return errors;
}

const TARGET_RE = /^(provider:[a-z0-9][a-z0-9_-]*|gateway)$/;

/** A probe as written, before (or despite) schema validation. */
interface RawProbe {
  owner?: unknown;
  target?: unknown;
  model?: unknown;
  every?: unknown;
  cron?: unknown;
  prompt?: unknown;
  system?: unknown;
  messages?: unknown;
  temperature?: unknown;
  timeout?: { connect?: unknown; first_byte?: unknown; total?: unknown };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
