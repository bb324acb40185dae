// Just enough HTTP/1.1 (RFC 9112) for the proxy's pass-through path: find a message head, read the few headers
// that decide framing, routing and hop-by-hop removal, and follow a body's framing (content-length or chunked)
// without copying it. Everything else in a message is forwarded byte for byte. Strict where a lenient parser
// invites request smuggling (bare LF, obs-fold, both content-length and transfer-encoding, conflicting lengths).
// Pure: no I/O, no timers. Parsers return null (and set `error`) instead of throwing.

export const CRLF2 = Buffer.from('\r\n\r\n');
/** Longest message head accepted (Node's default max header size is 16 KiB). */
export const MAX_HEAD = 32 * 1024;
const MAX_HEADERS = 200;
// Scratch space reused by every parse: a head is consumed (rewritten and written) before the next one is parsed.
const KEEP = new Int32Array(2 * MAX_HEADERS + 2);
const LINES = new Int32Array(3 * MAX_HEADERS + 3);

// tchar (RFC 9110 §5.6.2) by byte.
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** Case-insensitive compare of b[start, start+name.length) with an all-lower-case ASCII `name`. */
function nameIs(b: Buffer, start: number, len: number, name: string): boolean {
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) {
    if ((b[start + i] | 0x20) !== name.charCodeAt(i)) return false;
  }
  return true;
}

function trimmedValue(b: Buffer, start: number, end: number): string {
  while (start < end && (b[start] === 0x20 || b[start] === 0x09)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0x09)) end--;
  return b.toString('latin1', start, end);
}

/** A content-length value straight from the bytes (digits between optional whitespace), -1 if not one. */
function lengthAt(b: Buffer, start: number, end: number): number {
  while (start < end && (b[start] === 0x20 || b[start] === 0x09)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0x09)) end--;
  if (end === start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = b[i] - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

function lastCodingIsChunked(v: string): boolean {
  const i = v.lastIndexOf(',');
  return v.slice(i + 1).trim().toLowerCase() === 'chunked';
}

function tokens(v: string): string[] {
  return v
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** Request headers never forwarded (RFC 9110 §7.6.1 hop-by-hop, plus Host, which the proxy rewrites). */
const DROP = ['host', 'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade'];

export interface RequestHead {
  method: string;
  /** The raw request-target (origin-form when it starts with "/"). */
  target: string;
  /** HTTP/1.<minor>. */
  minor: 0 | 1;
  /** -1: no content-length. */
  contentLength: number;
  chunked: boolean;
  /** The client wants the connection kept after this exchange. */
  keepAlive: boolean;
  /** A protocol upgrade (e.g. WebSocket): the Upgrade/Connection headers are kept and a 101 turns into a tunnel. */
  upgrade: boolean;
  /** Value of the scope header (first occurrence), or null. */
  scope: string | null;
  /**
   * Byte ranges [start, end) of the header lines to forward, CRLF included, as pairs in `keep[0 .. keepLen)`:
   * everything but the request line and the dropped headers. Shared scratch: valid until the next parse.
   */
  keep: Int32Array;
  keepLen: number;
  /** Length of the head, final CRLFCRLF included. */
  length: number;
}

export interface ParseError {
  status: 400 | 431;
  reason: string;
}

/**
 * Parse the request head in b[0, headEnd) (headEnd: index just past CRLFCRLF). `scopeHeader` lower-case.
 * Returns the head, or a ParseError for a request that must be refused (the caller answers and closes).
 */
export function parseRequestHead(b: Buffer, headEnd: number, scopeHeader: string): RequestHead | ParseError {
  const lineEnd = b.indexOf(0x0d, 0);
  if (lineEnd < 0 || lineEnd >= headEnd || b[lineEnd + 1] !== 0x0a) return { status: 400, reason: 'malformed request line' };
  const sp1 = b.indexOf(0x20, 0);
  if (sp1 <= 0 || sp1 > lineEnd) return { status: 400, reason: 'malformed request line' };
  for (let i = 0; i < sp1; i++) if (TCHAR[b[i]] === 0) return { status: 400, reason: 'bad method' };
  const sp2 = b.indexOf(0x20, sp1 + 1);
  if (sp2 < 0 || sp2 > lineEnd || sp2 === sp1 + 1) return { status: 400, reason: 'malformed request line' };
  // Visible ASCII only in the target (no spaces, controls or raw bytes ≥ 0x7f).
  for (let i = sp1 + 1; i < sp2; i++) if (b[i] < 0x21 || b[i] > 0x7e) return { status: 400, reason: 'bad request target' };
  if (lineEnd - sp2 !== 9 || !b.toString('latin1', sp2 + 1, sp2 + 8).startsWith('HTTP/1.')) return { status: 400, reason: 'HTTP/1.x only' };
  const minorByte = b[sp2 + 8];
  if (minorByte !== 0x30 && minorByte !== 0x31) return { status: 400, reason: 'HTTP/1.0 or HTTP/1.1 only' };
  const minor = minorByte === 0x31 ? 1 : 0;

  const keep = KEEP;
  let keepLen = 0;
  let contentLength = -1;
  let te: string | null = null;
  let conn: string | null = null;
  let hasUpgrade = false;
  let hosts = 0;
  let scope: string | null = null;
  let count = 0;
  let nominated: string[] | null = null;
  const headerLines = LINES;
  let lines = 0;

  let pos = lineEnd + 2;
  const last = headEnd - 2; // start of the final CRLF
  while (pos < last) {
    const eol = b.indexOf(0x0d, pos);
    if (eol < 0 || eol >= last + 1 || b[eol + 1] !== 0x0a) return { status: 400, reason: 'malformed header line' };
    if (++count > MAX_HEADERS) return { status: 431, reason: 'too many headers' };
    const first = b[pos];
    if (first === 0x20 || first === 0x09) return { status: 400, reason: 'obsolete line folding' };
    let colon = pos;
    while (colon < eol && TCHAR[b[colon]] === 1) colon++;
    if (colon === pos || colon >= eol || b[colon] !== 0x3a) return { status: 400, reason: 'malformed header name' };
    // Field value: no controls but HTAB (a bare LF or NUL inside a value is how smuggling starts).
    for (let i = colon + 1; i < eol; i++) {
      const c = b[i];
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return { status: 400, reason: 'control character in a header value' };
    }
    const nlen = colon - pos;
    let drop = false;
    switch (nlen) {
      case 14:
        if (nameIs(b, pos, nlen, 'content-length')) {
          const n = lengthAt(b, colon + 1, eol);
          if (n < 0 || (contentLength >= 0 && n !== contentLength)) return { status: 400, reason: 'bad content-length' };
          contentLength = n;
        }
        break;
      case 17:
        if (nameIs(b, pos, nlen, 'transfer-encoding')) {
          const v = trimmedValue(b, colon + 1, eol);
          te = te === null ? v : `${te}, ${v}`;
        }
        break;
      case 10:
        if (nameIs(b, pos, nlen, 'connection')) {
          const v = trimmedValue(b, colon + 1, eol);
          conn = conn === null ? v : `${conn}, ${v}`;
          drop = true;
        } else if (nameIs(b, pos, nlen, 'keep-alive')) drop = true;
        break;
      case 4:
        if (nameIs(b, pos, nlen, 'host')) {
          hosts++;
          drop = true;
        }
        break;
      case 7:
        if (nameIs(b, pos, nlen, 'upgrade')) {
          hasUpgrade = true;
          drop = true;
        } else if (nameIs(b, pos, nlen, 'trailer')) drop = true;
        break;
      case 2:
        if (nameIs(b, pos, nlen, 'te')) drop = true;
        break;
      case 16:
        if (nameIs(b, pos, nlen, 'proxy-connection')) drop = true;
        break;
      case 18:
        if (nameIs(b, pos, nlen, 'proxy-authenticate')) drop = true;
        break;
      case 19:
        if (nameIs(b, pos, nlen, 'proxy-authorization')) drop = true;
        break;
    }
    if (scope === null && nlen === scopeHeader.length && nameIs(b, pos, nlen, scopeHeader)) scope = trimmedValue(b, colon + 1, eol);
    headerLines[lines++] = pos;
    headerLines[lines++] = eol + 2;
    headerLines[lines++] = drop ? 1 : 0;
    pos = eol + 2;
  }
  if (minor === 1 && hosts !== 1) return { status: 400, reason: hosts === 0 ? 'missing Host header' : 'several Host headers' };
  if (hosts > 1) return { status: 400, reason: 'several Host headers' };

  let chunked = false;
  if (te !== null) {
    // RFC 9112 §6.1: chunked must be the final coding; with content-length too, the message is refused.
    if (contentLength >= 0) return { status: 400, reason: 'both content-length and transfer-encoding' };
    if (!lastCodingIsChunked(te)) return { status: 400, reason: 'transfer-encoding without chunked last' };
    if (minor === 0) return { status: 400, reason: 'transfer-encoding in an HTTP/1.0 request' };
    chunked = true;
  }
  const connTokens = conn === null ? [] : tokens(conn);
  const keepAlive = minor === 1 ? !connTokens.includes('close') : connTokens.includes('keep-alive');
  const upgrade = hasUpgrade && connTokens.includes('upgrade');
  for (const t of connTokens) {
    if (t !== 'close' && t !== 'keep-alive' && t !== 'upgrade') (nominated ??= []).push(t);
  }

  for (let i = 0; i < lines; i += 3) {
    const start = headerLines[i];
    const end = headerLines[i + 1];
    let drop = headerLines[i + 2] === 1;
    if (upgrade && drop) {
      // The upgrade handshake is end to end for the proxy: keep Upgrade and Connection as sent.
      const colon = b.indexOf(0x3a, start);
      if (nameIs(b, start, colon - start, 'upgrade') || nameIs(b, start, colon - start, 'connection')) drop = false;
    }
    if (!drop && nominated !== null) {
      const colon = b.indexOf(0x3a, start);
      const name = b.toString('latin1', start, colon).toLowerCase();
      if (nominated.includes(name)) drop = true;
    }
    if (drop) continue;
    // Merge with the previous kept range when contiguous.
    if (keepLen > 0 && keep[keepLen - 1] === start) keep[keepLen - 1] = end;
    else {
      keep[keepLen++] = start;
      keep[keepLen++] = end;
    }
  }
  return {
    method: b.toString('latin1', 0, sp1),
    target: b.toString('latin1', sp1 + 1, sp2),
    minor,
    contentLength,
    chunked,
    keepAlive,
    upgrade,
    scope,
    keep,
    keepLen,
    length: headEnd,
  };
}

export function isParseError(x: RequestHead | ParseError): x is ParseError {
  return (x as ParseError).reason !== undefined;
}

/** Drop list, for tests and docs. */
export const DROPPED_REQUEST_HEADERS: readonly string[] = DROP;

/**
 * A new head for the upstream: request line with `path`, our Host, the kept header lines, CRLF; then the body
 * bytes b[head.length, bodyEnd) that came in the same read, so head and body leave in one write.
 */
export function rewriteHead(b: Buffer, head: RequestHead, path: string, host: string, bodyEnd = head.length): Buffer {
  const line = `${head.method} ${path} HTTP/1.${head.minor}\r\nhost: ${host}\r\n`;
  const lineLen = Buffer.byteLength(line, 'latin1');
  let size = lineLen + 2 + (bodyEnd - head.length);
  for (let i = 0; i < head.keepLen; i += 2) size += head.keep[i + 1] - head.keep[i];
  const out = Buffer.allocUnsafe(size);
  let at = out.write(line, 0, 'latin1');
  for (let i = 0; i < head.keepLen; i += 2) at += b.copy(out, at, head.keep[i], head.keep[i + 1]);
  out[at] = 0x0d;
  out[at + 1] = 0x0a;
  if (bodyEnd > head.length) b.copy(out, at + 2, head.length, bodyEnd);
  return out;
}

// ---- responses ----

export interface ResponseHead {
  status: number;
  minor: 0 | 1;
  /** -1 none. */
  contentLength: number;
  chunked: boolean;
  /** transfer-encoding without chunked last: the body runs until the connection closes. */
  untilClose: boolean;
  /** The connection can carry another exchange after this one (false when the body runs until close). */
  keepAlive: boolean;
  /** What the version and Connection header say, framing aside (for answers without a body). */
  persistent: boolean;
  length: number;
  /** The first Keep-Alive header line [start, end), CRLF included; -1 when none. */
  keepAliveStart: number;
  keepAliveEnd: number;
  /** Its `timeout=` in seconds, -1 when none. */
  keepAliveTimeoutS: number;
}

/** `timeout=N` in a Keep-Alive value (b[start, end)), -1 when absent or not a number. */
function keepAliveTimeout(b: Buffer, start: number, end: number): number {
  const v = b.toString('latin1', start, end).toLowerCase();
  const m = /(?:^|[\s,;])timeout\s*=\s*(\d{1,6})/.exec(v);
  return m ? Number(m[1]) : -1;
}

/** Parse a response head in b[0, headEnd); null when it is not one (the caller treats the upstream as broken). */
export function parseResponseHead(b: Buffer, headEnd: number): ResponseHead | null {
  // "HTTP/1.x SSS" at least.
  if (headEnd < 16 || b[0] !== 0x48 || b.toString('latin1', 0, 7) !== 'HTTP/1.' || b[8] !== 0x20) return null;
  const minor = b[7] === 0x31 ? 1 : b[7] === 0x30 ? 0 : -1;
  if (minor < 0) return null;
  const d0 = b[9] - 48;
  const d1 = b[10] - 48;
  const d2 = b[11] - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || (b[12] !== 0x20 && b[12] !== 0x0d)) return null;
  const status = d0 * 100 + d1 * 10 + d2;
  let pos = b.indexOf(0x0a, 12) + 1;
  if (pos <= 0) return null;
  let contentLength = -1;
  let te: string | null = null;
  let conn: string | null = null;
  let keepAliveStart = -1;
  let keepAliveEnd = -1;
  let keepAliveTimeoutS = -1;
  const last = headEnd - 2;
  while (pos < last) {
    const eol = b.indexOf(0x0a, pos);
    if (eol < 0 || eol > last) return null;
    const end = b[eol - 1] === 0x0d ? eol - 1 : eol;
    const colon = b.indexOf(0x3a, pos);
    if (colon > pos && colon < end) {
      const nlen = colon - pos;
      if (nlen === 14 && nameIs(b, pos, nlen, 'content-length')) {
        const n = lengthAt(b, colon + 1, end);
        if (n < 0 || (contentLength >= 0 && n !== contentLength)) return null;
        contentLength = n;
      } else if (nlen === 17 && nameIs(b, pos, nlen, 'transfer-encoding')) {
        const v = trimmedValue(b, colon + 1, end);
        te = te === null ? v : `${te}, ${v}`;
      } else if (nlen === 10 && nameIs(b, pos, nlen, 'connection')) {
        const v = trimmedValue(b, colon + 1, end);
        conn = conn === null ? v : `${conn}, ${v}`;
      } else if (nlen === 10 && keepAliveStart < 0 && nameIs(b, pos, nlen, 'keep-alive')) {
        keepAliveStart = pos;
        keepAliveEnd = eol + 1;
        keepAliveTimeoutS = keepAliveTimeout(b, colon + 1, end);
      }
    }
    pos = eol + 1;
  }
  // Most answers say "keep-alive" or nothing: no token split for those.
  const lc = conn === null ? null : conn.toLowerCase();
  const connTokens = lc === null || lc === 'keep-alive' ? null : tokens(lc);
  const persistent = minor === 1 ? connTokens === null || !connTokens.includes('close') : lc === 'keep-alive' || (connTokens !== null && connTokens.includes('keep-alive'));
  let keepAlive = persistent;
  let chunked = false;
  let untilClose = false;
  if (te !== null) {
    if (lastCodingIsChunked(te)) chunked = true;
    else untilClose = true;
    contentLength = -1;
  } else if (contentLength < 0) untilClose = true;
  if (untilClose) keepAlive = false;
  return { status, minor: minor as 0 | 1, contentLength, chunked, untilClose, keepAlive, persistent, length: headEnd, keepAliveStart, keepAliveEnd, keepAliveTimeoutS };
}

/** Does a response to `method` with this status carry a body (RFC 9112 §6.3)? */
export function responseHasBody(method: string, status: number): boolean {
  return !(method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200));
}

// ---- chunked framing ----

const SIZE = 0;
const EXT = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER_START = 6;
const TRAILER = 7;
const TRAILER_LF = 8;
const FINAL_LF = 9;

/** Follows chunked framing across arbitrary chunk boundaries without copying; the bytes are forwarded as they are. */
export class ChunkedScanner {
  private state = SIZE;
  private size = 0;
  private digits = 0;
  /** Bytes of chunk data still to skip. */
  private left = 0;
  /** Bytes of extensions/trailers seen (bounded). */
  private extra = 0;
  error: string | null = null;

  reset(): void {
    this.state = SIZE;
    this.size = 0;
    this.digits = 0;
    this.left = 0;
    this.extra = 0;
    this.error = null;
  }

  /**
   * Scan b[from, b.length). Returns the index just past the end of the chunked body if it ends inside this
   * buffer, -1 if more is needed, -2 on a framing error (see `error`).
   */
  scan(b: Buffer, from: number): number {
    let i = from;
    const n = b.length;
    while (i < n) {
      switch (this.state) {
        case DATA: {
          const take = Math.min(this.left, n - i);
          this.left -= take;
          i += take;
          if (this.left === 0) this.state = DATA_CR;
          continue;
        }
        case SIZE: {
          const c = b[i];
          const h = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
          if (h >= 0) {
            if (++this.digits > 12) return this.fail('chunk size too large');
            this.size = this.size * 16 + h;
          } else if (this.digits === 0) return this.fail('bad chunk size');
          else if (c === 0x0d) this.state = SIZE_LF;
          else if (c === 0x3b || c === 0x20 || c === 0x09) this.state = EXT;
          else return this.fail('bad chunk size');
          i++;
          continue;
        }
        case EXT: {
          const c = b[i];
          if (c === 0x0d) this.state = SIZE_LF;
          else if (c === 0x0a || ++this.extra > 4096) return this.fail('bad chunk extension');
          i++;
          continue;
        }
        case SIZE_LF:
          if (b[i] !== 0x0a) return this.fail('bare CR after chunk size');
          i++;
          if (this.size === 0) this.state = TRAILER_START;
          else {
            this.left = this.size;
            this.state = DATA;
          }
          this.size = 0;
          this.digits = 0;
          continue;
        case DATA_CR:
          if (b[i] !== 0x0d) return this.fail('chunk data longer than its size');
          i++;
          this.state = DATA_LF;
          continue;
        case DATA_LF:
          if (b[i] !== 0x0a) return this.fail('bare CR after chunk data');
          i++;
          this.state = SIZE;
          continue;
        case TRAILER_START:
          if (b[i] === 0x0d) this.state = FINAL_LF;
          else if (b[i] === 0x0a) return this.fail('bare LF in trailers');
          else this.state = TRAILER;
          i++;
          continue;
        case TRAILER: {
          const c = b[i];
          if (c === 0x0d) this.state = TRAILER_LF;
          else if (c === 0x0a || ++this.extra > 16384) return this.fail('bad trailer');
          i++;
          continue;
        }
        case TRAILER_LF:
          if (b[i] !== 0x0a) return this.fail('bare CR in trailers');
          i++;
          this.state = TRAILER_START;
          continue;
        case FINAL_LF:
          if (b[i] !== 0x0a) return this.fail('bare CR at the end of a chunked body');
          this.reset();
          return i + 1;
      }
    }
    return -1;
  }

  private fail(why: string): number {
    this.error = why;
    return -2;
  }
}
