// The simulated fleet: OpenAI, Anthropic and Gemini servers plus a LiteLLM- and a Portkey-flavoured gateway in
// front of them, all on loopback. `runSimCli` is what `vigil sim` runs.
import { systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import { anthropicHandler } from './anthropic.ts';
import type { SimProvider } from './behaviour.ts';
import { defaultGatewayConfig, gatewayHandler } from './gateway.ts';
import type { GatewayHandler, GatewayTarget } from './gateway.ts';
import { geminiHandler } from './gemini.ts';
import { openaiHandler } from './openai.ts';
import { PROVIDER_LATENCY } from './profiles.ts';
import { SimServer } from './server.ts';
import type { ProviderHandler } from './server.ts';
import type { Flavour, UpstreamProvider } from './translate.ts';

export type SimName = 'openai' | 'anthropic' | 'gemini' | 'litellm' | 'portkey';
export const SIM_NAMES: readonly SimName[] = ['openai', 'anthropic', 'gemini', 'litellm', 'portkey'];

export interface SimFleetOptions {
  /** Time source for diurnal latency, burst expiry and `created` stamps (delays themselves are real time). */
  clock?: Clock;
  /** Seed for jitter, ratios, refusals and ids (default 1). */
  seed?: number;
  /** Loopback only: 127.0.0.1 (default) or ::1. */
  host?: string;
  /** Consecutive ports from here in SIM_NAMES order; 0 or unset = ephemeral ports. */
  portBase?: number;
  /** Per-server port, overriding portBase. */
  ports?: Partial<Record<SimName, number>>;
  /** Which gateway `fleet.gateway` / `urls.gateway` refers to (default litellm). Both are always started. */
  gatewayFlavour?: Flavour;
  /** Fallback list for both gateways (default: anthropic → openai → gemini). */
  gatewayTargets?: GatewayTarget[];
  /** Truth log capacity per server (default 20,000). */
  logCapacity?: number;
  /** Merge patch applied to the openai, anthropic and gemini behaviours at start (and on reset), e.g. fast latency. */
  behaviour?: unknown;
  /** Each provider with its own latency profile (src/sim/profiles.ts) instead of the shared default, as the demo
   * and `vigil sim` run. Applied before `behaviour`. */
  realistic?: boolean;
}

export interface SimFleet {
  openai: SimServer;
  anthropic: SimServer;
  gemini: SimServer;
  /** The gateway of the chosen flavour (same object as `litellm` or `portkey`). */
  gateway: SimServer;
  litellm: SimServer;
  portkey: SimServer;
  servers: SimServer[];
  /** Base URLs: openai, anthropic, gemini, gateway, litellm, portkey. */
  urls: Record<SimName | 'gateway', string>;
  clock: Clock;
  /** Gateway config, mutable (same as GET/PATCH /_sim/gateway). */
  gatewayConfig(flavour?: Flavour): GatewayHandler['config'];
  /** Every server back to default behaviour, truth logs cleared, gateway configs back to their start. */
  reset(): void;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startSimFleet(opts: SimFleetOptions = {}): Promise<SimFleet> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`simulator binds to loopback only, not ${host}`);
  const clock = opts.clock ?? systemClock;
  const seed = opts.seed ?? 1;
  const flavour = opts.gatewayFlavour ?? 'litellm';
  const servers = new Map<SimName, SimServer>();
  const resolveBaseUrl = (p: UpstreamProvider) => servers.get(p)!.url;
  const gw: Record<Flavour, GatewayHandler> = {
    litellm: gatewayHandler({ config: defaultGatewayConfig('litellm', opts.gatewayTargets), resolveBaseUrl }),
    portkey: gatewayHandler({ config: defaultGatewayConfig('portkey', opts.gatewayTargets), resolveBaseUrl }),
  };
  const handlers: Record<SimName, [SimProvider, ProviderHandler]> = {
    openai: ['openai', openaiHandler()],
    anthropic: ['anthropic', anthropicHandler()],
    gemini: ['gemini', geminiHandler()],
    litellm: ['gateway', gw.litellm],
    portkey: ['gateway', gw.portkey],
  };
  try {
    for (const [idx, name] of SIM_NAMES.entries()) {
      const [provider, handler] = handlers[name];
      const s = new SimServer({ name, provider, handler, clock, seed, logCapacity: opts.logCapacity });
      servers.set(name, s);
      if (opts.realistic && provider !== 'gateway') s.patch({ latency: structuredClone(PROVIDER_LATENCY[provider]) });
      if (opts.behaviour !== undefined && provider !== 'gateway') s.patch(opts.behaviour);
      const port = opts.ports?.[name] ?? (opts.portBase ? opts.portBase + idx : 0);
      await s.listen(host, port);
    }
  } catch (err) {
    await Promise.all([...servers.values()].map((s) => s.close().catch(() => {})));
    throw err;
  }
  const get = (n: SimName) => servers.get(n)!;
  const gateway = get(flavour);
  const all = SIM_NAMES.map(get);
  return {
    openai: get('openai'),
    anthropic: get('anthropic'),
    gemini: get('gemini'),
    gateway,
    litellm: get('litellm'),
    portkey: get('portkey'),
    servers: all,
    urls: {
      openai: get('openai').url,
      anthropic: get('anthropic').url,
      gemini: get('gemini').url,
      gateway: gateway.url,
      litellm: get('litellm').url,
      portkey: get('portkey').url,
    },
    clock,
    gatewayConfig: (f = flavour) => gw[f].config,
    reset() {
      for (const s of all) {
        s.reset();
        if (opts.realistic && s.provider !== 'gateway') s.patch({ latency: structuredClone(PROVIDER_LATENCY[s.provider]) });
        if (opts.behaviour !== undefined && s.provider !== 'gateway') s.patch(opts.behaviour);
        s.clearRequests();
      }
      gw.litellm.config = defaultGatewayConfig('litellm', opts.gatewayTargets);
      gw.portkey.config = defaultGatewayConfig('portkey', opts.gatewayTargets);
    },
    async close() {
      await Promise.all(all.map((s) => s.close()));
    },
  };
}

const USAGE = `usage: vigil sim [--port-base N] [--seed N] [--host 127.0.0.1|::1] [--flavour litellm|portkey]

Starts the simulated provider fleet on loopback and stays up until SIGINT/SIGTERM.
Ports from --port-base (default 7100): openai, anthropic, gemini, litellm gateway, portkey gateway.`;

export const DEFAULT_PORT_BASE = 7100;

/** Control API summary printed by the CLI (details in src/sim/control.ts). */
export const CONTROL_API_HELP = `Control API (on every server, JSON):
  GET  /_sim/info | /_sim/behaviour        PATCH /_sim/behaviour {...}   POST /_sim/reset
  POST /_sim/errors {"kind":"rate_limited","ratio":1,"count":3}          DELETE /_sim/errors
  POST /_sim/outage {"down":true}          POST /_sim/refusals {"rate":0.2,"overrides":[{"match":"bleach","rate":1}]}
  POST /_sim/latency {"ttftMs":300}        GET  /_sim/latency?at=2026-01-05T14:00:00Z&tokens=5
  POST /_sim/models/swap {"alias":"gpt-4o-mini","snapshot":"gpt-4o-mini-2025-01-01","fingerprint":"fp_new"}
  POST /_sim/models/remove {"id":"gpt-4o-2024-05-13"}
  GET  /_sim/requests?since=0              GET|PATCH /_sim/gateway (gateways only)
Fault kinds: rate_limited overloaded server_error auth bad_request context_length content_filter timeout reset
             malformed_json cut_stream malformed_sse empty stream_error`;

function parseArgs(argv: string[]): { portBase: number; seed: number; host: string; flavour: Flavour } | null {
  const out = { portBase: DEFAULT_PORT_BASE, seed: 1, host: '127.0.0.1', flavour: 'litellm' as Flavour };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port-base': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 65530) throw new Error('--port-base must be a port number (1-65530)');
        out.portBase = n;
        break;
      }
      case '--seed':
        out.seed = Number(value());
        if (!Number.isFinite(out.seed)) throw new Error('--seed must be a number');
        break;
      case '--host':
        out.host = value();
        break;
      case '--flavour':
      case '--flavor': {
        const f = value();
        if (f !== 'litellm' && f !== 'portkey') throw new Error('--flavour must be litellm or portkey');
        out.flavour = f;
        break;
      }
      case '-h':
      case '--help':
        return null;
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  return out;
}

/** `vigil sim`: start the fleet, print URLs and the control API, run until SIGINT/SIGTERM. */
export async function runSimCli(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (!args) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const fleet = await startSimFleet({ portBase: args.portBase, seed: args.seed, host: args.host, gatewayFlavour: args.flavour, realistic: true });
  const lines = [
    'Vigil simulator up (loopback only):',
    `  openai     ${fleet.urls.openai}      (POST /v1/chat/completions, GET /v1/models)`,
    `  anthropic  ${fleet.urls.anthropic}      (POST /v1/messages, GET /v1/models)`,
    `  gemini     ${fleet.urls.gemini}      (POST /v1beta/models/{model}:generateContent | :streamGenerateContent?alt=sse)`,
    `  litellm    ${fleet.urls.litellm}      (gateway, POST /v1/chat/completions; targets ${fleet.gatewayConfig('litellm').targets.map((t) => t.id ?? t.model).join(' → ')})`,
    `  portkey    ${fleet.urls.portkey}      (gateway, POST /v1/chat/completions)`,
    '',
    CONTROL_API_HELP,
    '',
    'Ctrl-C to stop.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await fleet.close();
}
