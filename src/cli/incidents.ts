// `vigil incidents`, `vigil routes test`, `vigil alerts test <owner>`: the on-call's view of the incidents
// engine, from the same store and config the daemon uses (the store is opened read-only, beside a running daemon).
import { systemClock } from '../clock.ts';
import { alertsConfig, formatIncidentDetail, formatIncidents, formatRoutesTest, IncidentManager, ownerReceivers, routesTest } from '../incidents/index.ts';
import type { AlertsConfig } from '../incidents/index.ts';
import { createNotifiers, formatTestReport, sendTestNotification } from '../notifiers/index.ts';
import { Store } from '../store/store.ts';
import { configDir, parse, splitSub, unknownId, UsageError } from './args.ts';
import type { Args } from './args.ts';
import { readStore } from './store-path.ts';
import { missingForOwner } from '../config/requirements.ts';
import { loadForCommand, loadLenient } from './load.ts';

const STATES = ['pending', 'firing', 'resolved'] as const;

export interface IncidentsIo {
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
  /** Line width for the compact table (default: the terminal's, else 160). */
  width?: number;
}

/** `vigil incidents [--state S] [--verbose] [--json]`, `vigil incidents show <id>`. */
export async function incidentsCommand(argv: Args, io: IncidentsIo = {}): Promise<number> {
  const out = io.stdout ?? ((s: string) => process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => process.stderr.write(s));
  const [first, afterShow] = splitSub(argv);
  const show = first === 'show';
  const { values, positionals } = parse(show ? afterShow : argv, {
    config: { type: 'string', short: 'c' },
    db: { type: 'string' },
    state: { type: 'string' },
    limit: { type: 'string', default: '50' },
    verbose: { type: 'boolean', short: 'v', default: false },
    json: { type: 'boolean', default: false },
  });
  if (!show && positionals.length) throw new UsageError(`unexpected "${positionals[0]}"; to see one incident: vigil incidents show <id>`);
  const state = values.state as (typeof STATES)[number] | undefined;
  if (state && !STATES.includes(state)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a whole number ≥ 1, not "${values.limit}"`);
  const config = loadLenient(configDir(values.config));
  const where = readStore(config.storage, { db: values.db });
  // Which store is read goes to stderr, so --json output stays clean for scripts.
  err(where.note + '\n');
  if (!where.target) {
    if (show) return 1;
    out(values.json ? '[]\n' : 'no incidents\n');
    return 0;
  }
  const store = await Store.connect(where.target, { readOnly: true });
  try {
    const m = readOnlyManager(store, alertsConfig(config));
    if (show) {
      const id = positionals[0];
      if (!id) throw new UsageError('which incident? vigil incidents show <id> (ids are the first column of `vigil incidents`)');
      const d = await m.incident(id);
      if (!d) {
        const ids = (await m.listIncidents({ limit: 1000 })).map((i) => i.id);
        throw unknownId('incident', id, ids, '`vigil incidents`');
      }
      out((values.json ? JSON.stringify(d, null, 2) : formatIncidentDetail(d, Date.now())) + '\n');
      return 0;
    }
    const list = await m.listIncidents({ state, limit });
    const width = io.width ?? (process.stdout.isTTY ? process.stdout.columns : undefined) ?? 160;
    out((values.json ? JSON.stringify(list, null, 2) : formatIncidents(list, Date.now(), { verbose: values.verbose, width })) + '\n');
    return 0;
  } finally {
    await store.close();
  }
}

/** `vigil routes test severity=critical provider=openai …`: which receivers an alert with these labels reaches. */
export async function routesCommand(argv: Args, io: IncidentsIo = {}): Promise<number> {
  const out = io.stdout ?? ((s: string) => process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => process.stderr.write(s));
  const [sub, rest] = splitSub(argv);
  if (sub !== 'test') throw new UsageError('usage: vigil routes test label=value … [--config DIR]');
  const { values, positionals } = parse(rest, { config: { type: 'string', short: 'c' }, db: { type: 'string' } });
  const labels: Record<string, string> = {};
  for (const p of positionals) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${p}" is not label=value`);
    labels[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const config = loadLenient(configDir(values.config));
  const cfg = alertsConfig(config);
  const where = readStore(config.storage, { db: values.db });
  const store = where.target ? await Store.connect(where.target, { readOnly: true }) : null;
  err(store ? `${where.note} (API-created silences count)\n` : 'no store yet: only silences in alerts/*.yaml count\n');
  try {
    // With a store, API-created silences count too; without one, only those in alerts/*.yaml.
    const result = store ? await readOnlyManager(store, cfg).routesTest(labels) : routesTest(cfg, labels, cfg.silences, Date.now());
    out(formatRoutesTest(result) + '\n');
    return 0;
  } finally {
    await store?.close();
  }
}

/** `vigil alerts test <owner>`: a test notification through each of the owner's receivers, now. */
export async function alertsCommand(argv: Args): Promise<number> {
  const [sub, rest] = splitSub(argv);
  if (sub !== 'test') throw new UsageError('usage: vigil alerts test <owner> [--config DIR]');
  const { values, positionals } = parse(rest, { config: { type: 'string', short: 'c' } });
  const owner = positionals[0];
  // Only the receivers' keys: a test notification needs no LLM provider.
  const config = loadForCommand('alerts test', configDir(values.config), (_cfg, missing) => ({ what: `alerts test ${owner ?? ''}`.trim(), missing: missingForOwner(owner ?? '', missing) }));
  const cfg = alertsConfig(config);
  if (!owner) throw new UsageError(`which owner? one of: ${Object.keys(cfg.owners).join(', ') || '(none in alerts/)'}`);
  if (!cfg.owners[owner]) throw unknownId('owner', owner, Object.keys(cfg.owners), 'alerts/*.yaml');
  const { receivers, problems } = ownerReceivers(cfg, owner);
  for (const p of problems) process.stderr.write(`note: ${p}\n`);
  if (receivers.length === 0) {
    process.stderr.write(`owner "${owner}" has no reachable receiver\n`);
    return 1;
  }
  const reports = await sendTestNotification(owner, receivers, createNotifiers(), {
    links: [{ href: `${config.server.publicUrl}/api/incidents`, text: 'Vigil incidents' }],
  });
  process.stdout.write(formatTestReport(owner, reports) + '\n');
  return reports.every((r) => r.status === 'ok') ? 0 : 1;
}

/** The incidents engine beside a running daemon: reads state, sends nothing, leaves rows in flight alone. */
function readOnlyManager(store: Store, cfg: AlertsConfig): IncidentManager {
  return new IncidentManager({ store, clock: systemClock, config: () => cfg, notifiers: {}, readOnly: true });
}
