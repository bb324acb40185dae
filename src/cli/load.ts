// Load the config for a command that needs it whole (probe, run): any error is fatal and printed.
import { loadConfig } from '../config/load.ts';
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
