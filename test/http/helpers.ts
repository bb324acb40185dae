// Loopback servers for the HTTP layer tests.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpRequest } from '../../src/http/types.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Loopback {
  url: string;
  port: number;
  /** Server-side sockets ever accepted. */
  accepted: number;
  /** Server-side sockets currently open. */
  open: Set<Socket>;
  /** Resolves when the next server-side socket closes. */
  nextClose(): Promise<void>;
  close(): Promise<void>;
}

function track(server: Server | ReturnType<typeof createNetServer>): Omit<Loopback, 'url' | 'port' | 'close'> {
  const state = {
    accepted: 0,
    open: new Set<Socket>(),
    waiters: [] as (() => void)[],
    nextClose: () => new Promise<void>((r) => state.waiters.push(r)),
  };
  server.on('connection', (s: Socket) => {
    state.accepted++;
    state.open.add(s);
    s.on('close', () => {
      state.open.delete(s);
      for (const w of state.waiters.splice(0)) w();
    });
  });
  return state;
}

export async function startHttp(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<Loopback> {
  const server = createServer((req, res) => {
    void Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  return listen(server, 'http');
}

/** A TCP server that accepts and never says anything (a TLS handshake against it stalls). */
export async function startSilentTcp(): Promise<Loopback> {
  // Reads (so it notices the peer closing) but never writes.
  const server = createNetServer((s) => s.resume());
  return listen(server, 'https');
}

export async function listen(server: Server | ReturnType<typeof createNetServer>, scheme: string): Promise<Loopback> {
  const state = track(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const s of state.open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * With pipelining 1, undici waits one event-loop turn before reusing a socket whose response just ended
 * (guarding against servers that close despite keep-alive); a request sent sooner opens a new socket.
 */
export const nextTurn = () => new Promise<void>((r) => setImmediate(r));

export const generous = { connectMs: 5_000, firstByteMs: 5_000, totalMs: 10_000 };

export function get(url: string, extra: Partial<HttpRequest> = {}): HttpRequest {
  return { url, method: 'GET', headers: {}, timeouts: generous, ...extra };
}

/** Rejection of `p`, or a failure when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
