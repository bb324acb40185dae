// How the drill runner reaches the chaos proxy: the in-process API (the daemon runs the proxy) or the proxy's
// HTTP control API (/proxy/_faults: a proxy in another process, e.g. `vigil drill` next to a running daemon).
// Both are async so the runner treats them alike; either may fail, and the runner rolls back regardless.
import type { FaultInput, FaultView } from './faults.ts';
import { CONTROL_PATH } from './control.ts';

export interface FaultDriver {
  /** Where faults go, for the journal (never includes a token). */
  readonly describe: string;
  inject(fault: FaultInput): Promise<string>;
  /** Clear one fault (or all without an id); resolves to how many were removed. */
  clear(id?: string): Promise<number>;
  list(): Promise<FaultView[]>;
}

/** The proxy object from startChaosProxy / createChaosProxyHandler. */
export function inProcessDriver(proxy: { inject(f: FaultInput): string; clear(id?: string): number; list(): FaultView[] }, describe = 'in-process chaos proxy'): FaultDriver {
  return {
    describe,
    inject: async (f) => proxy.inject(f),
    clear: async (id) => proxy.clear(id),
    list: async () => proxy.list(),
  };
}

export class FaultControlError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.name = 'FaultControlError';
    this.status = status;
  }
}

export interface HttpDriverOptions {
  /** Bearer token for the control API (chaos.control_token). Never logged. */
  token?: string;
  /** Per call (default 5 s): a control call that hangs must not hold the drill (toxiproxy #500, #558). */
  timeoutMs?: number;
}

/** `baseUrl`: the proxy's base, e.g. http://127.0.0.1:9465 (with or without a trailing /proxy/_faults). */
export function httpDriver(baseUrl: string, opts: HttpDriverOptions = {}): FaultDriver {
  const root = baseUrl.replace(/\/+$/, '').replace(new RegExp(`${CONTROL_PATH}$`), '');
  const url = root + CONTROL_PATH;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const call = async (method: string, path = '', body?: unknown): Promise<unknown> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let res: Response;
    try {
      res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new FaultControlError(`chaos proxy at ${root} unreachable (${cause})`, null);
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON: reported below with the status.
    }
    if (!res.ok) {
      const j = json as { error?: unknown; issues?: unknown } | null;
      const issues = Array.isArray(j?.issues) ? `: ${(j!.issues as string[]).join('; ')}` : '';
      throw new FaultControlError(`chaos proxy ${method} ${CONTROL_PATH}${path}: HTTP ${res.status} ${typeof j?.error === 'string' ? j.error : text.slice(0, 200)}${issues}`, res.status);
    }
    return json;
  };
  return {
    describe: `chaos proxy control API at ${root}`,
    async inject(f) {
      const r = (await call('POST', '', f)) as { id?: unknown };
      if (typeof r?.id !== 'string') throw new FaultControlError('chaos proxy answered without a fault id', 201);
      return r.id;
    },
    async clear(id) {
      try {
        const r = (await call('DELETE', id === undefined ? '' : `/${encodeURIComponent(id)}`)) as { cleared?: number };
        return typeof r?.cleared === 'number' ? r.cleared : 0;
      } catch (err) {
        // Already gone (expired by its TTL, or cleared by an operator): that is what rollback wants.
        if (err instanceof FaultControlError && err.status === 404) return 0;
        throw err;
      }
    },
    async list() {
      const r = (await call('GET')) as { faults?: FaultView[] };
      return Array.isArray(r?.faults) ? r.faults : [];
    },
  };
}

/** True when something answers on the proxy's control path (any HTTP status): a running daemon's proxy. */
export async function proxyReachable(baseUrl: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(baseUrl.replace(/\/+$/, '') + CONTROL_PATH, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
