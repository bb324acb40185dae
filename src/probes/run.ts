// Run one probe attempt: build request → call → normalise → judge → ProbeResult.
// A probe never pages and never throws for provider trouble: every failure becomes a classified result.
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type {
  ErrorClass,
  Outcome,
  ProbeResult,
  ProbeSpec,
  ProviderEndpoint,
  RefusalLabel,
  TimeoutPhase,
  Timings,
} from '../domain.ts';
import type { HttpClient, HttpResponse, PhaseMarks } from '../http/types.ts';
import { HttpError } from '../http/types.ts';
import { queuedMs, readBodyText } from '../http/client.ts';
import { readSse } from '../http/sse.ts';
import { adapterFor } from '../providers/index.ts';
import type { Normalised } from '../providers/types.ts';
import { evaluateAssertions, outcomeFrom } from '../classify/assertions.ts';
import { classifyRefusal } from '../classify/refusal.ts';
import { localFault } from './local-fault.ts';
import { redactDeep } from '../config/redact.ts';

export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface RunnerDeps {
  http: HttpClient;
  clock: Clock;
  /** Resolve a probe target (`provider:openai`, `gateway`) to its endpoint; throws for unknown targets. */
  endpointFor(target: string): ProviderEndpoint;
  /** Price per million tokens for a model, or null when unknown. */
  priceFor(model: string): Price | null;
}

export interface RunContext {
  attempt?: number;
  signal?: AbortSignal;
  drillId?: string;
  /** Extra request headers for this attempt only (drills mark their traffic). */
  headers?: Record<string, string>;
  /** Sees the response status and headers (benchmarks correlate with the simulator's request id). */
  onResponse?: (status: number, headers: Record<string, string>) => void;
}

const EXCERPT_CHARS = 200;

/** A failure of the call itself (no usable answer): its class, a short reason, and the timeout phase if any. */
type TransportFailure = { cls: ErrorClass; message: string; phase: TimeoutPhase | null };

export async function runProbe(spec: ProbeSpec, deps: RunnerDeps, ctx: RunContext = {}): Promise<ProbeResult> {
  const endpoint = deps.endpointFor(spec.target);
  const adapter = adapterFor(endpoint.kind);
  const built = adapter.buildRequest(spec, endpoint);
  const startedAt = deps.clock.now();
  const t0 = deps.clock.monotonic();

  let norm: Normalised | null = null;
  let status: number | null = null;
  let marks: PhaseMarks | null = null;
  let ttftMs: number | null = null;
  let lastContentMs: number | null = null;
  let transport: TransportFailure | null = null;

  try {
    const res = await deps.http.request({
      url: built.url,
      method: 'POST',
      headers: ctx.headers ? { ...built.headers, ...ctx.headers } : built.headers,
      body: built.body,
      timeouts: spec.timeouts,
      signal: ctx.signal,
    });
    status = res.status;
    marks = res.marks;
    ctx.onResponse?.(res.status, res.headers);
    const ctype = res.headers['content-type'] ?? '';
    if (res.status >= 200 && res.status < 300 && ctype.includes('text/event-stream')) {
      const streamed = await consumeStream(res, adapter.createStreamParser(res.status, res.headers));
      norm = streamed.norm;
      ttftMs = streamed.ttftMs;
      lastContentMs = streamed.lastContentMs;
      if (streamed.error) transport = streamed.error;
    } else {
      let body: string;
      try {
        body = await readBodyText(res);
      } catch (err) {
        // Body cut before it ended: what arrived is unparseable by definition.
        if (err instanceof HttpError && err.kind !== 'reset') throw err;
        body = '';
      }
      norm = adapter.parseResponse(res.status, res.headers, body);
      if (res.status >= 200 && res.status < 300) ttftMs = res.marks.totalMs;
    }
  } catch (err) {
    const local = localFault(err);
    if (local) {
      marks = err instanceof HttpError ? err.marks : marks;
      transport = { cls: 'local', message: `Vigil's own fault, not the target's: ${local}`.slice(0, 200), phase: null };
    } else if (err instanceof HttpError) {
      marks = err.marks;
      transport = transportError(err);
    } else {
      transport = { cls: 'malformed', message: `client error: ${(err as Error).message}`.slice(0, 200), phase: null };
    }
  }

  // The HTTP layer stamps the end of the body; when the call died first, fall back to elapsed time.
  const rawTotalMs = marks?.totalMs ?? deps.clock.monotonic() - t0;
  const q = marks && 'sentMs' in marks ? queuedMs(marks as Parameters<typeof queuedMs>[0]) : 0;
  const less = (v: number | null) => (v == null ? null : Math.max(0, v - q));
  ttftMs = less(ttftMs);
  lastContentMs = less(lastContentMs);
  const totalMs = less(rawTotalMs) ?? 0;
  const text = norm?.text ?? '';
  const timings: Timings = {
    connectMs: marks?.connectMs ?? null,
    tlsMs: marks?.tlsMs ?? null,
    ttfbMs: less(marks?.ttfbMs ?? null),
    ttftMs,
    totalMs,
    outputTokensPerSec: tokensPerSec(norm?.tokensOut ?? null, ttftMs, lastContentMs ?? totalMs),
    ...(q > 0 ? { queuedMs: q } : {}),
  };

  let refusal: RefusalLabel | null = null;
  if (norm?.finishReason === 'refusal') refusal = 'full_refusal';
  else if (text && !norm?.errorClass && !transport) refusal = classifyRefusal(text);

  let errorClass: ErrorClass | null = transport?.cls ?? norm?.errorClass ?? null;
  let errorMessage: string | null = transport?.message ?? norm?.errorMessage ?? null;
  let outcome: Outcome = errorClass === 'local' ? 'unknown' : errorClass ? 'failed' : 'ok';
  const verdicts = errorClass
    ? []
    : evaluateAssertions(spec.assertions, {
        text,
        ttftMs,
        totalMs: timings.totalMs,
        servedModel: norm?.servedModel ?? null,
        refusal,
      });
  if (!errorClass) {
    const judged = outcomeFrom(verdicts);
    outcome = judged.outcome;
    if (judged.outcome === 'failed') {
      errorClass = 'assertion';
      errorMessage = judged.message;
    } else if (judged.outcome === 'degraded') {
      errorMessage = judged.message;
    }
  }

  const price = deps.priceFor(norm?.servedModel ?? spec.model) ?? deps.priceFor(spec.model);
  const tokensIn = norm?.tokensIn ?? null;
  const tokensOut = norm?.tokensOut ?? null;
  const costUsd =
    price && (tokensIn != null || tokensOut != null)
      ? ((tokensIn ?? 0) * price.inputPerMTok + (tokensOut ?? 0) * price.outputPerMTok) / 1e6
      : null;

  // Normalisation is where provider text enters Vigil: a key the provider echoes back (in an error message, an
  // excerpt, a verdict) is masked here, before anything stores, shows or sends it.
  return redactDeep({
    probeId: spec.id,
    startedAt,
    target: spec.target,
    provider: endpoint.kind,
    requestedModel: spec.model,
    servedModel: norm?.servedModel ?? null,
    fingerprint: norm?.fingerprint ?? null,
    outcome,
    errorClass,
    errorMessage,
    timeoutPhase: transport?.phase ?? null,
    httpStatus: status,
    retryAfterSec: norm?.retryAfterSec ?? null,
    timings,
    tokensIn,
    tokensOut,
    costUsd,
    finishReason: transport ? 'error' : (norm?.finishReason ?? null),
    refusal,
    excerpt: text.slice(0, EXCERPT_CHARS),
    textHash: createHash('sha256').update(text).digest('hex'),
    assertions: verdicts,
    gateway: norm?.gateway ?? null,
    ...(norm?.modelStatus ? { modelStatus: norm.modelStatus } : {}),
    attempt: ctx.attempt ?? 1,
    confirmed: false,
    ...(ctx.drillId ? { drillId: ctx.drillId } : {}),
  } satisfies ProbeResult);
}

async function consumeStream(
  res: HttpResponse,
  parser: ReturnType<ReturnType<typeof adapterFor>['createStreamParser']>,
): Promise<{
  norm: Normalised;
  ttftMs: number | null;
  lastContentMs: number | null;
  error: TransportFailure | null;
}> {
  let ttftMs: number | null = null;
  let lastContentMs: number | null = null;
  let cut = false;
  let error: TransportFailure | null = null;
  try {
    for await (const ev of readSse(res)) {
      const { contentDelta } = parser.push(ev);
      if (contentDelta) {
        if (ttftMs === null) ttftMs = ev.at;
        lastContentMs = ev.at;
      } else if (ttftMs !== null && ev.data !== '[DONE]') {
        // The parser flags only the first content delta; later events mark the generation's progress.
        lastContentMs = ev.at;
      }
    }
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    cut = true;
    // A timeout mid-stream is a timeout; a reset is a broken stream, which the adapter reports as malformed.
    if (err.kind === 'timeout' || err.kind === 'aborted') error = transportError(err);
  }
  return { norm: parser.finish(cut), ttftMs, lastContentMs, error };
}

function transportError(err: HttpError): TransportFailure {
  switch (err.kind) {
    case 'timeout':
      return { cls: 'timeout', message: `timeout (${err.phase ?? 'total'}): ${err.message}`.slice(0, 200), phase: err.phase ?? 'total' };
    case 'connect':
      return { cls: 'connect', message: err.message.slice(0, 200), phase: null };
    case 'reset':
      // Only reached before any response (a reset mid-body is a cut body or stream, which the adapter reports as
      // malformed): the connection failed, which gateways fall back on too.
      return { cls: 'connect', message: `connection reset before a response: ${err.message}`.slice(0, 200), phase: null };
    case 'aborted':
      return { cls: 'timeout', message: 'aborted (probe cancelled)', phase: 'total' };
  }
}

function tokensPerSec(tokensOut: number | null, ttftMs: number | null, endMs: number | null): number | null {
  if (tokensOut == null || ttftMs == null || endMs == null) return null;
  const genMs = endMs - ttftMs;
  if (genMs <= 0 || tokensOut <= 1) return null;
  // The first token arrived at ttft; the remaining ones over the generation window.
  return (tokensOut - 1) / (genMs / 1000);
}
