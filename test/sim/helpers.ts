// Test helpers for the simulator: raw loopback HTTP (so cut and reset bodies are observable) and an SSE splitter.
import http from 'node:http';
import { startSimFleet } from '../../src/sim/index.ts';
import type { SimFleetOptions } from '../../src/sim/index.ts';

/** Small, flat latency so tests are fast; diurnal tests set their own. */
export const FAST = { latency: { ttfbMs: 1, ttftMs: 4, perTokenMs: 1, jitter: 0, diurnal: null } };

export const AUTH = {
  openai: { authorization: 'Bearer sk-test-key-123' },
  anthropic: { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' },
  gemini: { 'x-goog-api-key': 'AIza-test' },
} as const;

export function fastFleet(opts: SimFleetOptions = {}) {
  return startSimFleet({ behaviour: FAST, ...opts });
}

export interface RawResponse {
  status: number | null;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Transport error code/message when the response did not end cleanly. */
  error: string | null;
  /** ms from request start to headers, and to the end. */
  ttfbMs: number | null;
  totalMs: number;
}

/** One request over node:http with its own connection; never throws, reports transport errors in `error`. */
export function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {}): Promise<RawResponse> {
  const start = performance.now();
  return new Promise((resolve) => {
    const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const out: RawResponse = { status: null, headers: {}, body: '', error: null, ttfbMs: null, totalMs: 0 };
    let done = false;
    const finish = (error: string | null) => {
      if (done) return;
      done = true;
      out.error = error;
      out.totalMs = performance.now() - start;
      resolve(out);
    };
    const req = http.request(
      url,
      {
        method: opts.method ?? (payload === undefined ? 'GET' : 'POST'),
        headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
        agent: false,
      },
      (res) => {
        out.status = res.statusCode ?? null;
        out.headers = res.headers;
        out.ttfbMs = performance.now() - start;
        res.setEncoding('utf8');
        res.on('data', (c: string) => (out.body += c));
        res.on('end', () => finish(null));
        res.on('aborted', () => finish('aborted'));
        res.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    if (opts.timeoutMs) {
      setTimeout(() => {
        if (!done) {
          req.destroy();
          finish('client_timeout');
        }
      }, opts.timeoutMs);
    }
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export interface SseEvent {
  event?: string;
  data: string;
}

/** Split an SSE body into events (LF or CRLF framing); lines without a known field are ignored, as parsers do. */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return events;
}

export function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

export const openaiChat = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Reply with the single word: pong' }],
  ...extra,
});

export const anthropicMsg = (extra: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'Reply with the single word: pong' }],
  ...extra,
});

export const geminiBody = (extra: Record<string, unknown> = {}) => ({
  contents: [{ role: 'user', parts: [{ text: 'Reply with the single word: pong' }] }],
  ...extra,
});
