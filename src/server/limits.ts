// Resource limits for the daemon's listeners: how many connections, how long a client may take to send its
// request, how many request-body bytes may be held in memory at once (across every request of every
// listener), and a token bucket for user-created rows.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ServerLimits {
  /** Per listener. Past it the oldest connection with no request in progress is closed to make room. */
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Request-body bytes held at once by the whole server; a body that would exceed it is a 503. */
  bodyBudgetBytes: number;
  maxSilences: number;
  silencesPerMinute: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  bodyBudgetBytes: 32 * 1024 * 1024,
  maxSilences: 1000,
  silencesPerMinute: 30,
};

/** Bytes of request bodies in memory, shared by every request; each request returns its share when done. */
export class BodyBudget {
  readonly limit: number;
  private used = 0;
  constructor(limit: number) {
    this.limit = limit;
  }
  get inUse(): number {
    return this.used;
  }
  tryTake(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/**
 * Applies timeouts to a node:http server and keeps its connection count bounded without locking out new
 * clients: node's own `maxConnections` drops the *new* connection, so a few thousand idle or slow-header
 * sockets would keep /healthz and the API out. Instead, past the cap we close the oldest connection that has
 * no request in progress (still sending headers, or idle keep-alive), else the oldest with one.
 */
const GRACE_MS = 1000;

export function guardServer(server: Server, limits: ServerLimits): { busy: Set<Socket>; all: Set<Socket> } {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // A keep-alive connection gets at most this many requests before it is closed (spreads long-lived clients).
  server.maxRequestsPerSocket = 1000;
  const all = new Set<Socket>();
  const busy = new Set<Socket>();
  const born = new WeakMap<Socket, number>();
  server.on('connection', (socket: Socket) => {
    all.add(socket);
    born.set(socket, Date.now());
    socket.once('close', () => {
      all.delete(socket);
      busy.delete(socket);
    });
    if (all.size <= limits.maxConnections) return;
    // The newest connection always gets in: the oldest idle one goes, else the oldest busy one (a flood of
    // uploads must not lock out /healthz or the API; a legitimate request is short and rarely the oldest).
    // A connection gets a moment to send its headers before it counts as idle, or in a storm of new
    // connections each newcomer would push out the one before it.
    const now = Date.now();
    let idle: Socket | undefined;
    let oldestBusy: Socket | undefined;
    let youngIdle: Socket | undefined;
    for (const s of all) {
      if (s === socket) break;
      if (busy.has(s)) oldestBusy ??= s;
      else if (now - (born.get(s) ?? 0) >= GRACE_MS) {
        idle = s;
        break;
      } else youngIdle ??= s;
    }
    (idle ?? oldestBusy ?? youngIdle ?? socket).destroy();
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    busy.add(socket);
    res.once('close', () => busy.delete(socket));
  });
  return { busy, all };
}

/** How often node checks headers/request timeouts (its default, 30 s, let slow clients stay 3× too long). */
export function checkingInterval(limits: ServerLimits): number {
  return Math.max(100, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
}

/** A token bucket: `capacity` at most, refilled at `perMinute`. `take` says how long to wait when empty. */
export class RateLimit {
  private tokens: number;
  private last: number;
  private readonly perMs: number;
  private readonly capacity: number;
  constructor(perMinute: number, now: number) {
    this.capacity = perMinute;
    this.tokens = perMinute;
    this.perMs = perMinute / 60_000;
    this.last = now;
  }
  take(now: number): { ok: true } | { ok: false; retryAfterS: number } {
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, now - this.last) * this.perMs);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - this.tokens) / this.perMs / 1000)) };
  }
}
