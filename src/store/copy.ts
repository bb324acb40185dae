// Copy a single instance's SQLite history into an empty PostgreSQL store (`vigil migrate`). Both sides are at the
// same schema version (opening them migrates), so every table has the same columns on both: the copy is generic,
// table by table, in one Postgres transaction (all or nothing), with identity counters moved past the copied ids.
import type { Store } from './store.ts';
import type { SqlValue } from './sql.ts';

export interface CopyReport {
  tables: { table: string; rows: number }[];
  rows: number;
  ms: number;
}

const BATCH = 500;
/** Copied first: with no rollup watermark yet on the target, its late-result trigger queues nothing. */
const FIRST = ['probe_results'];

export async function copyStore(from: Store, to: Store, opts: { onTable?: (table: string, rows: number) => void } = {}): Promise<CopyReport> {
  if (from.backend !== 'sqlite' || to.backend !== 'postgres') throw new Error('copies a SQLite store into a PostgreSQL one');
  const [vf, vt] = [await from.schemaVersion(), await to.schemaVersion()];
  if (vf !== vt) throw new Error(`schema versions differ (${from.path}: ${vf}, ${to.path}: ${vt}); open both with this Vigil first`);
  const started = performance.now();
  const tables = (
    await from.sql.all<{ name: string; sql: string }>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name",
    )
  ).sort((a, b) => rank(a.name) - rank(b.name));

  for (const t of tables) {
    const n = (await to.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.name}`))!.n;
    if (n > 0) throw new Error(`${to.path}: table ${t.name} already holds ${n} rows; migrate into an empty database`);
  }

  const report: CopyReport = { tables: [], rows: 0, ms: 0 };
  await to.sql.transaction(async () => {
    for (const t of tables) {
      const cols = (await from.sql.all<{ name: string }>(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, [t.name])).map((c) => c.name);
      const withRowid = !/WITHOUT\s+ROWID/i.test(t.sql);
      let rows = 0;
      let after = Number.MIN_SAFE_INTEGER;
      for (;;) {
        // Keyset over rowid where there is one (probe_results can hold millions); the WITHOUT ROWID tables are small.
        const batch = withRowid
          ? await from.sql.all<Record<string, SqlValue>>(`SELECT rowid AS vigil_rowid, ${cols.join(', ')} FROM ${t.name} WHERE rowid > ? ORDER BY rowid LIMIT ?`, [after, BATCH])
          : rows === 0
            ? await from.sql.all<Record<string, SqlValue>>(`SELECT ${cols.join(', ')} FROM ${t.name}`)
            : [];
        if (batch.length === 0) break;
        const params: SqlValue[] = [];
        for (const r of batch) for (const c of cols) params.push(r[c] ?? null);
        const tuple = `(${cols.map(() => '?').join(', ')})`;
        try {
          await to.sql.run(`INSERT INTO ${t.name} (${cols.join(', ')}) VALUES ${batch.map(() => tuple).join(', ')}`, params);
        } catch (err) {
          throw new Error(`copying ${t.name} (rows ${rows + 1}–${rows + batch.length}): ${(err as Error).message}`);
        }
        rows += batch.length;
        if (!withRowid || batch.length < BATCH) break;
        after = Number(batch[batch.length - 1].vigil_rowid);
      }
      // Identity columns continue after the copied ids.
      if (cols.includes('id')) {
        const seq = await to.sql.get<{ s: string | null }>('SELECT pg_get_serial_sequence(?, ?) AS s', [t.name, 'id']);
        if (seq?.s) await to.sql.get(`SELECT setval(?, (SELECT COALESCE(MAX(id), 0) + 1 FROM ${t.name}), false)`, [seq.s]);
      }
      report.tables.push({ table: t.name, rows });
      report.rows += rows;
      opts.onTable?.(t.name, rows);
    }
  });
  report.ms = Math.round(performance.now() - started);
  return report;
}

const rank = (table: string): number => (FIRST.includes(table) ? 0 : 1);
