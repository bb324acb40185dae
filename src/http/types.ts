// Contract between the HTTP layer and the probe runner. Implemented in src/http/client.ts.
import type { Timeouts, TimeoutPhase } from '../domain.ts';

export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  timeouts: Timeouts;
  signal?: AbortSignal;
}

/** Phase marks in ms relative to the request start, filled in as they happen (from undici's own hooks). */
export interface PhaseMarks {
  /** TCP connect duration on a fresh socket; 0 when a kept-alive socket was reused. */
  connectMs: number | null;
  /** TLS handshake duration, null for plain HTTP. */
  tlsMs: number | null;
  /** Request start → response headers. */
  ttfbMs: number | null;
  /** Request start → end of body (set when the body has been fully read). */
  totalMs: number | null;
  /** Whether the socket was reused. */
  reused: boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as it arrives (no buffering). Consume once. Each chunk is stamped via `onChunk`. */
  body: AsyncIterable<Uint8Array>;
  marks: PhaseMarks;
  /** ms since request start, on the same clock as marks (for stamping events such as the first content delta). */
  elapsed(): number;
}

/** Thrown for transport failures; `phase` says which timeout fired. */
export class HttpError extends Error {
  readonly kind: 'timeout' | 'connect' | 'reset' | 'aborted';
  readonly phase: TimeoutPhase | null;
  readonly marks: PhaseMarks;
  constructor(kind: HttpError['kind'], message: string, marks: PhaseMarks, phase: TimeoutPhase | null = null) {
    super(message);
    this.name = 'HttpError';
    this.kind = kind;
    this.phase = phase;
    this.marks = marks;
  }
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** One Server-Sent Event. */
export interface SseEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
  /** ms since request start when the event was fully received. */
  at: number;
}
