// Domain types shared by every module. Keep them here, in one place; modules import types only.

/** Closed list of error classes (DESIGN.md "Core types"). `null` on a ProbeResult means no error. */
export const ERROR_CLASSES = [
  'timeout',
  'connect',
  'rate_limited',
  'overloaded',
  'server_error',
  'auth',
  'bad_request',
  'context_length',
  'content_filter',
  'malformed',
  'assertion',
  // Vigil's own fault: out of sockets, file descriptors or memory. Says nothing about the target; outcome `unknown`.
  'local',
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Transient classes: worth a retry / confirmation re-probe. Config problems (auth, bad_request) are not. */
export const TRANSIENT_ERROR_CLASSES: readonly ErrorClass[] = [
  'timeout',
  'connect',
  'rate_limited',
  'overloaded',
  'server_error',
  'malformed',
];

/**
 * `unknown`: the probe could not judge its target because of Vigil's own fault (out of sockets or memory): it is
 * stored and counted, but no detector sees it, so our own trouble never pages as a provider's outage.
 */
export type Outcome = 'ok' | 'degraded' | 'failed' | 'unknown';

/** Normalised finish reasons (see shared/data/transcripts/README.md "How expect is normalised"). */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'refusal' | 'error' | 'other';

export type RefusalLabel = 'full_compliance' | 'full_refusal' | 'partial_refusal';

export type ProviderKind = 'openai' | 'anthropic' | 'gemini' | 'gateway';

export type ProbeKind = 'canary' | 'benign' | 'should_refuse';

/** Where a timeout fired. */
export type TimeoutPhase = 'connect' | 'first_byte' | 'total';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One assertion on a result; exactly one key is set (the YAML shape, validated by the config schema). */
export type Assertion =
  | { contains: string }
  | { not_contains: string }
  | { regex: string }
  | { json: true }
  | { json_schema: Record<string, unknown> }
  | { max_ttft_ms: number }
  | { max_total_ms: number }
  | { served_model: string }
  | { refusal: 'expected' | 'forbidden' };

export interface AssertionVerdict {
  /** Human-readable form, e.g. `contains "pong"`. */
  assertion: string;
  passed: boolean;
  /** What was seen, e.g. `text was "Ping."` or `ttft 2412 ms`. */
  detail: string;
  /** Soft assertions degrade instead of fail (latency budgets by default). */
  soft: boolean;
}

export interface Schedule {
  /** Interval in milliseconds (from `every: 60s`), or undefined when `cron` is set. */
  everyMs?: number;
  cron?: string;
  timezone: string;
}

export interface Timeouts {
  connectMs: number;
  firstByteMs: number;
  totalMs: number;
}

/** Diurnal latency detector settings of one probe (YAML `latency:`; see src/detectors/latency/config.ts). */
export interface LatencySettings {
  enabled: boolean;
  /** IANA timezone of the hour-of-week buckets (the probe's). */
  timezone: string;
  /** Rarity threshold in long-run standard deviations. */
  sensitivity: number;
  minSamples: number;
  direction: 'high' | 'low' | 'both';
  ceilingMs: Partial<Record<'ttft' | 'total', number>>;
  floorMs: Partial<Record<'ttft' | 'total', number>>;
}

export interface ProbeSpec {
  id: string;
  owner: string;
  /** `provider:<name>` or `gateway` (or `gateway:<name>`). */
  target: string;
  model: string;
  kind: ProbeKind;
  messages: ChatMessage[];
  stream: boolean;
  maxTokens: number;
  temperature?: number;
  schedule: Schedule;
  timeouts: Timeouts;
  assertions: Assertion[];
  labels: Record<string, string>;
  /** Extra request headers (already interpolated; may hold secrets: never log). */
  headers: Record<string, string>;
  /** Diurnal latency detector settings (defaults when the YAML says nothing). */
  latency?: LatencySettings;
  /** Locations that run this probe; absent: every instance does. */
  locations?: string[];
  /** Where the spec came from, for error messages. */
  source?: { file: string; line: number };
}

/** A resolved endpoint a probe talks to (from vigil.yaml providers/gateway). */
export interface ProviderEndpoint {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  /** Secret; never log, store or export. */
  apiKey?: string;
  headers: Record<string, string>;
  /** Anthropic API version header, Gemini API version path etc. */
  apiVersion?: string;
}

/** Per-phase timings in milliseconds, measured from the client's own hooks. */
export interface Timings {
  /** TCP connect (0 when the connection was reused). */
  connectMs: number | null;
  /** TLS handshake (null for plain HTTP). */
  tlsMs: number | null;
  /** Request start to response headers. */
  ttfbMs: number | null;
  /** Request start to the first content delta (stream), or to the full body (non-stream). */
  ttftMs: number | null;
  /** Request start to the end of the body. */
  totalMs: number;
  /** Output tokens per second over the generation (after the first token). */
  outputTokensPerSec: number | null;
  /**
   * Time the request waited inside Vigil before reaching the wire (pool wait, undici's idle-socket check when
   * hundreds of probes start in one tick). Already subtracted from ttfb/ttft/total: no user request waits
   * behind our own canaries.
   */
  queuedMs?: number;
}

export interface GatewayInfo {
  /** Which gateway target served (LiteLLM model id, Portkey option index, ...). */
  servedBy: string | null;
  /** Provider that served, as the gateway reports it. */
  provider: string | null;
  /** Fallbacks attempted before the serving target, when the gateway says. */
  attemptedFallbacks: number | null;
  retryAttempts: number | null;
  raw: Record<string, string>;
}

export interface ProbeResult {
  probeId: string;
  /** Epoch ms when the attempt started (from the injected clock). */
  startedAt: number;
  target: string;
  provider: ProviderKind;
  requestedModel: string;
  servedModel: string | null;
  fingerprint: string | null;
  outcome: Outcome;
  errorClass: ErrorClass | null;
  /** Human-readable reason (assertion that failed, timeout phase, provider error message, redacted). */
  errorMessage: string | null;
  timeoutPhase: TimeoutPhase | null;
  httpStatus: number | null;
  /** Seconds from `retry-after` (or Gemini RetryInfo), when present. */
  retryAfterSec: number | null;
  timings: Timings;
  tokensIn: number | null;
  tokensOut: number | null;
  costUsd: number | null;
  finishReason: FinishReason | null;
  refusal: RefusalLabel | null;
  /** First characters of the answer (redacted of nothing secret: it is model output). */
  excerpt: string;
  /** sha256 hex of the full answer text. */
  textHash: string;
  assertions: AssertionVerdict[];
  gateway: GatewayInfo | null;
  /** Gemini's in-band lifecycle (`modelStatus` of the reply), when the provider sent one. */
  modelStatus?: { stage: string; retireAt: string | null; message: string | null };
  /** 1 for the first attempt, 2 for a confirmation re-probe, ... */
  attempt: number;
  /** True when this result is a confirmed failure (failed, and its confirmation also failed). */
  confirmed: boolean;
  /** Set when the attempt belongs to a drill. */
  drillId?: string;
  /** The vantage point (instance location) that ran it; absent on results from before locations. */
  location?: string;
}

export type Severity = 'critical' | 'warning' | 'info';

export interface Signal {
  detector: string;
  /** What it is about, stable across evaluations (e.g. probe id, `provider:openai`, model name). */
  key: string;
  severity: Severity;
  status: 'firing' | 'resolved';
  summary: string;
  evidence: Record<string, string | number | boolean | null>;
  labels: Record<string, string>;
  at: number;
}

export type IncidentState = 'pending' | 'firing' | 'resolved';

export interface NotificationRecord {
  receiver: string;
  action: 'trigger' | 'resolve' | 'update' | 'test';
  status: 'queued' | 'sent' | 'failed' | 'expired';
  /** PagerDuty dedup key or Slack channel:ts. */
  ref: string | null;
  at: number;
}

export interface Incident {
  id: string;
  dedupKey: string;
  detector: string;
  key: string;
  state: IncidentState;
  severity: Severity;
  summary: string;
  labels: Record<string, string>;
  evidence: Signal['evidence'];
  firstSeen: number;
  lastSeen: number;
  resolvedAt: number | null;
  flapping: boolean;
  notifications: NotificationRecord[];
}

/**
 * A safety drill's finding (src/chaos/drill-safety.ts): a should-refuse prompt that a fallback answered while the
 * primary refused (`safety_bypass`, a failure), or a benign prompt the user was left refused on (`false_refusal`,
 * a warning). One per probe and refusal shape.
 */
export interface SafetyFinding {
  kind: 'safety_bypass' | 'false_refusal';
  probe: string;
  prompt: string;
  /** The refusal injected on the primary (the fault, described). */
  fault: string;
  /** The gateway target that answered, as the gateway reports it. */
  servedBy: string | null;
  provider: string | null;
  servedModel: string | null;
  route: 'primary' | 'fallback' | 'unknown';
  httpStatus: number | null;
  /** The start of what the user got (at most 160 characters). */
  excerpt: string;
  /** Attempts of this probe with this finding. */
  attempts: number;
  /** The gateway setting that most likely caused it. */
  likelyCause: string;
  fix: string;
}

/**
 * How a drill run ended. `running`: stored while it is in progress (its journal is written as it goes);
 * `interrupted`: the process running it died before it finished (found at the next start).
 */
export type DrillVerdict = 'passed' | 'failed' | 'skipped' | 'aborted' | 'error' | 'interrupted' | 'running';

export interface DrillResult {
  drillId: string;
  startedAt: number;
  /** While `running`: the time of the last journal entry. */
  finishedAt: number;
  verdict: DrillVerdict;
  reason: string;
  injected: string;
  servedBy: string | null;
  fallbackLatencyMs: number | null;
  results: ProbeResult[];
}
