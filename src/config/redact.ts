// Secrets never reach output: fields whose names say "secret" are masked wholesale, and values that
// came from secret-looking env vars are masked wherever they were interpolated (a header, a URL).
//
// The one redactor: every secret value of every loaded config is registered process-wide (`registerSecret`,
// done by the loader), and `redact` masks each of them, in the forms it takes once escaped into JSON, HTML
// or a URL, plus credential-shaped text (bearer headers, `?key=`, `sk-…`). It runs where data enters (probe
// results are normalised through `redactResult`) and where it leaves (HTTP responses, logs, notifications,
// CLI output), so a key a provider echoes back is stored, shown and sent as `***`.
import type { VigilConfig } from './types.ts';

export const MASK = '***';

const SECRET_FIELD_RE = /(api[_-]?key|routing[_-]?key|secret|token|password|passwd|authorization|cookie|^admin_tokens|^read_tokens)$/i;

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
    else if (key !== undefined && isSecretField(key) && Array.isArray(v)) v.forEach((x) => typeof x === 'string' && x && into.add(x));
    else if (Array.isArray(v)) v.forEach((x) => walk(x, undefined));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(data, undefined);
}

// ── the process-wide redactor ─────────────────────────────────────────────────────────────────────────────

/** Credential-shaped text, whatever its value: `?key=…`, `Bearer …`, `sk-…` (the first 4 characters stay). */
const SECRET_PATTERNS: RegExp[] = [
  /([?&](?:key|api_key|token)=)[^&\s"]+/gi,
  /(bearer\s+)[A-Za-z0-9._~+\/=-]{6,}/gi,
  /\b(sk-[A-Za-z0-9_-]{4})[A-Za-z0-9_-]{8,}/g,
];
/** Text none of SECRET_PATTERNS can match skips them (one test instead of three replaces on every string of every result). */
const MAY_MATCH = /[?&](?:key|api_key|token)=|bearer\s|sk-/i;

// Process-wide masking of a short value would garble unrelated text; real keys and tokens are far longer.
const MIN_REGISTERED_LENGTH = 8;
const registered = new Set<string>();
let ordered: string[] = [];

const htmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** A secret value (and its JSON-, HTML- and URL-escaped forms) is masked by `redact` from now on. */
export function registerSecret(value: string): void {
  if (!value || value.length < MIN_REGISTERED_LENGTH) return;
  const forms = [value, JSON.stringify(value).slice(1, -1), htmlEscape(value), encodeURIComponent(value)];
  let added = false;
  for (const f of forms) {
    if (!registered.has(f)) {
      registered.add(f);
      added = true;
    }
  }
  // Longest first, so a secret that contains another is masked whole.
  if (added) ordered = [...registered].sort((a, b) => b.length - a.length);
}

/** Every secret value of a loaded config (the loader calls this). */
export function registerConfigSecrets(config: VigilConfig): void {
  for (const s of secretValues(config)) registerSecret(s);
}

/** Registered secrets, `extra` values and credential-shaped text, masked. */
export function redact(text: string, extra: Iterable<string> = []): string {
  let out = text;
  for (const s of extra) if (s && s.length >= MIN_SECRET_LENGTH && out.includes(s)) out = out.split(s).join(MASK);
  if (out.length >= MIN_REGISTERED_LENGTH) for (const s of ordered) if (out.includes(s)) out = out.split(s).join(MASK);
  if (MAY_MATCH.test(out)) for (const re of SECRET_PATTERNS) out = out.replace(re, `$1${MASK}`);
  return out;
}

/** A copy with `redact` applied to every string inside (keys too); other values as they are. */
export function redactDeep<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
