// Fatal start-up errors as one line a supervisor's log shows: what could not be done, where (path, host:port),
// why (the OS or SQLite code), and what to do. The daemon wraps each start-up step with `startupStep`, so a
// failure anywhere names its step; the CLI prints the line and exits at once (never a stack trace, never a hang).

/** A start-up step failed; `message` is the one line to print. */
export class StartupError extends Error {
  /** Exit status: 2 for a config problem, 1 for everything else. */
  readonly exitCode: number;
  constructor(message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'StartupError';
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** What a step was doing, for the message. */
export type StepTarget =
  | { kind: 'listen'; what: string; host: string; port: number; setting: string }
  | { kind: 'store'; path: string }
  | { kind: 'directory'; path: string; what: string }
  | { kind: 'other'; what: string };

/** Run one start-up step; any error becomes a StartupError naming the step and its target. */
export async function startupStep<T>(target: StepTarget, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StartupError) throw err;
    throw new StartupError(describeFailure(target, err), { cause: err });
  }
}

/** Error code of a Node system error, an undici or SQLite error, or one wrapped in `cause`. */
export function errorCode(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const o = e as { code?: unknown; errcode?: unknown; errstr?: unknown };
    if (o.code === 'ERR_SQLITE_ERROR' && typeof o.errcode === 'number') return sqliteName(o.errcode);
    if (typeof o.code === 'string' && o.code) return o.code;
  }
  return null;
}

export function describeFailure(target: StepTarget, err: unknown): string {
  const code = errorCode(err);
  const reason = oneLine(err);
  switch (target.kind) {
    case 'listen': {
      // With several listeners, the one that failed (Node's listen error carries its address and port).
      const at = listenAddress(err);
      if (at) target = { ...target, host: at.host, port: at.port };
      const where = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
      if (code === 'EADDRINUSE') return `cannot start the ${target.what}: port ${target.port} on ${target.host} is already in use (EADDRINUSE); stop the other process or choose another port (${target.setting})`;
      if (code === 'EACCES') return `cannot start the ${target.what}: not allowed to listen on ${where} (EACCES); ports below 1024 need privileges, choose another port (${target.setting})`;
      if (code === 'EADDRNOTAVAIL') return `cannot start the ${target.what}: address ${target.host} is not on this machine (EADDRNOTAVAIL); fix the host (${target.setting})`;
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot start the ${target.what}: host ${target.host} does not resolve (${code}); fix the host (${target.setting})`;
      return `cannot start the ${target.what} on ${where}: ${reason}`;
    }
    case 'store': {
      const hint = storeHint(code);
      return `cannot open the store ${target.path}: ${reason}${code && !reason.includes(code) ? ` (${code})` : ''}${hint ? `; ${hint}` : ''}`;
    }
    case 'directory': {
      const hint = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'it must be writable by this user' : code === 'ENOSPC' ? 'the disk is full' : '';
      return `cannot create the ${target.what} ${target.path}: ${code ?? reason}${hint ? `; ${hint}` : ''}`;
    }
    case 'other':
      return `cannot start: ${target.what}: ${reason}`;
  }
}

function storeHint(code: string | null): string {
  switch (code) {
    case 'SQLITE_CANTOPEN':
    case 'EACCES':
    case 'EPERM':
      return 'the file and its directory must exist or be creatable, and be writable by this user (WAL creates -wal and -shm files beside it)';
    case 'SQLITE_READONLY':
    case 'EROFS':
      return 'the file or its directory is read-only; mount it writable or set storage.path elsewhere';
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return 'this is not a Vigil SQLite database (or it is damaged); move it away or set storage.path to another file';
    case 'SQLITE_FULL':
    case 'ENOSPC':
      return 'the disk is full';
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return 'another process holds a lock on it';
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
      return 'the database server is not reachable';
    default:
      return '';
  }
}

/** SQLite primary result codes that matter at start-up (https://sqlite.org/rescode.html). */
function sqliteName(errcode: number): string {
  const primary = errcode & 0xff;
  const names: Record<number, string> = {
    5: 'SQLITE_BUSY',
    6: 'SQLITE_LOCKED',
    8: 'SQLITE_READONLY',
    10: 'SQLITE_IOERR',
    11: 'SQLITE_CORRUPT',
    13: 'SQLITE_FULL',
    14: 'SQLITE_CANTOPEN',
    26: 'SQLITE_NOTADB',
  };
  return names[primary] ?? `SQLITE_ERROR_${primary}`;
}

function listenAddress(err: unknown): { host: string; port: number } | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const o = e as { address?: unknown; port?: unknown; syscall?: unknown };
    if (o.syscall === 'listen' && typeof o.address === 'string' && typeof o.port === 'number') return { host: o.address, port: o.port };
  }
  return null;
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim() || 'unknown error';
}
