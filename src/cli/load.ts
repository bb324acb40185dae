// Load the config for a command that needs it whole (probe, run): any error is fatal and printed.
import { loadConfig } from '../config/load.ts';
import type { MissingEnv } from '../config/load.ts';
import { describeMissing } from '../config/requirements.ts';
import { formatErrors } from '../config/errors.ts';
import type { VigilConfig } from '../config/types.ts';

export function loadOrExit(dir: string, env: Record<string, string | undefined> = process.env): VigilConfig {
  const { config, errors, warnings } = loadConfig(dir, { env });
  if (warnings.length) process.stderr.write(formatErrors(warnings) + '\n');
  if (!config) {
    process.stderr.write(formatErrors(errors) + '\n');
    process.stderr.write(`\nconfig in ${dir} is not valid (${errors.length} error${errors.length === 1 ? '' : 's'})\n`);
    process.exit(2);
  }
  return config;
}

/**
 * For commands that only read state or config (incidents, reports, deprecations): unset secrets are tolerated,
 * every other error is fatal and printed.
 */
export function loadLenient(dir: string): VigilConfig {
  const { config, errors } = loadConfig(dir, { allowMissingEnv: true });
  if (!config) {
    process.stderr.write(formatErrors(errors) + '\n');
    process.exit(2);
  }
  return config;
}

/**
 * For commands that need only part of the config's secrets (`probe X`: X's provider; `alerts test`: receivers):
 * unset variables are tolerated except those `needs` picks, which are fatal and named with where they are used.
 */
export function loadForCommand(
  command: string,
  dir: string,
  needs: (config: VigilConfig, missing: readonly MissingEnv[]) => { what: string; missing: MissingEnv[] },
  env: Record<string, string | undefined> = process.env,
): VigilConfig {
  const { config, errors, warnings, missingEnv } = loadConfig(dir, { env, allowMissingEnv: true });
  const other = warnings.filter((w) => !w.message.startsWith('environment variable '));
  if (other.length) process.stderr.write(formatErrors(other) + '\n');
  if (!config) {
    process.stderr.write(formatErrors(errors) + '\n');
    process.stderr.write(`\nconfig in ${dir} is not valid (${errors.length} error${errors.length === 1 ? '' : 's'})\n`);
    process.exit(2);
  }
  const need = needs(config, missingEnv);
  if (need.missing.length) {
    const list = need.missing.map(describeMissing).join(', ');
    process.stderr.write(`vigil ${command}: ${need.what} needs ${list}, which ${need.missing.length === 1 ? 'is' : 'are'} not set\n`);
    process.exit(2);
  }
  return config;
}
