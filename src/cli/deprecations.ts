// `vigil deprecations [--all]`: model retirements that concern us, with days left, owners and replacement.
import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import { formatErrors } from '../config/errors.ts';
import { deprecationsTable } from '../lifecycle/index.ts';
import { Store } from '../store/store.ts';
import { configDir, parse } from './args.ts';

export async function deprecationsCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' }, all: { type: 'boolean', default: false } });
  const { config, errors } = loadConfig(configDir(values.config), { allowMissingEnv: true });
  if (!config) {
    process.stderr.write(formatErrors(errors) + '\n');
    return 2;
  }
  // With the daemon's store, dates learnt from webhooks and model lists count too, and served snapshots resolve aliases.
  const store = existsSync(config.storage.path) ? Store.open(config.storage.path, { readOnly: true }) : null;
  try {
    const served = new Map([...(store?.latestResults() ?? new Map())].map(([id, r]) => [id, r.servedModel]));
    process.stdout.write(deprecationsTable({ db: store?.db ?? null, config, now: Date.now(), served, all: values.all }) + '\n');
    return 0;
  } finally {
    store?.close();
  }
}
