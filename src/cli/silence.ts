// `vigil silence add|list|expire`: silences on a running daemon, through its API (like amtool). Changes need
// an admin token: $VIGIL_ADMIN_TOKEN (preferred: a flag shows in `ps`) or --token. The daemon's address is
// --url, else $VIGIL_URL, else the listener that serves the API in the config.
import { request } from 'undici';
import type { VigilConfig } from '../config/types.ts';
import { bearer } from '../server/auth.ts';
import { configDir, parse, splitSub, UsageError } from './args.ts';
import type { Args } from './args.ts';
import { loadLenient } from './load.ts';

const USAGE = `usage:
  vigil silence add label=value label=~regex … (--duration 2h | --ends-at ISO) --comment TEXT --created-by NAME
  vigil silence list [--json]
  vigil silence expire <id>
options: --url URL (else $VIGIL_URL, else the config's API listener), --token T (else $VIGIL_ADMIN_TOKEN), --config DIR`;

export interface SilenceIo {
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
  env?: Record<string, string | undefined>;
}

export async function silenceCommand(argv: Args, io: SilenceIo = {}): Promise<number> {
  const out = io.stdout ?? ((s: string) => process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => process.stderr.write(s));
  const env = io.env ?? process.env;
  const [sub, rest] = splitSub(argv);
  if (!sub || !['add', 'list', 'expire'].includes(sub)) throw new UsageError(USAGE);
  const { values, positionals } = parse(rest, {
    config: { type: 'string', short: 'c' },
    url: { type: 'string' },
    token: { type: 'string' },
    duration: { type: 'string' },
    'ends-at': { type: 'string' },
    'starts-at': { type: 'string' },
    comment: { type: 'string' },
    'created-by': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const base = (values.url ?? env.VIGIL_URL ?? apiUrl(loadLenient(configDir(values.config)))).replace(/\/+$/, '');
  const token = values.token ?? env.VIGIL_ADMIN_TOKEN ?? env.VIGIL_READ_TOKEN;
  const call = async (method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = bearer(token);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(base + path, { method: method as 'GET', headers, body: body === undefined ? undefined : JSON.stringify(body), headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await res.body.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // a non-JSON answer (a proxy's error page): reported below by status
    }
    return { status: res.statusCode, json };
  };
  const fail = (status: number, json: Record<string, unknown>) => {
    const hint = status === 401 ? (token ? ' (is VIGIL_ADMIN_TOKEN the daemon\'s admin token?)' : ' (set VIGIL_ADMIN_TOKEN or pass --token)') : '';
    err(`vigil silence: ${status} ${String(json.error ?? '')}: ${String(json.message ?? 'request failed')}${hint}\n`);
    return 1;
  };

  if (sub === 'list') {
    const r = await call('GET', '/api/silences');
    if (r.status !== 200) return fail(r.status, r.json);
    const list = (r.json.silences ?? []) as Record<string, unknown>[];
    if (values.json) out(JSON.stringify(list, null, 2) + '\n');
    else for (const s of list.filter((x) => x.active !== false || x.origin === 'config')) out(formatSilence(s) + '\n');
    return 0;
  }
  if (sub === 'expire') {
    const id = positionals[0];
    if (!id) throw new UsageError('which silence? vigil silence expire <id>');
    const r = await call('DELETE', `/api/silences/${encodeURIComponent(id)}`);
    if (r.status !== 200) return fail(r.status, r.json);
    out(`expired ${id}\n`);
    return 0;
  }
  const matchers: Record<string, string> = {};
  const matchersRe: Record<string, string> = {};
  for (const p of positionals) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)(=~|=)(.*)$/.exec(p);
    if (!m) throw new UsageError(`"${p}" is not label=value or label=~regex`);
    (m[2] === '=~' ? matchersRe : matchers)[m[1]] = m[3];
  }
  const body = {
    ...(Object.keys(matchers).length ? { matchers } : {}),
    ...(Object.keys(matchersRe).length ? { matchers_re: matchersRe } : {}),
    ...(values.duration ? { duration: values.duration } : {}),
    ...(values['ends-at'] ? { ends_at: values['ends-at'] } : {}),
    ...(values['starts-at'] ? { starts_at: values['starts-at'] } : {}),
    comment: values.comment ?? '',
    created_by: values['created-by'] ?? env.USER ?? '',
  };
  const r = await call('POST', '/api/silences', body);
  if (r.status !== 201) return fail(r.status, r.json);
  out(`${String(r.json.id)}\n`);
  return 0;
}

/** http://host:port of the listener serving the API; a wildcard bind is reached on loopback. */
export function apiUrl(config: VigilConfig): string {
  const l = config.server.listeners.find((x) => x.serve.includes('api')) ?? config.server.listeners[0];
  const host = ['0.0.0.0', '::', ''].includes(l.host) ? '127.0.0.1' : l.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${l.port}`;
}

function formatSilence(s: Record<string, unknown>): string {
  const eq = Object.entries((s.matchers ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const re = Object.entries((s.matchersRe ?? {}) as Record<string, string>).map(([k, v]) => `${k}=~${JSON.stringify(v)}`);
  const until = typeof s.endsAt === 'number' ? new Date(s.endsAt).toISOString() : '?';
  return `${String(s.id)}  ${[...eq, ...re].join(', ')}  until ${until}  ${String(s.createdBy ?? '')}: ${String(s.comment ?? '')}`;
}
