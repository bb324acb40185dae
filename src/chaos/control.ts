// HTTP control surface of the chaos proxy, so an operator or a drill runner in another process can drive it:
//   GET    /proxy/_faults          list live faults
//   GET    /proxy/_faults/<id>     one fault
//   POST   /proxy/_faults          inject one fault (JSON body, see faults.ts); 201 {id, expires_at, fault}
//   DELETE /proxy/_faults          clear all (the "halt" button)
//   DELETE /proxy/_faults/<id>     clear one
// With a control token configured, every call needs `Authorization: Bearer <token>`.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { FaultValidationError } from './faults.ts';
import type { FaultView } from './faults.ts';

export const CONTROL_PATH = '/proxy/_faults';

export interface FaultControl {
  inject(fault: unknown): string;
  clear(id?: string): number;
  list(): FaultView[];
}

export interface ControlResult {
  status: number;
  body: unknown;
}

function tokenOk(expected: string | undefined, headers: IncomingHttpHeaders): boolean {
  if (expected === undefined || expected === '') return true;
  const auth = headers.authorization;
  const given = typeof auth === 'string' && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : '';
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `subpath` is what follows CONTROL_PATH ('' or '/<id>'). Pure apart from the FaultControl calls. */
export function handleControl(
  api: FaultControl,
  method: string,
  subpath: string,
  headers: IncomingHttpHeaders,
  body: string,
  token?: string,
): ControlResult {
  if (!tokenOk(token, headers)) return { status: 401, body: { error: 'missing or wrong control token (Authorization: Bearer <token>)' } };
  const id = subpath.startsWith('/') && subpath.length > 1 ? decodeURIComponent(subpath.slice(1)) : null;
  if (subpath !== '' && id === null) return { status: 404, body: { error: 'not found' } };
  switch (method) {
    case 'GET': {
      const faults = api.list();
      if (id === null) return { status: 200, body: { faults } };
      const f = faults.find((x) => x.id === id);
      return f ? { status: 200, body: f } : { status: 404, body: { error: `no fault ${id}` } };
    }
    case 'POST': {
      if (id !== null) return { status: 405, body: { error: `POST ${CONTROL_PATH} with the fault as JSON` } };
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return { status: 400, body: { error: 'body is not valid JSON' } };
      }
      try {
        const newId = api.inject(parsed);
        const fault = api.list().find((x) => x.id === newId);
        return { status: 201, body: { id: newId, expires_at: fault?.expires_at ?? null, fault } };
      } catch (err) {
        if (err instanceof FaultValidationError) return { status: 400, body: { error: 'invalid fault', issues: err.issues } };
        throw err;
      }
    }
    case 'DELETE': {
      if (id === null) return { status: 200, body: { cleared: api.clear() } };
      const n = api.clear(id);
      return n > 0 ? { status: 200, body: { cleared: n } } : { status: 404, body: { error: `no fault ${id}` } };
    }
    default:
      return { status: 405, body: { error: `method ${method} not allowed` } };
  }
}
