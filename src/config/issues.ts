// zod issues → ConfigErrors placed in the YAML source, with messages written for people and
// "did you mean" suggestions for misspelt keys and values.
import type { z } from 'zod';
import type { ConfigError, FieldPath } from './errors.ts';
import { errorAt } from './source.ts';
import type { SourceFile } from './source.ts';
import { describeInput } from './schema.ts';
import { didYouMean } from './suggest.ts';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

/** Per-parse error map: plain messages for the generic issue kinds (schema-level messages win). */
export function errorMap(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return 'required';
      const expected = TYPE_NAMES[iss.expected] ?? iss.expected;
      const hint =
        iss.expected === 'string' && (typeof iss.input === 'number' || typeof iss.input === 'boolean')
          ? `\nquote it: "${String(iss.input)}"`
          : '';
      return `expected ${expected}, got ${describeInput(iss.input)}${hint}`;
    }
    case 'invalid_value':
      return `expected ${iss.values.length === 1 ? '' : 'one of '}${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeInput(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'array') return `needs at least ${iss.minimum} item${iss.minimum === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return 'must not be empty';
      return `must be ${iss.inclusive ? 'at least' : 'greater than'} ${iss.minimum}, got ${describeInput(iss.input)}`;
    case 'too_big':
      if (iss.origin === 'string') return `must be at most ${iss.maximum} characters`;
      return `must be ${iss.inclusive ? 'at most' : 'less than'} ${iss.maximum}, got ${describeInput(iss.input)}`;
    case 'not_multiple_of':
      return `must be a whole number, got ${describeInput(iss.input)}`;
    default:
      return undefined;
  }
}

export function issuesToErrors(src: SourceFile, schema: z.ZodType, issues: readonly Issue[], base: FieldPath = []): ConfigError[] {
  const out: ConfigError[] = [];
  // An object-level rule ("exactly one assertion key") says nothing useful about an object whose keys
  // were unknown: the unknown-key error already explains it.
  const withUnknownKeys = new Set(issues.filter((i) => i.code === 'unrecognized_keys').map((i) => JSON.stringify(i.path)));
  for (const iss of issues) {
    if (iss.code === 'custom' && withUnknownKeys.has(JSON.stringify(iss.path))) continue;
    const path = [...base, ...(iss.path as (string | number)[])];
    if (iss.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, iss.path as (string | number)[]);
      for (const key of iss.keys) {
        const hint = didYouMean(key, known) ?? (known.length ? `known keys here: ${known.join(', ')}` : undefined);
        out.push(errorAt(src, [...path, key], `unknown key \`${key}\``, { key: true, hint }));
      }
      continue;
    }
    if (iss.code === 'invalid_type' && iss.message === 'required') {
      const field = path[path.length - 1];
      out.push(errorAt(src, path, `missing required field \`${String(field)}\``));
      continue;
    }
    const [message, ...rest] = iss.message.split('\n');
    let hint = rest.join(' ') || undefined;
    if (iss.code === 'invalid_value' && !hint) {
      const input = (iss as { input?: unknown }).input; // present: the loader parses with reportInput
      if (typeof input === 'string') hint = didYouMean(input, iss.values.map(String));
    }
    out.push(errorAt(src, path, message, { hint, key: iss.code === 'invalid_key' }));
  }
  return out;
}

/** Keys the schema allows at `path` (for suggestions), walking zod's definitions. */
export function knownKeysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let def = unwrap(schema);
  for (const seg of path) {
    if (!def) return [];
    if (def.type === 'object') def = unwrap(def.shape[seg]);
    else if (def.type === 'array') def = unwrap(def.element);
    else if (def.type === 'record') def = unwrap(def.valueType);
    else return [];
  }
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function unwrap(schema: any): any {
  let def = schema?._zod?.def;
  while (def) {
    if (['optional', 'default', 'nullable', 'readonly', 'catch', 'prefault', 'nonoptional'].includes(def.type)) def = def.innerType._zod.def;
    else if (def.type === 'pipe') def = def.in._zod.def;
    else break;
  }
  return def;
}
