// The `chaos:` section of vigil.yaml and its mapping to startChaosProxy options.
//
//   chaos:
//     process: spawn                 # or external: a sidecar started with `vigil proxy` (url: where it is)
//     listen: { host: 127.0.0.1, port: 9465 }
//     max_ttl: 10m
//     default_ttl: 60s
//     control_token: ${VIGIL_CHAOS_TOKEN}
//     upstreams:
//       anthropic: { kind: anthropic, base_url: https://api.anthropic.com }
//       openai:    { kind: openai,    base_url: https://api.openai.com }
//       gemini:    { kind: gemini,    base_url: https://generativelanguage.googleapis.com }
import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';
import type { Clock } from '../clock.ts';
import { MAX_TTL_MS } from './faults.ts';
import type { ChaosProxyOptions } from './proxy.ts';
import { UPSTREAM_KINDS } from './wire.ts';

const duration = (what: string) =>
  z
    .string()
    .refine((s) => parseDuration(s) !== null, 'a duration such as "90s" or "10m"')
    .describe(what);

export const chaosUpstreamSchema = z
  .strictObject({
    kind: z.enum(UPSTREAM_KINDS as [string, ...string[]]).describe('Wire format of the upstream: openai (also OpenAI-compatible), anthropic or gemini.'),
    base_url: z.url({ protocol: /^https?$/ }).describe('Where untouched traffic goes, e.g. https://api.anthropic.com.'),
  })
  .describe('One upstream the proxy forwards /proxy/<name>/... to.');

export const chaosConfigSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().default('127.0.0.1').describe('Bind address; a gateway on another host needs a reachable one (set control_token then).'),
        port: z.number().int().min(0).max(65535).default(9465).describe('Port of the proxy (gateways point their upstream at http://host:port/proxy/<name>).'),
      })
      .default({ host: '127.0.0.1', port: 9465 }),
    upstreams: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, "_" and "-"'), chaosUpstreamSchema)
      .describe('Upstreams by name: /proxy/<name>/... forwards to that base URL.'),
    process: z
      .enum(['spawn', 'external'])
      .default('spawn')
      .describe(
        'spawn: the daemon starts `vigil proxy` as its own process (and stops it on a clean shutdown; it outlives a crash); external: the proxy runs on its own (a sidecar container, `vigil proxy`) at `url`.',
      ),
    url: z.url({ protocol: /^https?$/ }).optional().describe('Where the daemon and `vigil drill` reach the proxy (default: http://<listen.host>:<listen.port>), e.g. http://vigil-proxy:9465.'),
    default_ttl: duration('TTL for faults injected in-process without one (the control API requires a TTL).').default('60s'),
    max_ttl: duration('Longest TTL a fault may ask for (at most 1h).').default('10m'),
    control_token: z
      .union([z.string().min(16), z.array(z.string().min(16)).min(1)])
      .optional()
      .describe(
        'Bearer token(s) the control API accepts (e.g. "${VIGIL_CHAOS_TOKEN}"; a list during a rotation, the first is the one Vigil sends). Required with process: external; with spawn, a random one is made per start when unset. Never printed.',
      ),
    max_faults: z.number().int().min(1).max(1000).default(32).describe('Live faults at most; more is refused with 429.'),
    max_connections: z.number().int().min(1).max(1_000_000).default(4096).describe('Client connections at most; more are refused at accept.'),
    timeouts: z
      .strictObject({
        headers: duration('A request head must arrive within this (slow-header clients are cut).').default('10s'),
        request: duration('A whole request (head and body) must arrive within this (slow-body clients are cut).').default('60s'),
        keep_alive: duration('An idle client connection is closed after this (keep it longer than the gateway keeps its pooled connections).').default('65s'),
        upstream_idle: duration('No byte from the upstream for this long while an answer is due: the exchange is cut.').default('10m'),
      })
      .default({ headers: '10s', request: '60s', keep_alive: '65s', upstream_idle: '10m' }),
  })
  .superRefine((c, ctx) => {
    if (c.process === 'external' && c.control_token === undefined) {
      ctx.addIssue({ code: 'custom', path: ['control_token'], message: 'required with process: external (the daemon authenticates to the sidecar with it), e.g. control_token: "${VIGIL_CHAOS_TOKEN}"' });
    }
  })
  .describe('Fault-injection proxy for fallback drills. Faults live in memory only and never survive a restart.');

export type ChaosConfig = z.output<typeof chaosConfigSchema>;

/** Control tokens from the config, plus VIGIL_CHAOS_TOKEN from the environment (how the daemon passes a generated one). */
export function controlTokens(cfg: ChaosConfig, env: Record<string, string | undefined> = {}): string[] {
  const configured = cfg.control_token === undefined ? [] : typeof cfg.control_token === 'string' ? [cfg.control_token] : cfg.control_token;
  const fromEnv = env.VIGIL_CHAOS_TOKEN ? [env.VIGIL_CHAOS_TOKEN] : [];
  return [...new Set([...configured, ...fromEnv])].filter((t) => t.length > 0);
}

/** Where the daemon and the CLI reach the proxy. */
export function proxyUrl(cfg: ChaosConfig): string {
  if (cfg.url) return cfg.url.replace(/\/+$/, '');
  const host = ['0.0.0.0', '::', ''].includes(cfg.listen.host) ? '127.0.0.1' : cfg.listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${cfg.listen.port}`;
}

/** Options for startChaosProxy from a validated `chaos:` section. */
export function chaosProxyOptions(cfg: ChaosConfig, clock: Clock, onEvent?: ChaosProxyOptions['onEvent'], env: Record<string, string | undefined> = {}): ChaosProxyOptions {
  const maxTtlMs = Math.min(parseDuration(cfg.max_ttl)!, 3_600_000);
  return {
    host: cfg.listen.host,
    port: cfg.listen.port,
    upstreams: Object.fromEntries(
      Object.entries(cfg.upstreams).map(([name, u]) => [name, { kind: u.kind as ChaosProxyOptions['upstreams'][string]['kind'], baseUrl: u.base_url }]),
    ),
    clock,
    defaultTtlMs: Math.min(parseDuration(cfg.default_ttl)!, maxTtlMs),
    maxTtlMs: maxTtlMs || MAX_TTL_MS,
    controlToken: controlTokens(cfg, env),
    maxFaults: cfg.max_faults,
    maxConnections: cfg.max_connections,
    headersTimeoutMs: parseDuration(cfg.timeouts.headers)!,
    requestTimeoutMs: parseDuration(cfg.timeouts.request)!,
    keepAliveTimeoutMs: parseDuration(cfg.timeouts.keep_alive)!,
    upstreamTimeoutMs: parseDuration(cfg.timeouts.upstream_idle)!,
    onEvent,
  };
}
