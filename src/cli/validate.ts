// `vigil validate`: config problems with file:line:column, or the projected monthly canary cost.
// Unset ${VARS} are warnings here (config is often validated in CI without production secrets) and
// errors with --strict-env, as they always are for `run` and `probe`.
import { validateCommand } from '../config/validate-cli.ts';
import { configDir, parse } from './args.ts';
import type { Args } from './args.ts';

export async function validateCli(argv: Args): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string', short: 'c' },
    'strict-env': { type: 'boolean', default: false },
  });
  return validateCommand(configDir(values.config), process.env, process.stdout, {
    allowMissingEnv: !values['strict-env'],
  });
}
