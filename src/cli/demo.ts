// `vigil demo`: the simulator plus the daemon running the shipped config pointed at it.
// No network and no keys: base URLs and keys come from env vars the shipped vigil.yaml reads.
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daemon } from '../daemon.ts';
import type { LogFormat } from '../log.ts';
import { simEnv } from '../sim/env.ts';
import { startSimFleet } from '../sim/fleet.ts';
import { seedDemoHistory } from '../ui/seed-history.ts';
import type { DemoHistory } from '../ui/seed-history.ts';
import { parse } from './args.ts';
import { DEMO_DB, shown } from './store-path.ts';
import type { Args } from './args.ts';
import { captureStopSignals, parsePort, serveUntilSignal } from './run.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** Matches the prompts of probes/safety-benign.yaml and probes/safety-should-refuse.yaml. */
export const DEMO_REFUSALS = [
  { match: 'Answer in one sentence', rate: 0.02 },
  { match: 'private home address', rate: 1 },
  { match: 'credit card number', rate: 1 },
  { match: 'hurt their dog', rate: 1 },
  { match: 'banking password', rate: 1 },
];

/** `59,209 results over the past 30 days, 63 incidents; seeded in 4.1 s`, or on a restart what was kept. */
export function historyLine(h: DemoHistory): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const head = `${n(h.totalResults)} results over the past ${h.days} days, ${n(h.totalIncidents)} incidents`;
  const secs = (h.ms / 1000).toFixed(1);
  if (!h.kept) return `${head}; seeded in ${secs} s`;
  return `${head}; kept from the last run${h.results ? `, ${n(h.results)} added for the time it was stopped (${secs} s)` : ''}`;
}

/**
 * The demo's human text shares the terminal with its log, so JSON lines never go there: the log is pretty unless
 * JSON is asked for, and asked-for JSON goes to a file when stderr is a terminal (else to stderr, redirected).
 */
export function demoLogging(asked: string | undefined, stderrIsTty: boolean, file: string): { format: LogFormat; file: string | null } {
  if (asked !== 'json') return { format: 'pretty', file: null };
  return { format: 'json', file: stderrIsTty ? file : null };
}

export async function demoCommand(argv: Args): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string', default: '9464' },
    config: { type: 'string', short: 'c' },
    'no-history': { type: 'boolean', default: false },
  });
  const signals = captureStopSignals();
  const configDir = values.config ? resolve(values.config) : REPO_ROOT;
  // Beside the shipped config's data/vigil.db, where the read commands look for it (src/cli/store-path.ts).
  const dbPath = process.env.VIGIL_DB ?? join(configDir, 'data', DEMO_DB);
  // Set in the process env: the daemon's logger, and the fault proxy it spawns, read them.
  const logging = demoLogging(process.env.VIGIL_LOG_FORMAT, process.stderr.isTTY === true, join(dirname(dbPath), 'demo.log'));
  process.env.VIGIL_LOG_FORMAT = logging.format;
  if (logging.file) process.env.VIGIL_LOG_FILE = logging.file;
  // Each provider with its own latency profile and weekly shape (src/sim/profiles.ts).
  const fleet = await startSimFleet({ seed: 7, realistic: true });
  // The simulated models behave like real ones on the shipped safety sets: benign borderline prompts are
  // refused 2% of the time, should-refuse prompts always; canaries never.
  for (const s of [fleet.openai, fleet.anthropic, fleet.gemini]) s.patch({ refusalOverrides: DEMO_REFUSALS });
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...simEnv(fleet.urls),
    VIGIL_DB: dbPath,
    VIGIL_CHAOS_PORT: process.env.VIGIL_CHAOS_PORT ?? '0',
    // Changes through the API need an admin token even on loopback; the demo makes one and prints it.
    VIGIL_ADMIN_TOKEN: process.env.VIGIL_ADMIN_TOKEN || randomBytes(24).toString('base64url'),
  };
  // A month of compressed history before the daemon starts, so every status page panel has something to show;
  // on a restart only the gap since the last run is filled.
  const seeded = values['no-history'] ? null : await seedDemoHistory({ configDir, env, fleet });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ configDir, env, listen: { port: parsePort(values.port) } });
  } catch (err) {
    // The simulator must not keep the process alive after a failed start.
    await Promise.race([fleet.close(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    throw err;
  }
  // The simulated gateway's primary (Anthropic) goes through Vigil's fault proxy, as a real gateway's drill
  // deployment would, so the shipped drill really exercises the fallback.
  if (daemon.chaos) {
    const gw = fleet.gatewayConfig();
    gw.targets = gw.targets.map((t) => (t.provider === 'anthropic' ? { ...t, baseUrl: daemon.chaos!.upstreamUrl('anthropic') } : t));
  }
  // One pass right away, so every panel and series has data before the first scheduled slot.
  await daemon.runNow();
  // Each drill once, in the background, so the drills page shows a real run (the fault goes through the proxy
  // and the simulated gateway really falls back) rather than "never run".
  void (async () => {
    for (const drill of daemon.drills?.specs() ?? []) {
      await daemon.drills!.run(drill.id).catch((err) => daemon.log.warn('demo drill failed to run', { drill: drill.id, error: String(err) }));
    }
  })();
  const u = daemon.url;
  process.stdout.write(
    [
      '',
      'Vigil demo: the shipped probes run against the simulated fleet.',
      '',
      `  status page ${u}/`,
      ...(seeded ? [`  history     ${historyLine(seeded)}`] : []),
      `  simulator   openai ${fleet.urls.openai}  anthropic ${fleet.urls.anthropic}  gemini ${fleet.urls.gemini}  gateway ${fleet.urls.gateway}`,
      `  metrics     ${u}/metrics`,
      `  probes      ${u}/api/probes`,
      `  results     ${u}/api/results?probe=openai-canary&since=1h`,
      `  health      ${u}/healthz  ${u}/readyz`,
      ...(logging.file ? [`  log (JSON)  ${logging.file}`] : []),
      `  incidents   ${u}/api/incidents      drills ${u}/api/drills`,
      `  store       ${shown(dbPath)}: \`npm run vigil -- incidents\` (and report, deprecations, routes test) read it from here; elsewhere add --db ${dbPath}`,
      '',
      `  admin token for this run (silences and other changes):  export VIGIL_ADMIN_TOKEN=${env.VIGIL_ADMIN_TOKEN}`,
      `  then e.g.  npm run vigil -- silence add --url ${u} provider=gemini --duration 1h --comment "demo" --created-by me`,
      '',
      `  break something:  curl -X POST ${fleet.urls.anthropic}/_sim/outage -d '{"down":true}'`,
      '',
      'Every probe ran once at start; from now on each runs on its schedule (spread over its interval). Ctrl-C stops.',
      '',
    ].join('\n'),
  );
  return serveUntilSignal(daemon, signals, () => fleet.close());
}
