// The proxy's pass-through path: a raw TCP server that reads only each request's head (to route it and find the
// drill's scope header), rewrites the request line and Host, and streams everything else (request bodies,
// responses) byte for byte over kept-alive upstream connections. No body parsing, no header objects, no
// per-request JSON: the cost of a request is close to a TCP pipe's (bench/proxy.ts measures both side by side).
//
// A request goes to the fault engine (proxy.ts, a node:http server on an internal loopback port) instead when
// a live fault could apply to it (it carries the scope header with a value a fault is scoped to), or when it is
// for the proxy itself (/proxy/_faults, an unknown upstream, anything not /proxy/<name>/...). The engine's
// answer is relayed the same way, and a connection it resets or cuts is reset or cut for the client too, so
// `reset` and `stream_cut` faults reach the client as they left the engine.
//
// Bounded by design (issue 13): a connection limit, a deadline for each request head (slow headers) and body
// (slow bodies), an idle keep-alive timeout, and an idle timeout on upstream answers. Nothing a client sends
// can throw past the handlers: malformed heads get a 4xx and the connection is closed.
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ChunkedScanner, CRLF2, MAX_HEAD, isParseError, parseRequestHead, parseResponseHead, responseHasBody, rewriteHead } from './http1.ts';
import type { RequestHead } from './http1.ts';

export interface Destination {
  /** Pool key. */
  key: string;
  host: string;
  port: number;
  tls: boolean;
  /** Host header for rewritten requests. */
  hostHeader: string;
  /** Path prefix of the upstream's base URL ("" or "/openai"). */
  basePath: string;
  /** The fault engine: requests go unchanged, and its resets and cuts are mirrored to the client. */
  engine: boolean;
}

export interface ForwarderOptions {
  host: string;
  port: number;
  /** Upstream name → where its traffic goes. */
  upstreams: Map<string, Destination>;
  /** The fault engine (node:http server on an internal port). */
  engine: Destination;
  /** Lower-case name of the drill's scope header. */
  scopeHeader: string;
  /** Should a request on `upstream` whose scope header is `value` go to the fault engine? */
  wantsFault(upstream: string, value: string): boolean;
  /** A 502/504 body in the upstream's own wire format, for failures before any response byte. */
  errorResponse(upstream: string | null, status: 502 | 504, message: string): Buffer;
  maxConnections: number;
  /** From a request's first byte to the end of its head. */
  headersTimeoutMs: number;
  /** From a request's first byte to the end of its body. */
  requestTimeoutMs: number;
  /** An idle client connection between requests. */
  keepAliveTimeoutMs: number;
  /** No byte from the upstream for this long while an answer is due or streaming: the exchange is cut. */
  upstreamTimeoutMs: number;
  /** An idle upstream connection is reused only within this (servers close theirs after ~5 s). */
  upstreamIdleMs: number;
  /** Something went wrong that an operator may want to see (never request contents). */
  onError?(what: string, err: unknown): void;
}

export interface Forwarder {
  url: string;
  address: AddressInfo;
  connections(): number;
  close(): Promise<void>;
}

// Client connection states.
const C_HEAD = 0; // reading a request head
const C_BODY = 1; // forwarding a request body
const C_WAIT = 2; // request sent, answer pending
const C_TUNNEL = 3; // after a 101: bytes both ways
const C_DONE = 4;

// Upstream connection states.
const U_HEAD = 0;
const U_BODY_LENGTH = 1;
const U_BODY_CHUNKED = 2;
const U_BODY_CLOSE = 3;
const U_IDLE = 4;
const U_TUNNEL = 5;

/** At most this many body bytes are copied to go out with a rewritten head in one write. */
const COALESCE = 64 * 1024;

function plain(status: number, reason: string, message: string): Buffer {
  const body = JSON.stringify({ error: { message: `vigil chaos proxy: ${message}` } });
  return Buffer.from(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`, 'latin1');
}
const REASONS: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** One connection to an upstream (or to the engine), reused across requests while it stays clean. */
class UpConn {
  readonly sock: net.Socket;
  readonly dest: Destination;
  fw: Fwd;
  client: ClientConn | null = null;
  state = U_HEAD;
  head: Buffer | null = null;
  left = 0;
  readonly chunked = new ChunkedScanner();
  keepAlive = true;
  /** A request was written on it and its answer has not begun. */
  fresh = true;
  /** Response bytes forwarded for the current request. */
  sent = 0;
  lastUsed = 0;
  /** Reused only within this idle time: the upstream's Keep-Alive timeout hint less a second, else the default. */
  idleMs: number;
  /** Last byte from the upstream while an answer was due (fw.now). */
  activeAt = 0;
  closed = false;

  constructor(fw: Fwd, dest: Destination) {
    this.fw = fw;
    this.dest = dest;
    this.idleMs = fw.o.upstreamIdleMs;
    const opts = { host: dest.host, port: dest.port, noDelay: true };
    this.sock = dest.tls ? tls.connect({ ...opts, servername: net.isIP(dest.host) ? undefined : dest.host, ALPNProtocols: ['http/1.1'] }) : net.connect(opts);
    this.sock.on('data', (b: Buffer) => this.onData(b));
    this.sock.on('end', () => this.onEnd());
    this.sock.on('error', (e: NodeJS.ErrnoException) => this.onError(e));
    this.sock.on('close', () => this.onClose());
    this.sock.on('drain', () => this.client?.sock.resume());
  }

  write(b: Buffer): void {
    if (!this.sock.write(b)) this.client?.sock.pause();
  }

  /** Start of a new exchange on this connection. */
  begin(client: ClientConn): void {
    this.client = client;
    this.activeAt = this.fw.now;
    this.fw.busy.add(this);
    this.state = U_HEAD;
    this.head = null;
    this.sent = 0;
    this.keepAlive = true;
  }

  private onData(b: Buffer): void {
    this.fw.touch(this);
    const c = this.client;
    if (c === null) {
      // Bytes nobody asked for (a server talking out of turn): the connection is not safe to reuse.
      this.destroy();
      return;
    }
    if (this.state === U_TUNNEL) {
      c.write(b);
      return;
    }
    this.relay(b, c);
    this.flush(c);
  }

  // What relay() has to pass on from one read, as one contiguous range [outFrom, outTo) of outBuf: head and body
  // of an answer leave in a single write, as they came in a single read.
  private outBuf: Buffer | null = null;
  private outFrom = 0;
  private outTo = 0;

  private out(b: Buffer, from: number, to: number): void {
    if (b === this.outBuf && from === this.outTo) {
      this.outTo = to;
      return;
    }
    if (this.outBuf !== null && this.client !== null) this.flush(this.client);
    this.outBuf = b;
    this.outFrom = from;
    this.outTo = to;
  }

  private flush(c: ClientConn): void {
    const b = this.outBuf;
    if (b === null) return;
    this.outBuf = null;
    if (this.outTo > this.outFrom) {
      this.sent += this.outTo - this.outFrom;
      c.write(this.outFrom === 0 && this.outTo === b.length ? b : b.subarray(this.outFrom, this.outTo));
    }
  }

  private relay(b: Buffer, c: ClientConn): void {
    let off = 0;
    while (off < b.length) {
      if (this.state === U_HEAD) {
        let buf = b;
        let start = off;
        if (this.head !== null) {
          buf = Buffer.concat([this.head, b.subarray(off)]);
          start = 0;
        }
        const end = buf.indexOf(CRLF2, start);
        if (end < 0) {
          if (buf.length - start > MAX_HEAD) return this.broken('response head too large', null, c);
          this.head = start === 0 ? buf : buf.subarray(start);
          return;
        }
        this.head = null;
        const headEnd = end + 4;
        const h = start === 0 ? buf : buf.subarray(start);
        const rh = parseResponseHead(h, headEnd - start);
        if (rh === null) return this.broken('malformed response head', null, c);
        // The upstream's Keep-Alive (hop-by-hop) describes its connection to us, not ours to the client, which
        // closes on its own idle timeout: drop the line in place (shift what precedes it over it).
        if (rh.keepAliveStart >= 0) {
          const cut = rh.keepAliveEnd - rh.keepAliveStart;
          h.copyWithin(cut, 0, rh.keepAliveStart);
          start += cut;
        }
        if (rh.keepAliveTimeoutS > 0) this.idleMs = Math.min(this.fw.o.upstreamIdleMs * 15, Math.max(this.fw.o.upstreamIdleMs, (rh.keepAliveTimeoutS - 1) * 1000));
        const method = c.method;
        this.out(buf, start, headEnd);
        this.fresh = false;
        // Continue in the (possibly concatenated) buffer from the end of the head.
        b = buf;
        off = headEnd;
        if (rh.status === 101) {
          if (!c.upgrade) return this.broken('101 without an upgrade request', null, c);
          this.state = U_TUNNEL;
          if (off < b.length) this.out(b, off, b.length);
          this.flush(c);
          c.tunnel();
          return;
        }
        if (rh.status >= 100 && rh.status < 200) continue; // interim (100 Continue, 103): the final head follows
        this.keepAlive = rh.keepAlive;
        if (!responseHasBody(method, rh.status)) {
          // No body whatever the framing headers say (HEAD, 204, 304): only Connection decides.
          this.keepAlive = rh.persistent;
          this.finish(c);
          continue;
        }
        if (rh.chunked) this.state = U_BODY_CHUNKED;
        else if (rh.contentLength >= 0) {
          this.left = rh.contentLength;
          this.state = U_BODY_LENGTH;
          if (this.left === 0) {
            this.finish(c);
            continue;
          }
        } else this.state = U_BODY_CLOSE;
        continue;
      }
      if (this.state === U_BODY_LENGTH) {
        const take = Math.min(this.left, b.length - off);
        this.out(b, off, off + take);
        this.left -= take;
        off += take;
        if (this.left === 0) this.finish(c);
        continue;
      }
      if (this.state === U_BODY_CHUNKED) {
        const end = this.chunked.scan(b, off);
        if (end === -2) {
          this.out(b, off, b.length);
          return this.broken(`chunked framing: ${this.chunked.error}`, null, c);
        }
        const stop = end < 0 ? b.length : end;
        this.out(b, off, stop);
        off = stop;
        if (end >= 0) this.finish(c);
        continue;
      }
      if (this.state === U_BODY_CLOSE) {
        this.out(b, off, b.length);
        return;
      }
      // U_IDLE with leftover bytes: more than one answer to one request.
      return this.broken('bytes after the end of the answer', null, c);
    }
  }

  /** The answer is complete: what is left of it goes out first. */
  private finish(relaying: ClientConn): void {
    this.flush(relaying);
    this.state = U_IDLE;
    this.fw.busy.delete(this);
    this.chunked.reset();
    const c = this.client;
    this.client = null;
    this.lastUsed = this.fw.now;
    if (!this.keepAlive) this.destroy();
    c?.answered(this);
  }

  /** Upstream misbehaved or failed: the client's exchange fails the way it would have directly. */
  private broken(why: string, err?: NodeJS.ErrnoException | null, relaying?: ClientConn): void {
    if (relaying) this.flush(relaying);
    const c = this.client;
    this.client = null;
    this.destroy();
    if (c) c.upstreamFailed(this, why, err ?? null);
  }

  private onEnd(): void {
    if (this.state === U_BODY_CLOSE && this.client) {
      const c = this.client;
      this.client = null;
      this.state = U_IDLE;
      this.destroy();
      c.endAfterAnswer();
      return;
    }
    if (this.state === U_TUNNEL && this.client) {
      this.client.sock.end();
      return;
    }
    if (this.client) this.broken('upstream closed the connection');
    else this.destroy();
  }

  private onError(e: NodeJS.ErrnoException): void {
    if (this.client) this.broken(e.code ?? e.message, e);
    else this.destroy();
  }

  private onClose(): void {
    this.closed = true;
    this.fw.forget(this);
    if (this.client) this.broken('upstream connection closed');
  }

  destroy(): void {
    this.closed = true;
    this.fw.forget(this);
    if (!this.sock.destroyed) this.sock.destroy();
  }
}

class ClientConn {
  readonly sock: net.Socket;
  readonly fw: Fwd;
  state = C_HEAD;
  head: Buffer | null = null;
  /** Bytes that arrived while an answer was pending (a pipelining client), replayed after it. */
  stash: Buffer | null = null;
  up: UpConn | null = null;
  method = 'GET';
  upgrade = false;
  keepAlive = true;
  bodyLeft = 0;
  chunkedBody = false;
  readonly chunked = new ChunkedScanner();
  /** The upstream name of the current request (for error bodies), null for the engine's own paths. */
  upstream: string | null = null;
  /** Deadline (fw.now ms) for the current phase; 0 when none. */
  deadline = 0;
  headStarted = 0;
  clientEnded = false;
  /** The current request is complete on the upstream side. */
  requestDone = false;

  constructor(fw: Fwd, sock: net.Socket) {
    this.fw = fw;
    this.sock = sock;
    this.deadline = fw.now + fw.o.headersTimeoutMs;
    sock.on('data', (b: Buffer) => this.onData(b));
    sock.on('end', () => this.onEnd());
    sock.on('error', () => this.close());
    sock.on('close', () => this.close());
    sock.on('drain', () => this.up?.sock.resume());
  }

  write(b: Buffer): void {
    if (this.state !== C_DONE && !this.sock.write(b)) this.up?.sock.pause();
  }

  private onData(b: Buffer): void {
    if (this.state === C_TUNNEL) {
      this.up?.write(b);
      return;
    }
    if (this.state === C_WAIT) {
      this.stash = this.stash === null ? b : Buffer.concat([this.stash, b]);
      // A client that keeps sending without reading answers waits for them (TCP backpressure).
      if (this.stash.length > MAX_HEAD) this.sock.pause();
      return;
    }
    this.feed(b);
  }

  private feed(b: Buffer): void {
    try {
      this.process(b, 0);
    } catch (err) {
      // A bug here must cost one connection, never the process.
      this.fw.o.onError?.('request', err);
      this.close();
    }
  }

  private process(b: Buffer, off: number): void {
    while (off < b.length && this.state !== C_DONE) {
      if (this.state === C_HEAD) {
        off = this.readHead(b, off);
        continue;
      }
      if (this.state === C_BODY) {
        const up = this.up!;
        if (!this.chunkedBody) {
          const take = Math.min(this.bodyLeft, b.length - off);
          up.write(off === 0 && take === b.length ? b : b.subarray(off, off + take));
          this.bodyLeft -= take;
          off += take;
          if (this.bodyLeft === 0) this.requestSent();
          continue;
        }
        const end = this.chunked.scan(b, off);
        if (end === -2) return this.refuse(400, `chunked framing: ${this.chunked.error}`);
        const stop = end < 0 ? b.length : end;
        up.write(off === 0 && stop === b.length ? b : b.subarray(off, stop));
        off = stop;
        if (end >= 0) this.requestSent();
        continue;
      }
      // C_WAIT: a pipelined request behind the current one.
      const rest = b.subarray(off);
      this.stash = this.stash === null ? rest : Buffer.concat([this.stash, rest]);
      return;
    }
  }

  /** Returns the new offset. */
  private readHead(b: Buffer, off: number): number {
    let buf = b;
    let start = off;
    if (this.head !== null) {
      buf = Buffer.concat([this.head, b.subarray(off)]);
      start = 0;
    } else {
      // Tolerate the CRLF some clients send after a body (RFC 9112 §2.2).
      while (start < b.length && (b[start] === 0x0d || b[start] === 0x0a)) start++;
      if (start === b.length) return start;
      this.headStarted = this.fw.now;
      this.deadline = this.fw.now + this.fw.o.headersTimeoutMs;
    }
    const end = buf.indexOf(CRLF2, start);
    if (end < 0) {
      if (buf.length - start > MAX_HEAD) {
        this.refuse(431, 'request head too large');
        return b.length;
      }
      this.head = start === 0 ? buf : buf.subarray(start);
      return b.length;
    }
    this.head = null;
    const h = start === 0 ? buf : buf.subarray(start);
    const headLen = end + 4 - start;
    const parsed = parseRequestHead(h, headLen, this.fw.o.scopeHeader);
    if (isParseError(parsed)) {
      this.refuse(parsed.status, parsed.reason);
      return b.length;
    }
    if (parsed.method === 'CONNECT') {
      this.refuse(405, 'CONNECT is not proxied');
      return b.length;
    }
    const took = this.route(h, parsed);
    if (this.state === C_DONE) return b.length;
    // Continue after the head and the body bytes sent with it, in whichever buffer holds them.
    const next = start + headLen + took;
    if (buf !== b) {
      this.process(buf, next);
      return b.length;
    }
    return next;
  }

  /**
   * Send the head (and the body bytes that came with it, in the same write) where it goes. Returns how many body
   * bytes after the head in `h` were sent with it.
   */
  private route(h: Buffer, head: RequestHead): number {
    const fw = this.fw;
    this.method = head.method;
    this.upgrade = head.upgrade;
    this.keepAlive = head.keepAlive;
    this.requestDone = false;
    // The body bytes already here (bounded, so a big body is not copied whole): they go out with the head.
    const limit = Math.min(h.length, head.length + COALESCE);
    let bodyEnd = head.length;
    let bodyDone = true;
    if (head.chunked) {
      this.chunked.reset();
      const end = this.chunked.scan(limit === h.length ? h : h.subarray(0, limit), head.length);
      if (end === -2) {
        this.refuse(400, `chunked framing: ${this.chunked.error}`);
        return 0;
      }
      bodyEnd = end < 0 ? limit : end;
      bodyDone = end >= 0;
    } else if (head.contentLength > 0) {
      bodyEnd = Math.min(limit, head.length + head.contentLength);
      bodyDone = bodyEnd - head.length === head.contentLength;
    }
    let dest = fw.o.engine;
    let out: Buffer | null = null;
    this.upstream = null;
    const t = head.target;
    // /proxy/<name>[/rest][?query] with a known name goes straight to the upstream, unless a fault wants it.
    if (t.startsWith('/proxy/')) {
      let i = 7;
      while (i < t.length && t.charCodeAt(i) !== 0x2f && t.charCodeAt(i) !== 0x3f) i++;
      const name = t.slice(7, i);
      const up = fw.o.upstreams.get(name);
      if (up !== undefined) {
        this.upstream = name;
        if (head.scope === null || !fw.o.wantsFault(name, head.scope)) {
          dest = up;
          const rest = i === t.length ? '/' : t.charCodeAt(i) === 0x3f ? `/${t.slice(i)}` : t.slice(i);
          out = rewriteHead(h, head, up.basePath + rest, up.hostHeader, bodyEnd);
        }
      }
    }
    // The engine gets the request as the client sent it (head and body are contiguous: no copy).
    if (out === null) out = h.subarray(0, bodyEnd);
    let up = this.up;
    if (up !== null && (up.dest !== dest || up.closed || fw.now - up.lastUsed > up.idleMs)) {
      fw.release(up);
      up = null;
    }
    up ??= fw.acquire(dest);
    this.up = up;
    up.begin(this);
    up.write(out);
    const took = bodyEnd - head.length;
    if (bodyDone) this.requestSent();
    else {
      this.chunkedBody = head.chunked;
      this.bodyLeft = head.contentLength - took;
      this.state = C_BODY;
      this.deadline = this.headStarted + fw.o.requestTimeoutMs;
    }
    return took;
  }

  private requestSent(): void {
    this.requestDone = true;
    if (this.state === C_TUNNEL || this.state === C_DONE) return;
    // The answer may have finished already (an upstream that answers before reading the body).
    if (this.up === null) {
      this.nextRequest();
      return;
    }
    this.state = C_WAIT;
    this.deadline = 0;
  }

  /** The upstream finished its answer. */
  answered(up: UpConn): void {
    if (this.state === C_DONE) {
      this.fw.release(up);
      return;
    }
    if (!this.requestDone) {
      // Answered before the body was all sent: the upstream connection is out of step, and so is this one.
      up.destroy();
      this.up = null;
      this.endAfterAnswer();
      return;
    }
    this.nextRequest();
  }

  private nextRequest(): void {
    if (!this.keepAlive || this.clientEnded) {
      this.endAfterAnswer();
      return;
    }
    this.state = C_HEAD;
    this.deadline = this.fw.now + this.fw.o.keepAliveTimeoutMs;
    if (this.up !== null && this.up.closed) this.up = null;
    if (this.stash !== null) {
      const s = this.stash;
      this.stash = null;
      this.sock.resume();
      this.feed(s);
    }
  }

  tunnel(): void {
    this.state = C_TUNNEL;
    this.deadline = 0;
    if (this.stash !== null) {
      const s = this.stash;
      this.stash = null;
      this.up?.write(s);
    }
  }

  /** Close after what was written (the answer) has gone out. */
  endAfterAnswer(): void {
    if (this.state === C_DONE) return;
    this.state = C_DONE;
    this.deadline = 0;
    if (this.up !== null) {
      this.fw.release(this.up);
      this.up = null;
    }
    this.sock.end();
    this.sock.destroySoon();
    this.fw.dropClient(this);
  }

  /** The upstream failed mid-exchange. */
  upstreamFailed(up: UpConn, why: string, err: NodeJS.ErrnoException | null): void {
    if (this.up === up) this.up = null;
    if (this.state === C_DONE) return;
    if (up.sent === 0 && !up.dest.engine) {
      // Nothing of the answer went out: say so in the provider's format, as a gateway expects from its upstream.
      this.fw.o.onError?.('upstream', err ?? new Error(why));
      const reply = this.fw.o.errorResponse(this.upstream, err?.code === 'ETIMEDOUT_UPSTREAM' ? 504 : 502, `upstream ${this.upstream ?? ''} failed: ${why}`);
      this.state = C_DONE;
      this.sock.end(reply);
      this.sock.destroySoon();
      this.fw.dropClient(this);
      return;
    }
    // Mid-answer (or the engine cut on purpose): the client sees the same cut, a reset as a reset.
    this.state = C_DONE;
    if (err?.code === 'ECONNRESET') this.sock.resetAndDestroy();
    else if (up.dest.engine && up.sent === 0) this.sock.resetAndDestroy();
    else this.sock.destroy();
    this.fw.dropClient(this);
  }

  /** Refuse a request the proxy cannot parse or will not take; the connection closes. */
  refuse(status: number, why: string): void {
    if (this.state === C_DONE) return;
    const mid = this.state === C_BODY;
    this.state = C_DONE;
    if (this.up !== null) {
      // The upstream already has part of this request: that connection is spoiled.
      if (mid) this.up.destroy();
      else this.fw.release(this.up);
      this.up = null;
    }
    if (mid) this.sock.destroy();
    else {
      this.sock.end(plain(status, REASONS[status] ?? 'Error', why));
      this.sock.destroySoon();
    }
    this.fw.dropClient(this);
  }

  /** Deadline passed. */
  expire(): void {
    if (this.state === C_HEAD) {
      if (this.head === null) this.close(); // idle keep-alive, or never a byte
      else this.refuse(408, 'request head not received in time');
    } else if (this.state === C_BODY) {
      // Slow body: cut both sides (the upstream has a partial request).
      this.state = C_DONE;
      this.up?.destroy();
      this.up = null;
      this.sock.end(plain(408, 'Request Timeout', 'request body not received in time'));
      this.sock.destroySoon();
      this.fw.dropClient(this);
    }
  }

  private onEnd(): void {
    this.clientEnded = true;
    if (this.state === C_WAIT) return; // answer the request, then close
    if (this.state === C_TUNNEL) {
      this.up?.sock.end();
      return;
    }
    if (this.state === C_HEAD && this.head === null) {
      this.endAfterAnswer();
      return;
    }
    this.close();
  }

  close(): void {
    if (this.state !== C_DONE) {
      this.state = C_DONE;
      const up = this.up;
      this.up = null;
      // Mid-exchange: the upstream stops too (a client that left does not pay for tokens nobody reads).
      if (up !== null) {
        if (up.state === U_IDLE && up.client === null) this.fw.release(up);
        else {
          up.client = null;
          up.destroy();
        }
      }
    }
    if (!this.sock.destroyed) this.sock.destroy();
    this.fw.dropClient(this);
  }
}

class Fwd {
  readonly o: ForwarderOptions;
  /** Coarse clock (ms), advanced by the sweep and on each new connection. */
  now = performance.now();
  readonly clients = new Set<ClientConn>();
  readonly pool = new Map<string, UpConn[]>();
  /** Upstream connections with an answer due: checked for idleness by the sweep. */
  readonly busy = new Set<UpConn>();
  readonly server: net.Server;
  private readonly sweeper: NodeJS.Timeout;

  constructor(o: ForwarderOptions) {
    this.o = o;
    this.server = net.createServer({ noDelay: true, allowHalfOpen: true }, (sock) => {
      this.now = performance.now();
      try {
        this.clients.add(new ClientConn(this, sock));
      } catch (err) {
        o.onError?.('connection', err);
        sock.destroy();
      }
    });
    this.server.maxConnections = o.maxConnections;
    this.sweeper = setInterval(() => this.sweep(), 250);
    this.sweeper.unref();
  }

  touch(up: UpConn): void {
    up.activeAt = this.now;
  }

  forget(up: UpConn): void {
    this.busy.delete(up);
    const list = this.pool.get(up.dest.key);
    if (list) {
      const i = list.indexOf(up);
      if (i >= 0) list.splice(i, 1);
    }
  }

  acquire(dest: Destination): UpConn {
    const list = this.pool.get(dest.key);
    while (list !== undefined && list.length > 0) {
      const up = list.pop()!;
      if (!up.closed && this.now - up.lastUsed <= up.idleMs) return up;
      up.destroy();
    }
    return new UpConn(this, dest);
  }

  release(up: UpConn): void {
    this.busy.delete(up);
    if (up.closed || up.state !== U_IDLE || !up.keepAlive) {
      up.destroy();
      return;
    }
    up.client = null;
    let list = this.pool.get(up.dest.key);
    if (list === undefined) this.pool.set(up.dest.key, (list = []));
    if (!list.includes(up)) list.push(up);
  }

  dropClient(c: ClientConn): void {
    this.clients.delete(c);
  }

  private sweep(): void {
    const now = (this.now = performance.now());
    try {
      for (const c of this.clients) {
        if (c.deadline > 0 && now >= c.deadline) c.expire();
      }
      for (const up of this.busy) {
        if (now - up.activeAt >= this.o.upstreamTimeoutMs) {
          const c = up.client;
          this.busy.delete(up);
          up.client = null;
          up.destroy();
          if (c) c.upstreamFailed(up, `no answer for ${Math.round(this.o.upstreamTimeoutMs / 1000)} s`, Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT_UPSTREAM' }));
        }
      }
      for (const list of this.pool.values()) {
        for (let i = list.length - 1; i >= 0; i--) if (now - list[i].lastUsed > list[i].idleMs) list[i].destroy();
      }
    } catch (err) {
      this.o.onError?.('sweep', err);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of [...this.clients]) c.close();
    for (const list of this.pool.values()) for (const up of [...list]) up.destroy();
    for (const up of [...this.busy]) up.destroy();
    await closed;
  }
}

export async function startForwarder(o: ForwarderOptions): Promise<Forwarder> {
  const fw = new Fwd(o);
  try {
    await new Promise<void>((resolve, reject) => {
      fw.server.once('error', reject);
      fw.server.listen({ host: o.host, port: o.port, backlog: 4096 }, () => {
        fw.server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await fw.close();
    throw err;
  }
  // After the listen: a taken port is the caller's start-up error, not a request failure to log.
  fw.server.on('error', (err) => o.onError?.('server', err));
  const address = fw.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    address,
    connections: () => fw.clients.size,
    close: () => fw.close(),
  };
}
