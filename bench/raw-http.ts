// A load generator's HTTP/1.1 client: keep-alive sockets, requests serialised before the clock starts, responses
// framed by Content-Length only (what Vigil's server sends). Far less work per request than a general client, so
// at an open-loop rate the generator is not what is late (undici's Pool made it stall 10–18 ms at p99 at 2,000/s
// on these 2-core machines, and an open loop counts a late send as latency).
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface RawRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** The bytes of a request to `host` (serialise before timing). */
export function serialise(host: string, r: RawRequest): Buffer {
  const body = Buffer.from(r.body);
  let head = `POST ${r.path} HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\ncontent-length: ${body.length}\r\n`;
  for (const [k, v] of Object.entries(r.headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
}

interface Conn {
  socket: Socket;
  buf: Buffer;
  /** Called with the status when the current response is complete. */
  done: ((status: number) => void) | null;
}

const CRLF2 = Buffer.from('\r\n\r\n');

export class RawPool {
  private readonly idle: Conn[] = [];
  private readonly waiting: { bytes: Buffer; done: (status: number) => void }[] = [];
  private readonly all: Conn[] = [];

  private constructor() {}

  static async open(port: number, connections: number): Promise<RawPool> {
    const pool = new RawPool();
    await Promise.all(Array.from({ length: connections }, () => pool.add(port)));
    return pool;
  }

  /** Send now on an idle connection, or as soon as one frees; `done` gets the response status. */
  send(bytes: Buffer, done: (status: number) => void): void {
    const c = this.idle.pop();
    if (c) this.start(c, bytes, done);
    else this.waiting.push({ bytes, done });
  }

  close(): void {
    for (const c of this.all) c.socket.destroy();
  }

  private add(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve());
      const c: Conn = { socket, buf: Buffer.alloc(0), done: null };
      socket.once('error', reject);
      socket.on('data', (d: Buffer) => this.onData(c, d));
      this.all.push(c);
      this.idle.push(c);
    });
  }

  private start(c: Conn, bytes: Buffer, done: (status: number) => void): void {
    c.done = done;
    c.socket.write(bytes);
  }

  private onData(c: Conn, d: Buffer): void {
    c.buf = c.buf.length ? Buffer.concat([c.buf, d]) : d;
    const end = c.buf.indexOf(CRLF2);
    if (end < 0) return;
    const head = c.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) throw new Error(`response without content-length: ${head.split('\r\n')[0]}`);
    const total = end + 4 + Number(m[1]);
    if (c.buf.length < total) return;
    c.buf = c.buf.subarray(total);
    const done = c.done!;
    c.done = null;
    const next = this.waiting.shift();
    if (next) this.start(c, next.bytes, next.done);
    else this.idle.push(c);
    done(status);
  }
}
