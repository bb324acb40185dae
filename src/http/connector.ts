// A connector that timestamps each new socket's DNS, TCP and TLS milestones, and hands the result to the
// request that is written first on that socket.
//
// Attribution relies on undici's call chain: when a socket is ready, undici calls the connector callback,
// which synchronously attaches the socket to its Client and writes the first queued request, calling that
// request's `onRequestStart` before the callback returns. So the connection's timing is parked in `fresh`
// for exactly the extent of the callback and claimed by the first `onRequestStart` inside it
// (`claimFreshConnection`). With pipelining 1 only one request can be written there.
//
// The same trick in the other direction: undici creates the socket synchronously inside `dispatch()` when the
// pool needs a new connection, so the dispatching request can learn which socket is being opened for it
// (`dispatchWith`) and destroy it when its own connect timeout fires.
import { buildConnector } from './undici.ts';
import type { ConnectorBuildOptions, ConnectorOptions } from './undici.ts';
import type { Socket } from 'node:net';

export interface ConnectionTiming {
  /** Monotonic ms when the connector was called. */
  startAt: number;
  /** DNS lookup done (0 when the host was an IP literal, so no lookup happened). */
  lookupAt: number;
  /** TCP connected. */
  connectAt: number;
  /** TLS handshake done (0 for plain HTTP). */
  secureAt: number;
  tls: boolean;
}

/** Receives the socket undici opens while a request is being dispatched. */
export interface ConnectWatcher {
  connectingSocket: Socket | null;
}

type Callback = (err: Error | null, socket: Socket | null) => void;
type ConnectOpts = { hostname: string; host?: string; protocol: string; port: string; servername?: string; [k: string]: unknown };

let fresh: ConnectionTiming | null = null;
let dispatching: ConnectWatcher | null = null;

/** Called from `onRequestStart`: the timing of the socket just opened for this request, or null if it was reused. */
export function claimFreshConnection(): ConnectionTiming | null {
  const t = fresh;
  fresh = null;
  return t;
}

/** Run `fn` (an undici dispatch) so that a socket created synchronously inside it is reported to `watcher`. */
export function dispatchWith<T>(watcher: ConnectWatcher, fn: () => T): T {
  const prev = dispatching;
  dispatching = watcher;
  try {
    return fn();
  } finally {
    dispatching = prev;
  }
}

export interface TimedConnectorOptions {
  now: () => number;
  /** Backstop connect timeout for the connector (per-request connect timeouts are enforced by the client). */
  timeoutMs: number;
  /** TLS options (e.g. `ca` for a private CA). */
  tls?: Record<string, unknown>;
}

export function createTimedConnector(opts: TimedConnectorOptions) {
  // HTTP/1.1 only: with h2 several requests share one socket and "who paid for the connect" loses meaning.
  const base = buildConnector({ ...opts.tls, allowH2: false, timeout: opts.timeoutMs } as ConnectorBuildOptions);
  const now = opts.now;

  return function connect(connectOpts: ConnectOpts, callback: Callback) {
    const timing: ConnectionTiming = {
      startAt: now(),
      lookupAt: 0,
      connectAt: 0,
      secureAt: 0,
      tls: connectOpts.protocol === 'https:',
    };
    const socket = base(connectOpts as unknown as ConnectorOptions, (err, sock) => {
      if (err || !sock) return callback(err, null);
      // Stamps come from prepended listeners, which ran before undici's own; this is only a fallback.
      const t = now();
      if (timing.connectAt === 0) timing.connectAt = t;
      if (timing.tls && timing.secureAt === 0) timing.secureAt = t;
      const prev = fresh;
      fresh = timing;
      try {
        callback(null, sock as Socket);
      } finally {
        fresh = prev;
      }
    }) as unknown as Socket;
    // Prepend so the stamp is taken before undici's listener (which starts writing the request).
    socket.prependOnceListener('lookup', () => {
      timing.lookupAt = now();
    });
    socket.prependOnceListener('connect', () => {
      timing.connectAt = now();
    });
    if (timing.tls) {
      socket.prependOnceListener('secureConnect', () => {
        timing.secureAt = now();
      });
    }
    if (dispatching !== null) dispatching.connectingSocket = socket;
    return socket;
  };
}
