// Reply builders shared by the provider modules: plain JSON, transport faults, and the stream faults that
// only need a success stream's events to derive (cut, malformed JSON, malformed SSE, in-stream error).
import type { FaultKind } from './behaviour.ts';
import type { Chunk, Reply } from './timeline.ts';

export function jsonReply(status: number, headers: Record<string, string>, body: string, at: number): Reply {
  return {
    status,
    headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    headersAt: at,
    chunks: [{ at, data: body, content: status < 300 }],
    end: 'end',
  };
}

/** `timeout`: accept the request and never answer. */
export function hangReply(): Reply {
  return { status: 0, headers: {}, headersAt: Infinity, chunks: [], end: 'hang' };
}

/** `reset`: RST the connection before any byte, at `at`. */
export function resetReply(at: number): Reply {
  return { status: 0, headers: {}, headersAt: Infinity, chunks: [], end: 'reset', endAt: at };
}

/** The non-stream body faults: `cut_stream` (promise the full length, send half, drop the connection) and
 * `malformed_json` (a truncated body sent as if complete). Anything else: the body as is. */
export function nonStreamReply(
  status: number,
  headers: Record<string, string>,
  body: string,
  at: number,
  fault: FaultKind | null,
): Reply {
  if (fault === 'cut_stream') {
    const half = body.slice(0, Math.floor(body.length / 2));
    return {
      status,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      headersAt: at,
      chunks: [{ at, data: half, content: true }],
      end: 'destroy',
    };
  }
  if (fault === 'malformed_json' || fault === 'malformed_sse') {
    return jsonReply(status, headers, body.slice(0, Math.floor(body.length / 2)), at);
  }
  return jsonReply(status, headers, body, at);
}

/** Index after which a faulted stream breaks: after about half of the content events, never before the first. */
function breakIndex(events: Chunk[]): number {
  const content = events.map((e, i) => (e.content ? i : -1)).filter((i) => i >= 0);
  if (content.length === 0) return Math.min(1, events.length);
  return content[Math.ceil(content.length / 2) - 1] + 1;
}

/** Cut the first event of a chunk inside its JSON payload (after `data: `); later events in the chunk are
 * dropped, so a cut never lets a finish/stop event through. */
function halfEvent(ev: string): string {
  const d = ev.indexOf('data: ');
  const start = d < 0 ? 0 : d + 6;
  const m = /\r?\n\r?\n/.exec(ev.slice(start));
  const end = m ? start + m.index : ev.trimEnd().length;
  return ev.slice(0, start + Math.max(1, Math.floor((end - start) / 2)));
}

/**
 * A stream reply, with a stream fault applied to the success `events` when asked:
 * - `cut_stream`: half the content, then half an event, then the connection drops (no terminal event).
 * - `malformed_json`: half the content, then one well-framed event whose JSON is truncated, then a clean end.
 * - `malformed_sse`: half the content, then the remaining payloads without SSE framing, then a clean end.
 * - `stream_error`: half the content, then the provider's in-stream error event, then a clean end.
 */
export function streamReply(
  headers: Record<string, string>,
  events: Chunk[],
  fault: FaultKind | null,
  opts: { sep: string; errorEvent: string },
): Reply {
  const base: Reply = { status: 200, headers, headersAt: events.length > 0 ? events[0].at : 0, chunks: events, end: 'end' };
  if (fault !== 'cut_stream' && fault !== 'malformed_json' && fault !== 'malformed_sse' && fault !== 'stream_error') {
    return base;
  }
  // Re-anchor the headers: a stream whose first event is a content token (Gemini) still flushes headers early.
  base.headersAt = Math.min(base.headersAt, events[0]?.at ?? 0);
  // Always break before the last event: it carries the finish marker (a one-chunk Gemini answer included).
  const k = Math.min(breakIndex(events), Math.max(0, events.length - 1));
  const kept = events.slice(0, k);
  const next = events[k];
  const at = next ? next.at : (kept[kept.length - 1]?.at ?? 0);
  if (fault === 'cut_stream') {
    if (next) kept.push({ at, data: halfEvent(next.data) });
    return { ...base, chunks: kept, end: 'destroy' };
  }
  if (fault === 'malformed_json') {
    if (next) kept.push({ at, data: halfEvent(next.data) + opts.sep });
    return { ...base, chunks: kept };
  }
  if (fault === 'malformed_sse') {
    for (const ev of events.slice(k)) {
      const raw = ev.data
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .filter((l) => l !== '[DONE]')
        .join('\n');
      // No `data:` field and no blank-line terminator: an SSE parser dispatches nothing from here on.
      if (raw) kept.push({ at: ev.at, data: raw + '\n' });
    }
    return { ...base, chunks: kept };
  }
  kept.push({ at, data: opts.errorEvent });
  return { ...base, chunks: kept };
}

/** Gemini's compact SSE JSON style: `": "` after keys, `,` between items, no other whitespace. */
export function geminiCompact(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(geminiCompact).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(JSON.stringify(k) + ': ' + geminiCompact(x));
    return '{' + parts.join(',') + '}';
  }
  return JSON.stringify(v);
}

export function isoSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
