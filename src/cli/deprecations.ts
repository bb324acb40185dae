// `vigil deprecations [--all]`: model retirements that concern us, with days left, owners and replacement.
import { existsSync } from 'node:fs';
import { deprecationsTable } from '../lifecycle/index.ts';
import { Store, storeMayExist, storeTarget } from '../store/store.ts';
import { configDir, parse } from './args.ts';
import { loadLenient } from './load.ts';

export async function deprecationsCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' }, all: { type: 'boolean', default: false } });
  const config = loadLenient(configDir(values.config));
  // With the daemon's store, dates learnt from webhooks and model lists count too, and served snapshots resolve aliases.
  const store = storeMayExist(config.storage, existsSync) ? await Store.connect(storeTarget(config.storage), { readOnly: true }) : null;
  try {
    const served = new Map([...((await store?.latestResults()) ?? new Map())].map(([id, r]) => [id, r.servedModel]));
    process.stdout.write((await deprecationsTable({ sql: store?.sql ?? null, config, now: Date.now(), served, all: values.all })) + '\n');
    return 0;
  } finally {
    await store?.close();
  }
}
