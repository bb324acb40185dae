// The `chaos:` section of vigil.yaml (proposal: the lead plugs `chaosConfigSchema` into vigilFileSchema) and its
// mapping to startChaosProxy options.
//
//   chaos:
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
    default_ttl: duration('TTL for faults that give none.').default('60s'),
    max_ttl: duration('Longest TTL a fault may ask for (at most 1h).').default('10m'),
    control_token: z.string().min(16).optional().describe('Bearer token required by /proxy/_faults (e.g. "${VIGIL_CHAOS_TOKEN}"). Never printed.'),
  })
  .describe('Fault-injection proxy for fallback drills. Faults live in memory only and never survive a restart.');

export type ChaosConfig = z.output<typeof chaosConfigSchema>;

/** Options for startChaosProxy from a validated `chaos:` section. */
export function chaosProxyOptions(cfg: ChaosConfig, clock: Clock, onEvent?: ChaosProxyOptions['onEvent']): ChaosProxyOptions {
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
    controlToken: cfg.control_token,
    onEvent,
  };
}
