// `${VAR}` and `${VAR:-default}` in string values; `$$` is a literal `$`; a lone `$` (as in the regex
// `^pong$`) stays as it is. Substitution happens on parsed scalars, never on raw text, so a value can't
// break the YAML around it and every error keeps the position of the value that used the variable.
import { isAlias, isMap, isPair, isScalar, isSeq, Scalar } from 'yaml';
import type { ConfigError, FieldPath } from './errors.ts';
import { errorAt } from './source.ts';
import type { SourceFile } from './source.ts';

export type Env = Record<string, string | undefined>;

export interface Interpolated {
  value: string;
  /** Variables referenced, in order. */
  vars: string[];
  /** Referenced variables that are unset and have no default. */
  missing: string[];
  /** Values taken from variables whose names look secret (for redaction). */
  secretValues: string[];
  problems: { message: string; hint?: string }[];
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Env var names treated as secret: their values are redacted wherever they end up. */
const SECRET_NAME_RE = /KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|AUTH/i;

export function isSecretEnvName(name: string): boolean {
  return SECRET_NAME_RE.test(name);
}

export function interpolateString(text: string, env: Env): Interpolated {
  const out: Interpolated = { value: '', vars: [], missing: [], secretValues: [], problems: [] };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch !== '$') {
      out.value += ch;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out.value += '$';
      i += 2;
      continue;
    }
    if (next !== '{') {
      out.value += '$';
      i++;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close < 0) {
      out.problems.push({
        message: 'unterminated `${` in value',
        hint: 'close it with `}`, or write `$$` for a literal `$`',
      });
      out.value += text.slice(i);
      break;
    }
    const body = text.slice(i + 2, close);
    const sep = body.indexOf(':-');
    const name = sep >= 0 ? body.slice(0, sep) : body;
    const fallback = sep >= 0 ? body.slice(sep + 2) : undefined;
    i = close + 1;
    if (!NAME_RE.test(name)) {
      out.problems.push({
        message: `\`\${${name}}\` is not a valid variable reference`,
        hint: 'use `${NAME}` or `${NAME:-default}` with letters, digits and underscores; `$$` is a literal `$`',
      });
      continue;
    }
    out.vars.push(name);
    const value = env[name];
    // As in the shell, `:-` also applies when the variable is set but empty.
    if (value !== undefined && (value !== '' || fallback === undefined)) {
      out.value += value;
      if (isSecretEnvName(name) && value) out.secretValues.push(value);
    } else if (fallback !== undefined) {
      out.value += fallback;
    } else {
      out.missing.push(name);
      out.problems.push({
        message: `environment variable ${name} is not set`,
        hint: `export ${name}=…, or give a default with \${${name}:-value}`,
      });
    }
  }
  return out;
}

export interface DocInterpolation {
  errors: ConfigError[];
  secretValues: Set<string>;
  /** Each unset variable and the field that uses it. */
  missing: { name: string; path: FieldPath }[];
}

/**
 * Substitute variables in every string scalar of the document, in place. A plain (unquoted) scalar
 * that is exactly one reference, like `port: ${PORT}`, takes the type its value reads as (number,
 * boolean), so numeric settings can come from the environment.
 */
export function interpolateDocument(src: SourceFile, env: Env): DocInterpolation {
  const result: DocInterpolation = { errors: [], secretValues: new Set(), missing: [] };
  if (src.fast) {
    // The lean parse listed every string with a `$`; the same substitution, on its values.
    for (const { path, plain } of src.fast.dollars) {
      const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], src.fast.value) as Record<string | number, unknown>;
      const key = path[path.length - 1];
      const original = parent[key] as string;
      const r = interpolateString(original, env);
      for (const v of r.secretValues) result.secretValues.add(v);
      for (const p of r.problems) result.errors.push(errorAt(src, path, p.message, { hint: p.hint }));
      for (const name of r.missing) result.missing.push({ name, path });
      parent[key] = coerce(r.value, original, plain ? 'PLAIN' : 'QUOTE_DOUBLE');
    }
    return result;
  }
  walk(src.doc.contents, [], (scalar, path) => {
    if (typeof scalar.value !== 'string' || !scalar.value.includes('$')) return;
    const original = scalar.value;
    const r = interpolateString(original, env);
    for (const v of r.secretValues) result.secretValues.add(v);
    for (const p of r.problems) result.errors.push(errorAt(src, path, p.message, { hint: p.hint }));
    for (const name of r.missing) result.missing.push({ name, path });
    scalar.value = coerce(r.value, original, scalar.type);
  });
  return result;
}

function coerce(value: string, original: string, type: Scalar['type']): unknown {
  if (type !== 'PLAIN' || !/^\$\{[^}]*\}$/.test(original)) return value;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

function walk(node: unknown, path: (string | number)[], visit: (s: Scalar, path: FieldPath) => void): void {
  if (isAlias(node)) return; // the anchored node is visited where it is defined
  if (isScalar(node)) return visit(node, path);
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      walk(pair.value, [...path, key], visit);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(item, [...path, i], visit));
  }
}
