// `vigil deprecations [--all]`: model retirements that concern us, with days left, owners and replacement.
import { existsSync } from 'node:fs';
import { deprecationsTable } from '../lifecycle/index.ts';
import { Store } from '../store/store.ts';
import { configDir, parse } from './args.ts';
import { loadLenient } from './load.ts';

export async function deprecationsCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' }, all: { type: 'boolean', default: false } });
  const config = loadLenient(configDir(values.config));
  // With the daemon's store, dates learnt from webhooks and model lists count too, and served snapshots resolve aliases.
  const store = existsSync(config.storage.path) ? await Store.connect(config.storage.path, { readOnly: true }) : null;
  try {
    const served = new Map([...((await store?.latestResults()) ?? new Map())].map(([id, r]) => [id, r.servedModel]));
    process.stdout.write(deprecationsTable({ db: store?.db ?? null, config, now: Date.now(), served, all: values.all }) + '\n');
    return 0;
  } finally {
    await store?.close();
  }
}
