// Secrets never reach output: fields whose names say "secret" are masked wholesale, and values that
// came from secret-looking env vars are masked wherever they were interpolated (a header, a URL).
import type { VigilConfig } from './types.ts';

export const MASK = '***';

const SECRET_FIELD_RE = /(api[_-]?key|routing[_-]?key|secret|token|password|passwd|authorization|cookie)$/i;

/** `api_key`, `routingKey`, `webhook_secret`, `x-api-key`, `Authorization`… (not `max_tokens`). */
export function isSecretField(key: string): boolean {
  return SECRET_FIELD_RE.test(key);
}

// Very short values would mask unrelated text and protect nothing.
const MIN_SECRET_LENGTH = 4;

export function redactString(text: string, secrets: Iterable<string>): string {
  const list = [...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of list) out = out.split(s).join(MASK);
  return out;
}

const secretsOf = new WeakMap<object, ReadonlySet<string>>();

/** Called by the loader: the secret values a config holds, for `redactConfig`. */
export function rememberSecrets(config: VigilConfig, secrets: ReadonlySet<string>): void {
  secretsOf.set(config, secrets);
}

export function secretValues(config: VigilConfig): ReadonlySet<string> {
  return secretsOf.get(config) ?? new Set();
}

/** A deep copy that is safe to print or serve (`vigil explain`, /api). */
export function redactConfig(config: VigilConfig): unknown {
  const secrets = secretValues(config);
  const walk = (v: unknown, key: string | undefined): unknown => {
    if (key !== undefined && isSecretField(key) && v !== undefined && v !== null && v !== '') return MASK;
    if (typeof v === 'string') return redactString(v, secrets);
    if (Array.isArray(v)) return v.map((x) => walk(x, undefined));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    }
    return v;
  };
  return walk(config, undefined);
}

/** Values under secret-named fields of a parsed file (literal keys count too, not only ${ENV} ones). */
export function collectSecretFields(data: unknown, into: Set<string>): void {
  const walk = (v: unknown, key: string | undefined): void => {
    if (key !== undefined && isSecretField(key) && typeof v === 'string' && v) into.add(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, undefined));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(data, undefined);
}
