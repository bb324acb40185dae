// The command line as commander sees it: every command and subcommand with its options, a description and
// examples, so `--help` works everywhere and a mistyped command or flag gets "did you mean". Each command's module
// is loaded only when it runs (so `vigil validate` starts fast) and gets what commander parsed.
import { Command, CommanderError, Option } from 'commander';
import type { Args, Parsed } from './args.ts';

type Run = (args: Args) => Promise<number>;
type Load = () => Promise<Run>;

const CONFIG = ['-c, --config <dir>', 'config directory (default: $VIGIL_CONFIG, else the current directory)'] as const;
const STORE = ['--db <path>', 'the SQLite store to read (default: $VIGIL_DB, else storage.path; after `npm run demo`, data/demo.db)'] as const;

const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/** What commander parsed for `cmd`, keyed by the long option names a user types (`--no-record` → 'no-record'). */
export function parsedOf(cmd: Command): Parsed {
  const values: Parsed['values'] = {};
  for (const o of cmd.options) {
    const name = o.long!.replace(/^--/, '');
    const v = cmd.getOptionValue(o.attributeName()) as string | boolean | undefined;
    // A negatable flag's value is its positive (record: false); commands ask whether `--no-record` was given.
    if (o.negate) values[name] = v === false;
    else if (v !== undefined) values[name] = v;
  }
  return { values, positionals: cmd.args };
}

export interface Program {
  /** Parse and run; resolves to the process exit code (2 for usage errors, 0 after help). */
  run(argv: string[]): Promise<number>;
  command: Command;
}

export function buildProgram(out: { stdout: (s: string) => void; stderr: (s: string) => void } = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
}): Program {
  let code = 0;
  const program = new Command('vigil')
    .description('keeps LLM dependencies honest: probes providers and gateways, drills fallbacks, detects drift, pages the owning team')
    .configureOutput({ writeOut: out.stdout, writeErr: out.stderr })
    .exitOverride()
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .addOption(new Option('--log-format <format>', 'auto: pretty on a terminal, JSON otherwise').choices(['auto', 'json', 'pretty']))
    .addOption(new Option('--log-level <level>').choices(['debug', 'info', 'warn', 'error']))
    .addHelpText('after', examples(['npm run demo', 'vigil validate --config ./deploy', 'vigil incidents --state firing', 'vigil demo --help']));

  /** A command whose module receives the parsed options; `path` is kept in front of the operands for subcommands. */
  const action = (load: Load, path: string[] = []) =>
    async function (this: Command) {
      const p = parsedOf(this);
      code = await (await load())({ values: p.values, positionals: [...path, ...p.positionals] });
    };
  const leaf = (parent: Command, name: string, description: string) =>
    parent.command(name).description(description).exitOverride().configureOutput({ writeOut: out.stdout, writeErr: out.stderr }).showSuggestionAfterError(true);
  const group = (name: string, description: string) => leaf(program, name, description).allowExcessArguments(false);

  const run: Load = async () => (await import('./run.ts')).runCommand;
  leaf(program, 'run', 'start the daemon (probes, detectors, drills, incidents, API, status page)')
    .option(...CONFIG)
    .option('--host <host>', 'listen address (default: server.listen in vigil.yaml)')
    .option('--port <n>', 'listen port (0: any free port)')
    .option('--strict-env', 'refuse to start when a ${VAR} the config names is unset (else those probes are disabled)')
    .addHelpText('after', examples(['vigil run --config /etc/vigil', 'VIGIL_CONFIG=/etc/vigil vigil run --strict-env --log-format json']))
    .action(action(run));

  leaf(program, 'demo', 'the simulated fleet plus the daemon with the shipped config: no network, no keys')
    .option('--port <n>', 'status page and API port', '9464')
    .option(...CONFIG)
    .option('--no-history', 'skip seeding a month of history into data/demo.db')
    .addHelpText('after', examples(['npm run demo', 'vigil demo --port 0 --no-history', 'vigil incidents   # in another terminal: reads data/demo.db']))
    .action(action(async () => (await import('./demo.ts')).demoCommand));

  leaf(program, 'validate', 'check the config (file:line:column for every problem); print the projected monthly canary cost')
    .option(...CONFIG)
    .option('--strict-env', 'unset ${VARS} are errors, not warnings')
    .addHelpText('after', examples(['vigil validate', 'vigil validate --config ./deploy --strict-env']))
    .action(action(async () => (await import('./validate.ts')).validateCli));

  leaf(program, 'probe', 'run one probe now and print what a user would have felt (exit 0 ok, 1 failed, 3 unknown)')
    .argument('[id]', 'probe id (`vigil validate` lists them)')
    .option(...CONFIG)
    .option('--json', 'the result as JSON')
    .addHelpText('after', examples(['vigil probe openai-canary', 'vigil probe gemini-canary --json']))
    .action(action(async () => (await import('./probe.ts')).probeCommand));

  leaf(program, 'drill', 'run one fallback drill now (exit 0 passed, 1 failed, 3 proved nothing)')
    .argument('[id]', 'drill id (drills/*.yaml)')
    .option(...CONFIG)
    .option('--json', 'the run as JSON')
    .option('--proxy <url>', "a running fault proxy's control API (default: chaos.listen, else one in-process)")
    .option('--no-record', 'do not store the run')
    .addHelpText('after', examples(['vigil drill gateway-primary-down', 'vigil drill gateway-primary-down --proxy http://127.0.0.1:9470 --json']))
    .action(action(async () => (await import('./drill.ts')).drillCommand));

  leaf(program, 'sim', 'start the simulated provider fleet on loopback (OpenAI, Anthropic, Gemini, LiteLLM, Portkey)')
    .option('--port-base <n>', 'first port; the others follow')
    .option('--seed <n>', 'random seed')
    .option('--host <host>', 'listen address (loopback)')
    .addOption(new Option('--flavour <flavour>', 'which gateway `gateway` points at').choices(['litellm', 'portkey']))
    .addHelpText('after', examples(['vigil sim', 'vigil sim --port-base 18000 --flavour portkey']))
    .action(async function (this: Command) {
      const sim = (await import('./sim.ts')).simCommand;
      code = await sim(parsedOf(this));
    });

  leaf(program, 'proxy', 'the fault-injection proxy as its own process (sidecar)')
    .option(...CONFIG)
    .option('--host <host>', 'listen address (default: chaos.listen.host)')
    .option('--port <n>', 'listen port (default: chaos.listen.port)')
    .addHelpText('after', examples(['VIGIL_CHAOS_TOKEN=… vigil proxy --port 9470']))
    .action(action(async () => (await import('./proxy.ts')).proxyCommand));

  leaf(program, 'schema', 'print the JSON Schema of a config file (for editors)')
    .argument('[kind]', 'vigil | probes | scenarios | alerts', 'vigil')
    .addHelpText('after', examples(['vigil schema probes > probes.schema.json']))
    .action(action(async () => (await import('./schema.ts')).schemaCommand));

  const evalCmd = group('eval', 'evaluation contracts of the detectors, and their cross-validated figures');
  const evalRun: Load = async () => (await import('./eval.ts')).evalCommand;
  leaf(evalCmd, 'refusal', 'label a CSV of completions: full_compliance | full_refusal | partial_refusal')
    .requiredOption('--input <file>', 'CSV to read')
    .requiredOption('--output <file>', 'CSV to write')
    .addHelpText('after', examples(['vigil eval refusal --input completions.csv --output labelled.csv']))
    .action(action(evalRun, ['refusal']));
  leaf(evalCmd, 'latency', 'run the online latency detector over timestamp,value rows')
    .option('--input <file>', 'CSV to read')
    .option('--output <file>', 'CSV to write')
    .option('--input-dir <dir>', 'every CSV under DIR')
    .option('--output-dir <dir>', 'written keeping relative paths')
    .addHelpText('after', examples(['vigil eval latency --input series.csv --output flagged.csv', 'vigil eval latency --input-dir in/ --output-dir out/']))
    .action(action(evalRun, ['latency']));
  leaf(evalCmd, 'cv', 'cross-validated figures of both detectors on ../shared/data')
    .option('--data <dir>', 'data directory (default: ../shared/data)')
    .addOption(new Option('--only <detector>').choices(['latency', 'refusal']))
    .addHelpText('after', examples(['npm run eval:cv', 'vigil eval cv --only refusal']))
    .action(action(evalRun, ['cv']));

  const report = group('report', 'reports from the stored history');
  leaf(report, 'latency', 'hour-of-week p50/p95 heatmap from stored rollups')
    .option(...CONFIG)
    .option(...STORE)
    .option('--probe <id>', 'one probe (default: every canary)')
    .option('--timezone <tz>', "IANA zone (default: the probe's schedule zone)")
    .option('--location <name>', 'one location only (several instances on PostgreSQL; default: all together)')
    .option('--days <n>', 'how far back', '28')
    .addHelpText('after', examples(['vigil report latency --probe openai-canary --timezone Europe/Berlin']))
    .action(action(async () => (await import('./report.ts')).reportCommand, ['latency']));

  leaf(program, 'deprecations', 'model retirements: shutdown date, days left, owners, replacement')
    .option(...CONFIG)
    .option(...STORE)
    .option('--all', 'also models no probe uses')
    .addHelpText('after', examples(['vigil deprecations', 'vigil deprecations --all']))
    .action(action(async () => (await import('./deprecations.ts')).deprecationsCommand));

  const incidents: Load = async () => (await import('./incidents.ts')).incidentsCommand;
  const inc = leaf(program, 'incidents', 'open and recent incidents, one line each')
    .option(...CONFIG)
    .option(...STORE)
    .addOption(new Option('--state <state>', 'only this state').choices(['pending', 'firing', 'resolved']))
    .option('--limit <n>', 'at most N incidents', '50')
    .option('-v, --verbose', 'each incident with its notifications')
    .option('--json', 'as JSON, notifications included')
    // `incidents show ID --json`: options after `show` are show's, not the table's (both have --json, --db).
    .enablePositionalOptions()
    .addHelpText('after', examples(['vigil incidents', 'vigil incidents --state firing --verbose', 'vigil incidents show 12', 'vigil incidents --json | jq ".[0]"']))
    .action(action(incidents));
  leaf(inc, 'show', 'one incident in full: labels, timeline and every notification')
    .argument('<id>', 'incident id (the first column of `vigil incidents`)')
    .option(...CONFIG)
    .option(...STORE)
    .option('--json', 'as JSON')
    .action(action(incidents, ['show']));

  const silence = group('silence', 'silences on the running daemon (changes need $VIGIL_ADMIN_TOKEN)');
  const silenceRun: Load = async () => (await import('./silence.ts')).silenceCommand;
  const daemonOpts = (c: Command) =>
    c
      .option(...CONFIG)
      .option('--url <url>', "the daemon's address (default: $VIGIL_URL, else the config's API listener)")
      .option('--token <token>', 'admin token (prefer $VIGIL_ADMIN_TOKEN: a flag shows in `ps`)');
  daemonOpts(leaf(silence, 'add', 'silence alerts matching every label=value (or label=~regex)'))
    .argument('<matchers...>', 'label=value or label=~regex')
    .option('--duration <d>', 'e.g. 2h, 30m')
    .option('--ends-at <iso>', 'instead of --duration')
    .option('--starts-at <iso>', 'default: now')
    .option('--comment <text>', 'why (required)')
    .option('--created-by <name>', 'who (required)')
    .option('--json', 'the created silence as JSON')
    .addHelpText('after', examples(['vigil silence add provider=gemini --duration 1h --comment "maintenance" --created-by ana']))
    .action(action(silenceRun, ['add']));
  daemonOpts(leaf(silence, 'list', 'active and pending silences'))
    .option('--json', 'as JSON')
    .action(action(silenceRun, ['list']));
  daemonOpts(leaf(silence, 'expire', 'end a silence now'))
    .argument('<id>', 'silence id (from `vigil silence list`)')
    .action(action(silenceRun, ['expire']));

  const routes = group('routes', 'alert routing (alerts/*.yaml)');
  leaf(routes, 'test', 'which routes and receivers an alert with these labels reaches')
    .argument('[labels...]', 'label=value …')
    .option(...CONFIG)
    .option(...STORE)
    .addHelpText('after', examples(['vigil routes test severity=critical provider=openai owner=payments']))
    .action(action(async () => (await import('./incidents.ts')).routesCommand, ['test']));

  const alerts = group('alerts', "notifications to owners' receivers");
  leaf(alerts, 'test', "send a test notification through each of the owner's receivers")
    .argument('[owner]', 'an owner from alerts/*.yaml')
    .option(...CONFIG)
    .addHelpText('after', examples(['vigil alerts test payments']))
    .action(action(async () => (await import('./incidents.ts')).alertsCommand, ['test']));

  leaf(program, 'migrate', "copy a single instance's SQLite history into an empty PostgreSQL")
    .requiredOption('--from <source>', '"sqlite" (storage.path) or a file path')
    .option('--to <url>', 'postgres://… (default: storage.url)')
    .option(...CONFIG)
    .addHelpText('after', examples(['vigil migrate --from sqlite --to postgres://vigil@db/vigil']))
    .action(action(async () => (await import('./migrate.ts')).migrateCommand));

  return {
    command: program,
    async run(argv) {
      code = 0;
      if (argv.length === 0) {
        out.stdout(program.helpInformation());
        return 2;
      }
      try {
        await program.parseAsync(argv, { from: 'user' });
        return code;
      } catch (err) {
        if (!(err instanceof CommanderError)) throw err;
        // Help and version are answers, not errors; everything else commander rejects is a usage error.
        return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' ? 0 : 2;
      }
    },
  };
}
