// The `server:` section of vigil.yaml: listeners, who may do what (tokens and roles), the Host allow-list and
// resource limits. Plugged into vigilFileSchema; mapped to startServer options by `serverSettings`.
//
//   server:
//     host: 127.0.0.1            # the single listener when `listeners` is absent (serves everything)
//     port: 9464
//     public_url: https://vigil.example.com
//     auth:
//       admin_tokens: ["${VIGIL_ADMIN_TOKEN:-}", "${VIGIL_ADMIN_TOKEN_PREVIOUS:-}"]   # several: rotation
//       read_tokens: ["${VIGIL_READ_TOKEN:-}"]
//       public_read: true        # status page, GET /api/*, /metrics without a token
//     allowed_hosts: [vigil.example.com]
//     listeners:
//       - { name: api, host: 127.0.0.1, port: 9464, serve: [api, status, metrics] }
//       - { name: hooks, host: 0.0.0.0, port: 9466, serve: [webhooks] }
//     limits: { max_connections: 1024, headers_timeout: 10s, request_timeout: 30s, keep_alive_timeout: 5s,
//               body_budget: 32MiB, max_silences: 1000, silences_per_minute: 30 }
import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';
import { AREAS, isLoopbackHost } from './access.ts';
import type { Area } from './access.ts';
import type { AuthSettings } from './auth.ts';
import { MIN_TOKEN_LENGTH } from './auth.ts';
import type { ServerLimits } from './limits.ts';
import { DEFAULT_LIMITS } from './limits.ts';

/** `server.limits` when absent, in config units (the schema and the server block's own default share it). */
const LIMIT_DEFAULTS = {
  max_connections: DEFAULT_LIMITS.maxConnections,
  headers_timeout: '10s',
  request_timeout: '30s',
  keep_alive_timeout: '5s',
  body_budget: '32MiB',
  max_silences: DEFAULT_LIMITS.maxSilences,
  silences_per_minute: DEFAULT_LIMITS.silencesPerMinute,
};

const duration = (what: string, dflt: string) =>
  z
    .string()
    .refine((s) => parseDuration(s) !== null, 'a duration such as "10s"')
    .default(dflt)
    .describe(what);

// An empty entry is an unset optional variable (`${VIGIL_ADMIN_TOKEN_PREVIOUS:-}`): ignored.
const token = z
  .string()
  .refine((s) => s === '' || s.length >= MIN_TOKEN_LENGTH, `a token must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`);

const bytes = z
  .union([z.number().int().min(1024), z.string().regex(/^\d+(\.\d+)?\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i, 'bytes, e.g. 33554432 or "32MiB"')])
  .describe('Bytes, as a number or with a unit ("32MiB").');

export const listenerSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, "_" and "-"').describe('Name (logs, `vigil` output).'),
    host: z.string().default('127.0.0.1').describe('Bind address. Anything but loopback that serves `api` needs an admin token.'),
    port: z.number().int().min(0).max(65535).describe('Port (0 picks a free one).'),
    serve: z
      .array(z.enum(AREAS))
      .min(1)
      .describe('What this listener serves: api (/api/*), status (the status page), metrics (/metrics), webhooks (/webhooks/*). /healthz and /readyz are on every listener.'),
  })
  .describe('One HTTP listener.');

export const serverConfigSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1').describe('Address the HTTP server binds to (when `listeners` is not given).'),
    port: z.number().int().min(0).max(65535).default(9464).describe('Port for /metrics, /healthz, /api, the status page and webhooks (when `listeners` is not given).'),
    public_url: z
      .union([z.literal(''), z.string().regex(/^https?:\/\/[^\s/$.?#][^\s]*$/, 'an http(s) URL')])
      .optional()
      .describe('URL others use to reach Vigil (links in notifications; its host is always an allowed Host); absent or empty: the address Vigil actually listens on (after --port), with the machine name for 0.0.0.0.'),
    auth: z
      .strictObject({
        admin_tokens: z.array(token).default([]).describe('Bearer tokens for the admin role (silences and every other change). Several allow rotation. Never printed.'),
        read_tokens: z.array(token).default([]).describe('Bearer tokens for the read role (status page, GET /api/*, /metrics) when public_read is false. Admin tokens read too. Never printed.'),
        public_read: z.boolean().default(true).describe('Serve the status page, GET /api/* and /metrics without a token.'),
      })
      .default({ admin_tokens: [], read_tokens: [], public_read: true })
      .describe('Who may do what. Without an admin token every change through the API is refused (401).'),
    allowed_hosts: z
      .array(z.string().regex(/^(\*|(\*\.)?[A-Za-z0-9.-]+)$/, 'a host name, "*.example.com", or "*" (no check)'))
      .default([])
      .describe('Host header values accepted besides IP addresses, localhost and the public_url host (DNS-rebinding guard). "*" turns the check off.'),
    listeners: z.array(listenerSchema).min(1).optional().describe('Separate listeners, e.g. webhooks public on one port and the API on loopback on another. Replaces host/port.'),
    limits: z
      .strictObject({
        max_connections: z.number().int().min(16).max(100_000).default(DEFAULT_LIMITS.maxConnections).describe('Open connections per listener; past it the oldest connection without a request in progress is closed.'),
        headers_timeout: duration('A client must send its complete request headers within this.', '10s'),
        request_timeout: duration('A client must send its complete request (headers and body) within this.', '30s'),
        keep_alive_timeout: duration('An idle keep-alive connection is closed after this.', '5s'),
        body_budget: bytes.default('32MiB'),
        max_silences: z.number().int().min(1).max(100_000).default(DEFAULT_LIMITS.maxSilences).describe('Most API silences not yet over; past it creating one is a 409.'),
        silences_per_minute: z.number().int().min(1).max(10_000).default(DEFAULT_LIMITS.silencesPerMinute).describe('Most silences created per minute; past it a 429 with Retry-After.'),
      })
      .default(LIMIT_DEFAULTS)
      .describe('Resource limits for every listener.'),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    (s.listeners ?? []).forEach((l, i) => {
      if (names.has(l.name)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'name'], message: `listener name "${l.name}" used twice` });
      names.add(l.name);
    });
    const served = new Set((s.listeners ?? []).flatMap((l) => l.serve));
    if (s.listeners) {
      for (const area of AREAS) {
        if (!served.has(area)) ctx.addIssue({ code: 'custom', path: ['listeners'], message: `no listener serves "${area}"; add it to one listener's serve list` });
      }
    }
    // Refuse, don't warn: an exposed API whose changes nobody can authenticate is a misconfiguration.
    const hasAdmin = s.auth.admin_tokens.some((t) => t !== '');
    for (const problem of exposureProblems(listenersOf(s), hasAdmin)) {
      ctx.addIssue({ code: 'custom', path: problem.index === null ? ['host'] : ['listeners', problem.index, 'host'], message: problem.message });
    }
  })
  .default({
    host: '127.0.0.1',
    port: 9464,
    auth: { admin_tokens: [], read_tokens: [], public_read: true },
    allowed_hosts: [],
    limits: LIMIT_DEFAULTS,
  })
  .describe('HTTP server: listeners, authentication, Host allow-list, limits.');

export type ServerConfigInput = z.output<typeof serverConfigSchema>;

export interface ListenerSpec {
  name: string;
  host: string;
  port: number;
  serve: Area[];
}

/** The listeners a `server:` section asks for: its `listeners`, or one on host:port serving everything. */
export function listenersOf(s: Pick<ServerConfigInput, 'host' | 'port' | 'listeners'>): ListenerSpec[] {
  return s.listeners ? s.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, serve: [...l.serve] })) : [{ name: 'main', host: s.host, port: s.port, serve: [...AREAS] }];
}

/**
 * Listeners reachable beyond this machine that serve the API while no admin token is set. The API is where
 * changes happen; with no token they are all refused, but an exposed API that looks protected and is not
 * configurable is a trap, so `validate` and `run` refuse it outright.
 */
export function exposureProblems(listeners: readonly ListenerSpec[], hasAdminToken: boolean): { index: number | null; message: string }[] {
  if (hasAdminToken) return [];
  const single = listeners.length === 1 && listeners[0].name === 'main';
  return listeners.flatMap((l, i) =>
    !isLoopbackHost(l.host) && l.serve.includes('api')
      ? [
          {
            index: single ? null : i,
            message: `listener ${single ? '' : `"${l.name}" `}on ${l.host || '(all interfaces)'} serves the API beyond loopback but no admin token is set; set server.auth.admin_tokens (e.g. "\${VIGIL_ADMIN_TOKEN}"), bind 127.0.0.1, or serve only webhooks there`,
          },
        ]
      : [],
  );
}

export interface ServerSettings {
  listeners: ListenerSpec[];
  publicUrl: string;
  /** public_url was not set: the daemon replaces publicUrl with the address it really listens on. */
  publicUrlFromListen: boolean;
  auth: AuthSettings;
  allowedHosts: string[];
  limits: ServerLimits;
}

const UNIT: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3 };

export function parseBytes(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  if (!m) throw new Error(`unvalidated byte size ${JSON.stringify(v)}`);
  return Math.floor(Number(m[1]) * (UNIT[(m[2] || 'b').toLowerCase()] ?? 1));
}

export function serverSettings(s: ServerConfigInput): ServerSettings {
  const ms = (t: string) => parseDuration(t)!;
  const listeners = listenersOf(s);
  const first = listeners.find((l) => l.serve.includes('api')) ?? listeners[0];
  const h = first.host.includes(':') ? `[${first.host}]` : first.host;
  return {
    listeners,
    publicUrl: (s.public_url || `http://${h}:${first.port}`).replace(/\/+$/, ''),
    publicUrlFromListen: !s.public_url,
    auth: {
      adminTokens: s.auth.admin_tokens.filter((t) => t !== ''),
      readTokens: s.auth.read_tokens.filter((t) => t !== ''),
      publicRead: s.auth.public_read,
    },
    allowedHosts: s.allowed_hosts,
    limits: {
      maxConnections: s.limits.max_connections,
      headersTimeoutMs: ms(s.limits.headers_timeout),
      requestTimeoutMs: ms(s.limits.request_timeout),
      keepAliveTimeoutMs: ms(s.limits.keep_alive_timeout),
      bodyBudgetBytes: parseBytes(s.limits.body_budget),
      maxSilences: s.limits.max_silences,
      silencesPerMinute: s.limits.silences_per_minute,
    },
  };
}
