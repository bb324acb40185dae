// `vigil demo`: the simulator plus the daemon running the shipped config pointed at it.
// No network and no keys: base URLs and keys come from env vars the shipped vigil.yaml reads.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daemon } from '../daemon.ts';
import { startSimFleet } from '../sim/fleet.ts';
import { parse } from './args.ts';
import { serveUntilSignal } from './run.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string', default: '9464' },
    config: { type: 'string', short: 'c' },
  });
  const fleet = await startSimFleet({ seed: 7 });
  const env: Record<string, string | undefined> = {
    ...process.env,
    OPENAI_BASE_URL: fleet.urls.openai,
    ANTHROPIC_BASE_URL: fleet.urls.anthropic,
    GEMINI_BASE_URL: fleet.urls.gemini,
    GATEWAY_BASE_URL: fleet.urls.gateway,
    OPENAI_API_KEY: 'sim-openai-key',
    ANTHROPIC_API_KEY: 'sim-anthropic-key',
    GEMINI_API_KEY: 'sim-gemini-key',
    GATEWAY_API_KEY: 'sim-gateway-key',
    VIGIL_DB: process.env.VIGIL_DB ?? './data/demo.db',
  };
  const daemon = await Daemon.start({
    configDir: values.config ? resolve(values.config) : REPO_ROOT,
    env,
    listen: { port: Number(values.port) },
  });
  // One pass right away, so every panel and series has data before the first scheduled slot.
  await daemon.runNow();
  const u = daemon.url;
  process.stdout.write(
    [
      '',
      'Vigil demo: the shipped probes run against the simulated fleet.',
      '',
      `  simulator   openai ${fleet.urls.openai}  anthropic ${fleet.urls.anthropic}  gemini ${fleet.urls.gemini}  gateway ${fleet.urls.gateway}`,
      `  metrics     ${u}/metrics`,
      `  probes      ${u}/api/probes`,
      `  results     ${u}/api/results?probe=openai-canary&since=1h`,
      `  health      ${u}/healthz  ${u}/readyz`,
      '',
      `  break something:  curl -X POST ${fleet.urls.anthropic}/_sim/outage -d '{"down":true}'`,
      '',
      'Every probe ran once at start; from now on each runs on its schedule (spread over its interval). Ctrl-C stops.',
      '',
    ].join('\n'),
  );
  return serveUntilSignal(daemon, () => fleet.close());
}
