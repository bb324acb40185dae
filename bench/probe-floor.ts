// The floor for bench:probe: the least a Node client can do to time the same streaming calls. Raw keep-alive TCP
// sockets read through `onread` (bytes land in one fixed buffer per socket: no stream, no chunk objects), the
// request written by hand from the OpenAI adapter's own request, no HTTP or SSE parsing: the first token is the
// first `"delta":{"content":` in the bytes, the end the chunked terminator, each stamped per batch of socket
// reads as Vigil's client does (src/http/arrival.ts). What this misses, no HTTP client in Node on this machine
// can meet; what it meets and Vigil misses is Vigil's own cost.
import net from 'node:net';
import { batchClock } from '../src/http/arrival.ts';
import { openaiAdapter } from '../src/providers/openai.ts';
import { benchEndpoint, benchSpec, gcWatcher } from './probe-round.ts';
import type { Measured, ProbeRoundRunner, RoundOut } from './probe-round.ts';

const FIRST_TOKEN = Buffer.from('"delta":{"content":');
const END = Buffer.from('\r\n0\r\n\r\n');
const REQUEST_ID = Buffer.from('x-sim-request-id: ');
/** Bytes kept from the previous read so a marker split across two reads is still found. */
const KEEP = 32;

interface Call {
  t0: number;
  wireAt: number;
  id: string;
  ttft: number;
  done: (m: Measured) => void;
}

class FloorSocket {
  readonly socket: net.Socket;
  private readonly arrival: () => number;
  private call: Call | null = null;
  // The tail of the previous read followed by the current one: markers are searched here.
  private readonly window = Buffer.alloc(KEEP + 65_536);
  private kept = 0;

  constructor(port: number, arrival: () => number, ready: () => void) {
    this.arrival = arrival;
    this.socket = net.connect({
      port,
      host: '127.0.0.1',
      noDelay: true,
      onread: { buffer: Buffer.alloc(65_536), callback: (n: number, buf: Buffer) => this.onRead(n, buf) },
    } as net.NetConnectOpts);
    this.socket.once('connect', ready);
    // A reset is followed by 'close', which settles the call; the listener only keeps the error from being thrown.
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      // Closed mid-call (the simulator dropped an idle socket as we wrote): not a measurement.
      const c = this.call;
      this.call = null;
      c?.done({ id: c.id, ttft: -1, total: -1, wireAt: c.wireAt });
    });
  }

  send(request: Buffer, done: (m: Measured) => void): void {
    const t0 = performance.now();
    this.call = { t0, wireAt: performance.timeOrigin + t0, id: '', ttft: -1, done };
    this.kept = 0;
    this.socket.write(request);
  }

  private onRead(n: number, buf: Buffer): boolean {
    const at = this.arrival();
    const c = this.call;
    if (c === null) return true;
    buf.copy(this.window, this.kept, 0, n);
    const w = this.window.subarray(0, this.kept + n);
    if (c.id === '') {
      const i = w.indexOf(REQUEST_ID);
      if (i >= 0) c.id = w.toString('latin1', i + REQUEST_ID.length, w.indexOf(13, i));
    }
    if (c.ttft < 0 && w.indexOf(FIRST_TOKEN) >= 0) c.ttft = at - c.t0;
    if (w.indexOf(END) >= 0) {
      this.call = null;
      c.done({ id: c.id, ttft: c.ttft, total: at - c.t0, wireAt: c.wireAt });
      return true;
    }
    const keep = Math.min(KEEP, w.length);
    w.copy(this.window, 0, w.length - keep);
    this.kept = keep;
    return true;
  }
}

export function floorRoundRunner(openaiUrl: string): ProbeRoundRunner {
  const url = new URL(openaiUrl);
  const port = Number(url.port);
  const built = openaiAdapter.buildRequest(benchSpec(), benchEndpoint(openaiUrl));
  const path = new URL(built.url).pathname;
  const body = Buffer.from(built.body);
  const head = Object.entries({ ...built.headers, host: url.host, 'content-length': String(body.length) })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const request = Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\n${head}\r\n`), body]);
  const arrival = batchClock(() => performance.now());
  const gc = gcWatcher();
  let pool: FloorSocket[] = [];

  /** At least `n` open sockets, connected before anything is timed. */
  const ensure = async (n: number) => {
    pool = pool.filter((s) => !s.socket.destroyed);
    const missing = Math.max(0, n - pool.length);
    await Promise.all(Array.from({ length: missing }, () => new Promise<void>((r) => pool.push(new FloorSocket(port, arrival, r)))));
  };
  const fire = (n: number) =>
    Promise.all(pool.slice(0, n).map((s) => new Promise<Measured>((resolve) => s.send(request, resolve))));

  return {
    async warm(sockets) {
      await ensure(sockets);
      await fire(sockets);
    },
    async round(_mode, n): Promise<RoundOut> {
      await ensure(n);
      gc.reset();
      const measured = await fire(n);
      return { measured: measured.filter((m) => m.ttft >= 0), gc: await gc.pauses() };
    },
    async close() {
      gc.stop();
      for (const s of pool) s.socket.destroy();
      pool = [];
    },
  };
}
