#!/usr/bin/env node
// Vigil CLI: one entry point, one module per command (loaded on demand so `vigil validate` starts fast).
import { takeGlobalOptions, UsageError } from './cli/args.ts';
import { ConfigLoadError, formatErrors } from './config/errors.ts';
import { installCrashPolicy } from './runtime/crash.ts';
import { StartupError } from './runtime/startup.ts';

const USAGE = `vigil: keeps LLM dependencies honest

usage: vigil <command> [options]

  run       [--config DIR] [--port N] [--strict-env]
                                            start the daemon (without --strict-env, probes whose keys
                                            are unset are disabled, not fatal)
  demo      [--port N]                      simulator + daemon with the shipped config, no keys needed
  validate  [--config DIR] [--strict-env]   check the config; print projected monthly canary cost
  probe     <id> [--config DIR] [--json]    run one probe now
  drill     <id> [--config DIR] [--json] [--proxy URL] [--no-record]
                                            run one fallback drill now (exit 0 passed, 1 failed, 3 proved nothing)
  sim       [--port-base N]                 start the simulated provider fleet
  proxy     [--config DIR] [--host H] [--port N]  the fault-injection proxy as its own process (sidecar)
  schema    [vigil|probes|scenarios|alerts] print the JSON Schema of a config file
  eval      refusal --input F --output O    label a CSV of completions (full_compliance|full_refusal|partial_refusal)
  eval      latency --input F --output O    run the online latency detector over timestamp,value rows
            (or --input-dir D --output-dir O, keeping relative paths)
  eval      cv [--data DIR] [--only latency|refusal]
                                            cross-validated figures of both detectors on ../shared/data
  report    latency [--probe ID] [--timezone TZ]  hour-of-week p50/p95 heatmap from stored rollups
  deprecations [--all]                      model retirements: shutdown date, days left, owners, replacement
  incidents [--state S] [--limit N] [--json]  open and recent incidents
  silence   add label=value … --duration 2h --comment C | list | expire <id>
                                            silences on the running daemon (admin token: $VIGIL_ADMIN_TOKEN)
  routes    test label=value ...            which routes and receivers an alert with these labels reaches
  alerts    test <owner>                    send a test notification through each of the owner's receivers
  migrate   --from sqlite|PATH --to postgres://…  copy a single instance's history into an empty PostgreSQL

The config directory defaults to $VIGIL_CONFIG or the current directory.
Logs: --log-format auto|json|pretty (auto: pretty on a terminal, JSON otherwise), --log-level debug|info|warn|error.
`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./cli/run.ts')).runCommand,
  demo: async () => (await import('./cli/demo.ts')).demoCommand,
  validate: async () => (await import('./cli/validate.ts')).validateCli,
  probe: async () => (await import('./cli/probe.ts')).probeCommand,
  sim: async () => (await import('./cli/sim.ts')).simCommand,
  proxy: async () => (await import('./cli/proxy.ts')).proxyCommand,
  schema: async () => (await import('./cli/schema.ts')).schemaCommand,
  eval: async () => (await import('./cli/eval.ts')).evalCommand,
  report: async () => (await import('./cli/report.ts')).reportCommand,
  drill: async () => (await import('./cli/drill.ts')).drillCommand,
  deprecations: async () => (await import('./cli/deprecations.ts')).deprecationsCommand,
  incidents: async () => (await import('./cli/incidents.ts')).incidentsCommand,
  silence: async () => (await import('./cli/silence.ts')).silenceCommand,
  routes: async () => (await import('./cli/incidents.ts')).routesCommand,
  alerts: async () => (await import('./cli/incidents.ts')).alertsCommand,
  migrate: async () => (await import('./cli/migrate.ts')).migrateCommand,
};

async function main(all: string[]): Promise<number> {
  let argv: string[];
  try {
    argv = takeGlobalOptions(all);
  } catch (err) {
    process.stderr.write(`vigil: ${(err as Error).message}\n`);
    return 2;
  }
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vigil ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigLoadError) {
      const n = err.errors.length;
      process.stderr.write(`${formatErrors(err.errors)}\nvigil ${name}: invalid config (${n} error${n === 1 ? '' : 's'})\n`);
      // Nothing worth waiting for was started; whatever a half-done start left open must not delay the exit.
      process.exit(2);
    }
    // One line naming the step, the path or port, and the cause: what a supervisor's log should show.
    if (err instanceof StartupError) {
      process.stderr.write(`vigil ${name}: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}

// An uncaught error anywhere: log it, let the daemon page through its outbox briefly, exit non-zero.
installCrashPolicy();

main(process.argv.slice(2)).then(
  (code) => exitSoon(code),
  (err) => {
    process.stderr.write(`vigil: ${(err as Error).stack ?? err}\n`);
    exitSoon(1);
  },
);

/**
 * Let the event loop drain on its own (stdout flushes, sockets close), but never linger: a handle something left
 * open (a keep-alive socket, a simulator) must not turn a finished command into a process that never exits.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1_000).unref();
}
