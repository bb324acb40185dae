// Which store a read command (incidents, routes test, report, deprecations) opens, and a line saying so.
// The demo keeps its history in data/demo.db beside the configured data/vigil.db, so `vigil incidents` right
// after `npm run demo` must find it rather than report an empty, never-created vigil.db.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { redactUrl } from '../store/pg-url.ts';

/** The demo's store, relative to the directory of the configured SQLite file (src/cli/demo.ts writes it there). */
export const DEMO_DB = 'demo.db';

export interface ReadStore {
  /** A SQLite path or a postgres:// URL; null when there is nothing to read yet. */
  target: string | null;
  /** For stderr: which store is read and why, or why none is. */
  note: string;
}

/** A path as the user would type it from here: relative when under the working directory. */
export function shown(path: string, cwd = process.cwd()): string {
  const r = relative(cwd, path);
  return r && !r.startsWith('..') && !r.startsWith('/') ? r : path;
}

export function readStore(
  storage: { path: string; url?: string },
  opts: { db?: string; exists?: (p: string) => boolean; cwd?: string } = {},
): ReadStore {
  const exists = opts.exists ?? existsSync;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.db !== undefined) {
    const p = resolve(cwd, opts.db);
    return exists(p) ? { target: p, note: `store: ${shown(p, cwd)} (--db)` } : { target: null, note: `${shown(p, cwd)} (--db) does not exist` };
  }
  if (storage.url) return { target: storage.url, note: `store: ${redactUrl(storage.url)} (storage.url)` };
  const configured = storage.path;
  const demo = join(dirname(configured), DEMO_DB);
  if (exists(configured)) {
    const also = demo !== configured && exists(demo) ? `; the demo's is ${shown(demo, cwd)}: --db ${shown(demo, cwd)}` : '';
    return { target: configured, note: `store: ${shown(configured, cwd)}${also}` };
  }
  if (exists(demo)) {
    return { target: demo, note: `store: ${shown(demo, cwd)} (the demo's; ${shown(configured, cwd)} does not exist yet)` };
  }
  return {
    target: null,
    note: `${shown(configured, cwd)} does not exist yet: has the daemon run? (\`vigil run\`, or \`npm run demo\` which writes ${shown(demo, cwd)})`,
  };
}
