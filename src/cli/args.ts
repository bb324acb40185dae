// Small helpers shared by CLI commands.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';

export class UsageError extends Error {}

export function parse<T extends Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>>(
  argv: string[],
  options: T,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
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
