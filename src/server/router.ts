// A small router for node:http: method + path patterns with `:params` (and a trailing `*`), query
// parsing, JSON replies, JSON errors, and request-body helpers with a size limit. Enough for Vigil's
// API, webhooks and status page; no framework.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodyBudget } from './limits.ts';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Decoded path parameters, e.g. `{ source: 'openai' }` for `/webhooks/:source`; `*` for a wildcard tail. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The raw path (without query), as the client sent it. */
  path: string;
  /** The matched pattern, e.g. `/webhooks/:source`: safe to log (the path may carry a secret token). */
  route: string;
  /** The role the request's token gave (admin, read), or null when it carried none (public reads). */
  role?: 'read' | 'admin' | null;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/**
 * A handler returns a Reply, or writes to `ctx.res` itself (streaming, server-sent events) and returns
 * nothing. Throwing an HttpError gives that status and a JSON error; anything else thrown is a 500.
 */
export type Handler = (ctx: RequestContext) => Reply | void | Promise<Reply | void>;

/** An error meant for the client: its code and message are sent as `{ error, message }`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const JSON_TYPE = 'application/json; charset=utf-8';

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

export function text(body: string, status = 200, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': contentType, ...headers }, body };
}

export function errorReply(status: number, code: string, message: string, headers: Record<string, string> = {}): Reply {
  return json({ error: code, message }, status, headers);
}

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  wildcard: boolean;
  handler: Handler;
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  private readonly routes: Route[] = [];

  /** `pattern` like `/api/incidents/:id` or `/status/*`. Same method + pattern twice is a programming error. */
  add(method: string, pattern: string, handler: Handler): void {
    if (!pattern.startsWith('/')) throw new Error(`route pattern must start with "/": ${pattern}`);
    const m = method.toUpperCase();
    const segments = splitPath(pattern);
    const wildcard = segments[segments.length - 1] === '*';
    if (wildcard) segments.pop();
    if (segments.some((s) => s.includes('*'))) throw new Error(`"*" is only allowed as the last segment: ${pattern}`);
    if (this.routes.some((r) => r.method === m && r.pattern === pattern)) throw new Error(`route already defined: ${m} ${pattern}`);
    this.routes.push({ method: m, pattern, segments, wildcard, handler });
  }

  /**
   * Finds the handler for a request. Returns `{ allow }` when the path exists under other methods (405),
   * null when nothing matches (404). HEAD falls back to GET (node drops the body of HEAD replies).
   */
  match(method: string, path: string): Match | { allow: string[] } | null {
    const parts = splitPath(path);
    const hits: Match[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route, parts);
      if (params) hits.push({ route, params });
    }
    if (hits.length === 0) return null;
    const m = method.toUpperCase();
    const exact = hits.find((h) => h.route.method === m) ?? (m === 'HEAD' ? hits.find((h) => h.route.method === 'GET') : undefined);
    if (exact) return exact;
    const allow = new Set(hits.map((h) => h.route.method));
    if (allow.has('GET')) allow.add('HEAD');
    return { allow: [...allow].sort() };
  }
}

function splitPath(path: string): string[] {
  // A single trailing slash is ignored: `/api/probes/` is `/api/probes`.
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed === '/' ? [] : trimmed.slice(1).split('/');
}

function matchSegments(route: Route, parts: string[]): Record<string, string> | null {
  const { segments, wildcard } = route;
  if (wildcard ? parts.length < segments.length : parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const part = parts[i];
    if (seg.startsWith(':')) {
      if (part === '') return null;
      params[seg.slice(1)] = decode(part);
    } else if (seg !== part) {
      return null;
    }
  }
  if (wildcard) params['*'] = parts.slice(segments.length).map(decode).join('/');
  return params;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, 'bad_request', 'malformed percent-encoding in path');
  }
}

/**
 * Query parameters as single strings: unknown names and repeated names are 400s, so a typo such as
 * `?sinse=1h` is reported instead of silently returning everything.
 */
export function singleParams<K extends string>(query: URLSearchParams, allowed: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const name of new Set(query.keys())) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw new HttpError(400, 'bad_request', `unknown query parameter "${clip(name)}"; allowed: ${allowed.join(', ')}`);
    }
    const values = query.getAll(name);
    if (values.length > 1) throw new HttpError(400, 'bad_request', `query parameter "${name}" given ${values.length} times`);
    out[name as K] = values[0];
  }
  return out;
}

/** Echo user input in error messages without letting it grow the response. */
export function clip(s: string, max = 64): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

// The server attaches its shared body budget to each request, so every body reader (API, webhooks) counts
// against it without each caller passing it along; the server returns the share when the request is done.
const shares = new WeakMap<IncomingMessage, { budget: BodyBudget; taken: number }>();

export function attachBodyBudget(req: IncomingMessage, budget: BodyBudget): void {
  shares.set(req, { budget, taken: 0 });
}

export function releaseBodyBudget(req: IncomingMessage): void {
  const s = shares.get(req);
  if (!s) return;
  s.budget.give(s.taken);
  s.taken = 0;
}

/** Takes `total` bytes for this request's body in all (what it already holds counts); false when over budget. */
function takeBudget(req: IncomingMessage, total: number): boolean {
  const s = shares.get(req);
  if (!s || total <= s.taken) return true;
  if (!s.budget.tryTake(total - s.taken)) return false;
  s.taken = total;
  return true;
}

/**
 * Reads the request body up to `limit` bytes. Over the limit (by Content-Length, checked before reading a byte,
 * or while streaming) is a 413; over the server's body budget (too many large bodies in flight) a 503. Both
 * close the connection, so the client can't keep pushing bytes we won't read.
 */
export function readBody(req: IncomingMessage, opts: { limit?: number } = {}): Promise<Buffer> {
  const limit = opts.limit ?? DEFAULT_BODY_LIMIT;
  const tooLarge = () => new HttpError(413, 'payload_too_large', `request body exceeds ${limit} bytes`, { connection: 'close' });
  const busy = () => new HttpError(503, 'busy', 'too many request bodies in flight; retry shortly', { connection: 'close', 'retry-after': '1' });
  const declaredRaw = req.headers['content-length'];
  const declared = declaredRaw === undefined ? undefined : Number(declaredRaw);
  if (declared !== undefined && !(Number.isSafeInteger(declared) && declared >= 0)) {
    return Promise.reject(new HttpError(400, 'bad_request', 'invalid content-length', { connection: 'close' }));
  }
  if (declared !== undefined && declared > limit) return Promise.reject(tooLarge());
  if (declared !== undefined && !takeBudget(req, declared)) return Promise.reject(busy());
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null, body?: Buffer) => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (err) {
        // Stop buffering; keep the stream flowing into nothing until the reply closes the socket.
        req.resume();
        reject(err);
      } else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish(tooLarge());
      if (!takeBudget(req, size)) return finish(busy());
      chunks.push(chunk);
    };
    const onEnd = () => finish(null, Buffer.concat(chunks, size));
    const onError = () => finish(new HttpError(400, 'bad_request', 'request body could not be read'));
    const onAborted = () => finish(new HttpError(400, 'bad_request', 'request aborted'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}

/** 415 unless the request's media type is one of `types` (parameters such as charset are ignored). */
export function requireContentType(req: IncomingMessage, types: readonly string[]): void {
  const media = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!types.includes(media)) {
    throw new HttpError(415, 'unsupported_media_type', `content-type must be ${types.join(' or ')}`);
  }
}

/** Body as JSON: content-type check, size limit, parse. Returns the raw bytes too (for signatures). */
export async function readJson(
  req: IncomingMessage,
  opts: { limit?: number; contentTypes?: readonly string[] } = {},
): Promise<{ raw: Buffer; value: unknown }> {
  requireContentType(req, opts.contentTypes ?? ['application/json']);
  const raw = await readBody(req, opts);
  try {
    return { raw, value: JSON.parse(raw.toString('utf8')) };
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
  }
}
