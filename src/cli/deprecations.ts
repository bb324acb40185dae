// `vigil deprecations [--all]`: model retirements that concern us, with days left, owners and replacement.
import { deprecationsTable } from '../lifecycle/index.ts';
import { Store } from '../store/store.ts';
import { readStore } from './store-path.ts';
import { configDir, parse } from './args.ts';
import type { Args } from './args.ts';
import { loadLenient } from './load.ts';

export async function deprecationsCommand(argv: Args): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' }, db: { type: 'string' }, all: { type: 'boolean', default: false } });
  const config = loadLenient(configDir(values.config));
  // With the daemon's store, dates learnt from webhooks and model lists count too, and served snapshots resolve aliases.
  const where = readStore(config.storage, { db: values.db });
  process.stderr.write(where.target ? `${where.note}\n` : `no store yet (${where.note}): the shipped table and vigil.yaml only\n`);
  const store = where.target ? await Store.connect(where.target, { readOnly: true }) : null;
  try {
    const served = new Map([...((await store?.latestResults()) ?? new Map())].map(([id, r]) => [id, r.servedModel]));
    process.stdout.write((await deprecationsTable({ sql: store?.sql ?? null, config, now: Date.now(), served, all: values.all })) + '\n');
    return 0;
  } finally {
    await store?.close();
  }
}
