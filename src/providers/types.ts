// Contract for provider adapters: pure functions, no I/O. One file per wire protocol.
import type {
  ErrorClass,
  FinishReason,
  GatewayInfo,
  ProbeSpec,
  ProviderEndpoint,
  ProviderKind,
} from '../domain.ts';

export interface BuiltRequest {
  /** Full URL (endpoint baseUrl + path + query). */
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What an adapter extracts from one response (non-stream body, error body, or a finished stream). */
export interface Normalised {
  servedModel: string | null;
  fingerprint: string | null;
  text: string;
  finishReason: FinishReason | null;
  tokensIn: number | null;
  tokensOut: number | null;
  errorClass: ErrorClass | null;
  /** Provider's error message (short, no secrets). */
  errorMessage: string | null;
  retryAfterSec: number | null;
  gateway: GatewayInfo | null;
  /** Gemini `modelStatus` (stage, retirement day), when the reply carried one. */
  modelStatus?: { stage: string; retireAt: string | null; message: string | null } | null;
}

/** Incremental stream parser: feed SSE events, learn when content starts, then finish. */
export interface StreamParser {
  /** Returns true when this event carried the first non-empty content delta (time to first token). */
  push(event: { event: string | undefined; data: string }): { contentDelta: boolean };
  /** Called once the body ended (cleanly or not). `cut` is true when the transport ended abnormally. */
  finish(cut: boolean): Normalised;
}

export interface ProviderAdapter {
  kind: ProviderKind;
  buildRequest(spec: ProbeSpec, endpoint: ProviderEndpoint): BuiltRequest;
  /** Non-streaming response or any non-2xx response (streaming requests that got an error status included). */
  parseResponse(status: number, headers: Record<string, string>, body: string): Normalised;
  /** Only called for 2xx responses with an SSE content type. */
  createStreamParser(status: number, headers: Record<string, string>): StreamParser;
}
