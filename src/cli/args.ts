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
