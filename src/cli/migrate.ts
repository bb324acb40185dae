// `vigil migrate --from sqlite --to postgres://…`: copy a single instance's history (results, rollups, incidents,
// outbox, drills, webhook events, the deprecation registry, detector state) into an empty PostgreSQL database,
// which then serves several instances. `--from` is `sqlite` (the config's storage.path) or a file path; `--to`
// defaults to the config's storage.url. Stop the daemon first: the copy is of the file as it is.
import { existsSync } from 'node:fs';
import { copyStore } from '../store/copy.ts';
import { redactUrl } from '../store/pg-url.ts';
import { isPostgresUrl, Store } from '../store/store.ts';
import { configDir, parse, UsageError } from './args.ts';
import type { Args } from './args.ts';
import { loadLenient } from './load.ts';

export async function migrateCommand(argv: Args): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' }, from: { type: 'string' }, to: { type: 'string' } });
  if (!values.from) throw new UsageError('usage: vigil migrate --from sqlite|PATH --to postgres://… [--config DIR]');
  const config = values.from === 'sqlite' || !values.to ? loadLenient(configDir(values.config)) : null;
  const from = values.from === 'sqlite' ? config!.storage.path : values.from;
  const to = values.to ?? config?.storage.url;
  if (!to || !isPostgresUrl(to)) throw new UsageError('--to must be a postgres:// URL (or set storage.url in vigil.yaml)');
  if (isPostgresUrl(from)) throw new UsageError('--from is the SQLite file to copy (or "sqlite" for the configured storage.path)');
  if (!existsSync(from)) throw new UsageError(`${from} does not exist`);

  const source = await Store.connect(from);
  try {
    const target = await Store.connect(to);
    try {
      process.stdout.write(`copying ${from} → ${redactUrl(to)}\n`);
      const r = await copyStore(source, target, { onTable: (t, n) => process.stdout.write(`  ${t}: ${n} rows\n`) });
      process.stdout.write(`copied ${r.rows} rows in ${r.tables.length} tables in ${(r.ms / 1000).toFixed(1)} s\n`);
      return 0;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
