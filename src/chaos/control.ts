// HTTP control surface of the chaos proxy, so the daemon, `vigil drill` or an operator in another process can
// drive it:
//   GET    /proxy/_health          liveness, no token (says nothing about faults)
//   GET    /proxy/_faults          list live faults
//   GET    /proxy/_faults/<id>     one fault
//   POST   /proxy/_faults          inject one fault (JSON body, see faults.ts; `ttl` required); 201 {id, expires_at, fault}
//   DELETE /proxy/_faults          clear all (the "halt" button)
//   DELETE /proxy/_faults/<id>     clear one
//   GET    /proxy/_status          pid, uptime, live faults, connections (for the daemon that adopts a running proxy)
// Every call but _health needs `Authorization: Bearer <token>`; with no token configured the control API refuses
// everything (issue 13: an anonymous POST made a fault that hit all traffic).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { FaultLimitError, FaultValidationError } from './faults.ts';
import type { FaultView } from './faults.ts';

export const CONTROL_PATH = '/proxy/_faults';
export const STATUS_PATH = '/proxy/_status';
export const HEALTH_PATH = '/proxy/_health';
/** A fault is a few hundred bytes of JSON; anything much larger is not one. */
export const MAX_CONTROL_BODY = 64 * 1024;

export interface FaultControl {
  inject(fault: unknown): string;
  clear(id?: string): number;
  list(): FaultView[];
  status(): Record<string, unknown>;
}

export interface ControlResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Constant-time compare of the bearer token against each accepted one (several during a rotation). */
export function tokenOk(accepted: readonly string[], headers: IncomingHttpHeaders): boolean {
  const auth = headers.authorization;
  if (typeof auth !== 'string' || accepted.length === 0) return false;
  const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
  if (!m) return false;
  const given = Buffer.from(m[1]);
  let ok = false;
  for (const t of accepted) {
    const want = Buffer.from(t);
    // Compare every token, even after a match, so timing says nothing about which one (or whether) matched.
    if (want.length > 0 && want.length === given.length && timingSafeEqual(want, given)) ok = true;
  }
  return ok;
}

function decodeId(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/**
 * `path` is the request path (no query): CONTROL_PATH[/<id>] or STATUS_PATH. Pure apart from the FaultControl
 * calls; never throws for any input (an unexpected error is the caller's 500).
 */
export function handleControl(api: FaultControl, method: string, path: string, headers: IncomingHttpHeaders, body: string, tokens: readonly string[]): ControlResult {
  if (tokens.length === 0) return { status: 401, body: { error: 'control API disabled: no control token is configured (chaos.control_token or VIGIL_CHAOS_TOKEN)' } };
  if (!tokenOk(tokens, headers)) return { status: 401, body: { error: 'missing or wrong control token (Authorization: Bearer <token>)' }, headers: { 'www-authenticate': 'Bearer' } };
  if (path === STATUS_PATH) return method === 'GET' ? { status: 200, body: api.status() } : { status: 405, body: { error: `method ${method} not allowed` }, headers: { allow: 'GET' } };
  const subpath = path.slice(CONTROL_PATH.length);
  let id: string | null = null;
  if (subpath !== '') {
    if (!subpath.startsWith('/') || subpath.length === 1 || subpath.indexOf('/', 1) >= 0) return { status: 404, body: { error: 'not found' } };
    id = decodeId(subpath.slice(1));
    if (id === null) return { status: 400, body: { error: 'bad percent-encoding in the fault id' } };
  }
  switch (method) {
    case 'GET': {
      const faults = api.list();
      if (id === null) return { status: 200, body: { faults } };
      const f = faults.find((x) => x.id === id);
      return f ? { status: 200, body: f } : { status: 404, body: { error: `no fault ${id}` } };
    }
    case 'POST': {
      if (id !== null) return { status: 405, body: { error: `POST ${CONTROL_PATH} with the fault as JSON` }, headers: { allow: 'GET, DELETE' } };
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return { status: 400, body: { error: 'body is not valid JSON' } };
      }
      // Remote callers state how long a fault lives; the proxy never guesses it for them.
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && (parsed as { ttl?: unknown }).ttl === undefined) {
        return { status: 400, body: { error: 'invalid fault', issues: ['ttl: required (e.g. "2m"); the proxy drops the fault after it, whatever happens'] } };
      }
      try {
        const newId = api.inject(parsed);
        const fault = api.list().find((x) => x.id === newId);
        return { status: 201, body: { id: newId, expires_at: fault?.expires_at ?? null, fault } };
      } catch (err) {
        if (err instanceof FaultValidationError) return { status: 400, body: { error: 'invalid fault', issues: err.issues } };
        if (err instanceof FaultLimitError) {
          return { status: err.status, body: { error: err.message }, headers: err.retryAfterSec !== null ? { 'retry-after': String(err.retryAfterSec) } : undefined };
        }
        throw err;
      }
    }
    case 'DELETE': {
      if (id === null) return { status: 200, body: { cleared: api.clear() } };
      const n = api.clear(id);
      return n > 0 ? { status: 200, body: { cleared: n } } : { status: 404, body: { error: `no fault ${id}` } };
    }
    default:
      return { status: 405, body: { error: `method ${method} not allowed` }, headers: { allow: id === null ? 'GET, POST, DELETE' : 'GET, DELETE' } };
  }
}
