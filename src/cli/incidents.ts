// `vigil incidents`, `vigil routes test`, `vigil alerts test <owner>`: the on-call's view of the incidents
// engine, from the same store and config the daemon uses (the store is opened read-only, beside a running daemon).
import { existsSync } from 'node:fs';
import { systemClock } from '../clock.ts';
import { alertsConfig, formatIncidents, formatRoutesTest, IncidentManager, ownerReceivers, routesTest } from '../incidents/index.ts';
import type { AlertsConfig } from '../incidents/index.ts';
import { createNotifiers, formatTestReport, sendTestNotification } from '../notifiers/index.ts';
import { Store } from '../store/store.ts';
import { configDir, parse, UsageError } from './args.ts';
import { missingForOwner } from '../config/requirements.ts';
import { loadForCommand, loadLenient } from './load.ts';

const STATES = ['pending', 'firing', 'resolved'] as const;

export async function incidentsCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string', short: 'c' },
    state: { type: 'string' },
    limit: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
  });
  const state = values.state as (typeof STATES)[number] | undefined;
  if (state && !STATES.includes(state)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
  const config = loadLenient(configDir(values.config));
  if (!existsSync(config.storage.path)) {
    process.stdout.write(`no incidents: ${config.storage.path} does not exist yet (has the daemon run?)\n`);
    return 0;
  }
  const store = await Store.connect(config.storage.path, { readOnly: true });
  try {
    const m = readOnlyManager(store, alertsConfig(config));
    const list = m.listIncidents({ state, limit: Number(values.limit) });
    process.stdout.write(values.json ? JSON.stringify(list, null, 2) + '\n' : formatIncidents(list, Date.now()) + '\n');
    return 0;
  } finally {
    await store.close();
  }
}

/** `vigil routes test severity=critical provider=openai …`: which receivers an alert with these labels reaches. */
export async function routesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'test') throw new UsageError('usage: vigil routes test label=value … [--config DIR]');
  const { values, positionals } = parse(rest, { config: { type: 'string', short: 'c' } });
  const labels: Record<string, string> = {};
  for (const p of positionals) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${p}" is not label=value`);
    labels[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const config = loadLenient(configDir(values.config));
  const cfg = alertsConfig(config);
  const store = existsSync(config.storage.path) ? await Store.connect(config.storage.path, { readOnly: true }) : null;
  try {
    // With a store, API-created silences count too; without one, only those in alerts/*.yaml.
    const result = store ? readOnlyManager(store, cfg).routesTest(labels) : routesTest(cfg, labels, cfg.silences, Date.now());
    process.stdout.write(formatRoutesTest(result) + '\n');
    return 0;
  } finally {
    await store?.close();
  }
}

/** `vigil alerts test <owner>`: a test notification through each of the owner's receivers, now. */
export async function alertsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'test') throw new UsageError('usage: vigil alerts test <owner> [--config DIR]');
  const { values, positionals } = parse(rest, { config: { type: 'string', short: 'c' } });
  const owner = positionals[0];
  // Only the receivers' keys: a test notification needs no LLM provider.
  const config = loadForCommand('alerts test', configDir(values.config), (_cfg, missing) => ({ what: `alerts test ${owner ?? ''}`.trim(), missing: missingForOwner(owner ?? '', missing) }));
  const cfg = alertsConfig(config);
  if (!owner) throw new UsageError(`which owner? one of: ${Object.keys(cfg.owners).join(', ') || '(none in alerts/)'}`);
  if (!cfg.owners[owner]) throw new UsageError(`no owner "${owner}" in alerts/; known: ${Object.keys(cfg.owners).join(', ')}`);
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
