// Small helpers shared by CLI commands.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';

export class UsageError extends Error {}

/** What commander parsed for a command (src/cli/program.ts): long option names as typed, and the operands. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** A command's arguments: parsed by commander (the CLI), or raw tokens (tests and programmatic callers). */
export type Args = string[] | Parsed;

/** Back to tokens, so every path ends in the same strict, typed parse of the command's own option table. */
export function tokensOf(args: Args): string[] {
  if (Array.isArray(args)) return args;
  const out: string[] = [];
  for (const [k, v] of Object.entries(args.values)) {
    if (v === true) out.push(`--${k}`);
    else if (typeof v === 'string') out.push(`--${k}=${v}`);
  }
  return [...out, '--', ...args.positionals];
}

/** `vigil silence add …` → ['add', the rest]. */
export function splitSub(args: Args): [string | undefined, Args] {
  if (Array.isArray(args)) return [args[0], args.slice(1)];
  return [args.positionals[0], { values: args.values, positionals: args.positionals.slice(1) }];
}

export function parse<T extends Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>>(
  argv: Args,
  options: T,
) {
  try {
    return parseArgs({ args: tokensOf(argv), options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * The known name closest to a mistyped one, when it is close enough to be what was meant (at most a third of its
 * letters wrong, and at least 1 allowed): "openai-canry" → "openai-canary". Null when nothing is that close.
 */
export function didYouMean(input: string, known: readonly string[]): string | null {
  if (!known.length || !input) return null;
  const best = closest(input, [...known]);
  return distance(input, best) <= Math.max(1, Math.floor(Math.max(input.length, best.length) / 3)) ? best : null;
}

/** `no probe "openai-canry"; did you mean "openai-canary"? (37 probes; \`vigil validate\` lists them)`. */
export function unknownId(what: string, id: string, known: readonly string[], listWith: string): UsageError {
  const guess = didYouMean(id, known);
  if (known.length === 0) return new UsageError(`no ${what} "${id}": none configured`);
  if (known.length <= 8) return new UsageError(`no ${what} "${id}"${guess ? `; did you mean "${guess}"?` : ''} (known: ${known.join(', ')})`);
  return new UsageError(`no ${what} "${id}"${guess ? `; did you mean "${guess}"?` : ''} (${known.length} ${what}s; ${listWith} lists them)`);
}

/** The config directory: --config DIR, else $VIGIL_CONFIG, else the current directory. */
export function configDir(value: string | undefined): string {
  return resolve(value ?? process.env.VIGIL_CONFIG ?? '.');
}

/**
 * Options every command takes, wherever they appear: `--log-format auto|json|pretty` and `--log-level L`.
 * They set $VIGIL_LOG_FORMAT / $VIGIL_LOG_LEVEL, so processes Vigil spawns (the fault proxy) log alike.
 */
export function takeGlobalOptions(argv: string[]): string[] {
  const out: string[] = [];
  const allowed: Record<string, readonly string[]> = { 'log-format': ['auto', 'json', 'pretty'], 'log-level': ['debug', 'info', 'warn', 'error'] };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(log-format|log-level)(?:=(.*))?$/.exec(argv[i]);
    if (!m) {
      out.push(argv[i]);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || !allowed[m[1]].includes(value)) throw new UsageError(`--${m[1]} must be one of ${allowed[m[1]].join(', ')}, not ${value === undefined ? 'nothing' : `"${value}"`}`);
    process.env[m[1] === 'log-format' ? 'VIGIL_LOG_FORMAT' : 'VIGIL_LOG_LEVEL'] = value;
  }
  return out;
}
