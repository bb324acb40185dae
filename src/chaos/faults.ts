// Faults the chaos proxy can inject: their schema (zod, snake_case like the scenario YAML and the HTTP control
// API), blast-radius matching, and the in-memory table that enforces TTLs on the injected clock.
// Faults are never persisted: a restart clears them all, by design (a drill must not outlive its process).
import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';
import { createRng } from '../sim/rng.ts';
import type { Rng } from '../sim/rng.ts';
import { DRILL_HEADER } from './gateway-native.ts';

export const FAULT_KINDS = [
  'http_status',
  'latency',
  'slow_ttft',
  'throttle',
  'stream_cut',
  'malformed',
  'stream_error',
  'reset',
  'content_filter',
  'refusal',
  'empty',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Kinds that only make sense on a streamed answer; non-stream requests never match them. */
export const STREAM_ONLY_KINDS: readonly FaultKind[] = ['throttle', 'stream_error'];

/** Default and ceiling for a fault's time to live (chaos_anchors.md D: at most 10 minutes). */
export const DEFAULT_TTL_MS = 60_000;
export const MAX_TTL_MS = 600_000;
/** Live faults at most (issue 13: uncapped faults); more is refused with 429 until one expires or is cleared. */
export const DEFAULT_MAX_FAULTS = 32;

/**
 * The scope header: the proxy faults only requests that carry it (the drill runner sets it to the run id, and
 * every fault must match on it). Traffic without it is never faulted, whatever a fault says.
 */
export const SCOPE_HEADER = DRILL_HEADER;

const delayMs = (what: string) => z.number().int().min(0).max(600_000).describe(what);

const ttl = z
  .union([
    z.string().refine((s) => parseDuration(s) !== null, 'a duration such as "90s" or "5m"'),
    z.number().int().positive().describe('milliseconds'),
  ])
  .describe('Time to live ("90s", "5m" or milliseconds); the proxy drops the fault after it, whatever happens.');

export const matchSchema = z
  .strictObject({
    model: z.string().min(1).optional().describe('Glob on the requested model (`*` any run, `?` one char).'),
    headers: z
      .record(z.string().min(1), z.string())
      .optional()
      .describe('Request headers that must be present, name → glob on the value ("*" = any value), e.g. {"x-vigil-drill": "weekly-1"}.'),
    path: z.string().min(1).optional().describe('Glob on the upstream path after /proxy/<upstream>, e.g. "/v1/messages" or "*:streamGenerateContent" (case-sensitive).'),
    stream: z.boolean().optional().describe('Only streamed (true) or only non-streamed (false) requests.'),
  })
  .describe('Blast radius: every given condition must hold.');

const common = {
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'letters, digits, ".", "_", ":", "-" (at most 64)')
    .optional()
    .describe('Fault id (generated when omitted); injecting an existing id replaces that fault.'),
  upstream: z.string().min(1).describe('Upstream name, the <name> in /proxy/<name>/...'),
  ratio: z.number().min(0).max(1).default(1).describe('Share of matching requests faulted (0 never, 1 always), seeded RNG.'),
  match: matchSchema.default({}),
  ttl: ttl.optional(),
  max_hits: z.number().int().positive().optional().describe('Fault at most this many requests, then drop the fault.'),
  note: z.string().max(200).optional().describe('Free text shown in listings (e.g. the drill id).'),
};

const afterEvents = z
  .number()
  .int()
  .min(0)
  .default(1)
  .describe('Content events passed through untouched before the fault hits (the last event is hit if the stream is shorter).');

export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    ...common,
    kind: z.literal('http_status'),
    status: z.number().int().min(400).max(599).describe("HTTP status, answered with the provider's own error JSON."),
    retry_after_sec: z.number().min(0).optional().describe('Retry-After to send (OpenAI/Anthropic header, Gemini RetryInfo).'),
    message: z.string().min(1).max(500).optional().describe("Override the provider's error message."),
    delay_ms: delayMs('Wait before answering.').default(0),
  }),
  z.strictObject({ ...common, kind: z.literal('latency'), delay_ms: delayMs('Added before the request is forwarded (before headers).') }),
  z.strictObject({ ...common, kind: z.literal('slow_ttft'), delay_ms: delayMs('Headers on time, body held this long (time to first token).') }),
  z.strictObject({
    ...common,
    kind: z.literal('throttle'),
    tokens_per_sec: z.number().positive().max(100_000).describe('Content events (≈ tokens) per second at most.'),
  }),
  z.strictObject({ ...common, kind: z.literal('stream_cut'), after_events: afterEvents }),
  z.strictObject({
    ...common,
    kind: z.literal('malformed'),
    format: z.enum(['json', 'sse']).default('json').describe('json: one event (or the body) truncated mid-JSON; sse: SSE framing dropped from there on.'),
    after_events: afterEvents,
  }),
  z.strictObject({ ...common, kind: z.literal('stream_error'), after_events: afterEvents }),
  z.strictObject({ ...common, kind: z.literal('reset'), delay_ms: delayMs('Wait before resetting the connection.').default(0) }),
  z.strictObject({ ...common, kind: z.literal('content_filter'), delay_ms: delayMs('Wait before answering.').default(0) }),
  z.strictObject({ ...common, kind: z.literal('refusal'), delay_ms: delayMs('Wait before answering.').default(0) }),
  z.strictObject({ ...common, kind: z.literal('empty'), delay_ms: delayMs('Wait before answering.').default(0) }),
]);

/** What callers send (YAML / JSON / typed API). */
export type FaultInput = z.input<typeof faultSchema>;
/** A validated fault spec, defaults applied. */
export type FaultSpec = z.output<typeof faultSchema>;

/** A live fault in the table. */
export interface Fault {
  id: string;
  spec: FaultSpec;
  createdAt: number;
  expiresAt: number;
  /** Requests that matched (before the ratio draw). */
  seen: number;
  /** Requests actually faulted. */
  hits: number;
  matcher: CompiledMatch;
  /** The scope header's glob, compiled: which drill requests the pass-through path hands to the fault engine. */
  scope: RegExp;
}

/** JSON view of a fault for list() and GET /proxy/_faults. */
export type FaultView = FaultSpec & {
  id: string;
  created_at: string;
  expires_at: string;
  ttl_ms: number;
  seen: number;
  hits: number;
};

export class FaultValidationError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid fault: ${issues.join('; ')}`);
    this.name = 'FaultValidationError';
    this.issues = issues;
  }
}

/** Validate a fault (throws FaultValidationError with one line per problem). */
export function parseFault(input: unknown): FaultSpec {
  const r = faultSchema.safeParse(input);
  if (!r.success) {
    throw new FaultValidationError(r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(fault)'}: ${i.message}`));
  }
  return r.data;
}

/** A fault the table refuses for its state, not its shape: an id still live (409) or the cap reached (429). */
export class FaultLimitError extends Error {
  readonly status: 409 | 429;
  /** For 429: seconds until the soonest live fault expires. */
  readonly retryAfterSec: number | null;
  constructor(message: string, status: 409 | 429, retryAfterSec: number | null = null) {
    super(message);
    this.name = 'FaultLimitError';
    this.status = status;
    this.retryAfterSec = retryAfterSec;
  }
}

/** The glob a fault puts on the scope header, or null when it has none (or one that any value matches). */
export function scopeOf(spec: FaultSpec): string | null {
  for (const [name, glob] of Object.entries(spec.match.headers ?? {})) {
    // A bare "*" would fault every request that carries the header, whatever drill sent it.
    if (name.toLowerCase() === SCOPE_HEADER && /[^*?]/.test(glob)) return glob;
  }
  return null;
}

export function ttlMsOf(spec: FaultSpec, defaultTtlMs = DEFAULT_TTL_MS): number {
  if (spec.ttl === undefined) return defaultTtlMs;
  return typeof spec.ttl === 'number' ? spec.ttl : parseDuration(spec.ttl)!;
}

// ---- matching ----

/** What the proxy knows about a request when it picks a fault. */
export interface RequestFacts {
  upstream: string;
  /** Path after /proxy/<upstream>, without the query. */
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string | string[] | undefined>;
  model: string | null;
  stream: boolean;
}

export interface CompiledMatch {
  model: RegExp | null;
  path: RegExp | null;
  headers: [string, RegExp][];
  stream: boolean | undefined;
}

/** `*` any run of characters, `?` one character, everything else literal; whole-string match. */
export function globToRegExp(glob: string): RegExp {
  const src = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${src}$`, 's');
}

export function compileMatch(m: FaultSpec['match']): CompiledMatch {
  return {
    model: m.model !== undefined ? globToRegExp(m.model) : null,
    path: m.path !== undefined ? globToRegExp(m.path) : null,
    headers: Object.entries(m.headers ?? {}).map(([k, v]) => [k.toLowerCase(), globToRegExp(v)]),
    stream: m.stream,
  };
}

/** Pure: does this request fall inside the fault's blast radius (ratio aside)? */
export function matches(spec: FaultSpec, m: CompiledMatch, req: RequestFacts): boolean {
  if (spec.upstream !== req.upstream) return false;
  if (!req.stream && STREAM_ONLY_KINDS.includes(spec.kind)) return false;
  if (m.stream !== undefined && m.stream !== req.stream) return false;
  if (m.model && (req.model === null || !m.model.test(req.model))) return false;
  if (m.path && !m.path.test(req.path)) return false;
  for (const [name, re] of m.headers) {
    const v = req.headers[name];
    if (v === undefined) return false;
    const values = Array.isArray(v) ? v : [v];
    if (!values.some((x) => re.test(x))) return false;
  }
  return true;
}

// ---- the table ----

export interface FaultTableOptions {
  now: () => number;
  seed?: number;
  defaultTtlMs?: number;
  maxTtlMs?: number;
  /** Live faults at most (default DEFAULT_MAX_FAULTS). */
  maxFaults?: number;
  /** Called when a fault leaves the table by expiry or exhaustion (not by clear). */
  onRemoved?: (fault: Fault, why: 'expired' | 'exhausted') => void;
}

/**
 * In-memory faults, in injection order (the oldest matching fault wins). Expiry is checked against the
 * injected clock on every pick and list, so an expired fault never applies even if no sweep ran.
 */
export class FaultTable {
  private readonly faults = new Map<string, Fault>();
  private readonly rng: Rng;
  private readonly opts: FaultTableOptions;
  private seq = 0;

  constructor(opts: FaultTableOptions) {
    this.opts = opts;
    this.rng = createRng(opts.seed ?? 1);
  }

  get size(): number {
    return this.faults.size;
  }

  /**
   * Validate and add; returns the stored fault. Throws FaultValidationError (shape, scope, TTL) or
   * FaultLimitError (an id still live: 409; the cap reached: 429).
   */
  add(input: unknown): Fault {
    const spec = parseFault(input);
    const scope = scopeOf(spec);
    if (scope === null) {
      throw new FaultValidationError([
        `match.headers.${SCOPE_HEADER}: required (the drill's run id): the proxy only faults requests that carry the ${SCOPE_HEADER} header, never other traffic`,
      ]);
    }
    const ttlMs = ttlMsOf(spec, this.opts.defaultTtlMs);
    const max = this.opts.maxTtlMs ?? MAX_TTL_MS;
    if (ttlMs > max) throw new FaultValidationError([`ttl: ${ttlMs} ms is longer than the proxy's maximum of ${max} ms`]);
    this.sweep();
    const now = this.opts.now();
    // Generated ids don't consume RNG draws, so ratios stay reproducible for a seed.
    const id = spec.id ?? `fault-${now.toString(36)}-${++this.seq}`;
    // A live id is never silently replaced (that would extend its TTL for ever): clear it first.
    if (this.faults.has(id)) throw new FaultLimitError(`fault ${id} is already live; clear it before injecting it again`, 409);
    const cap = this.opts.maxFaults ?? DEFAULT_MAX_FAULTS;
    if (this.faults.size >= cap) {
      let soonest = Infinity;
      for (const f of this.faults.values()) soonest = Math.min(soonest, f.expiresAt);
      throw new FaultLimitError(`${cap} faults are live, the most this proxy holds; clear some or wait for one to expire`, 429, Math.max(1, Math.ceil((soonest - now) / 1000)));
    }
    const fault: Fault = {
      id,
      spec: { ...spec, id },
      createdAt: now,
      expiresAt: now + ttlMs,
      seen: 0,
      hits: 0,
      matcher: compileMatch(spec.match),
      scope: globToRegExp(scope),
    };
    this.faults.set(id, fault);
    return fault;
  }

  /** Remove one fault (1 if it existed) or, without an id, all of them (returns how many). */
  clear(id?: string): number {
    if (id === undefined) {
      const n = this.faults.size;
      this.faults.clear();
      return n;
    }
    return this.faults.delete(id) ? 1 : 0;
  }

  /** Drop expired faults now. */
  sweep(): void {
    const now = this.opts.now();
    for (const f of this.faults.values()) if (now >= f.expiresAt) this.remove(f, 'expired');
  }

  list(): Fault[] {
    this.sweep();
    return [...this.faults.values()];
  }

  get(id: string): Fault | undefined {
    this.sweep();
    return this.faults.get(id);
  }

  /**
   * Could a live fault apply to a request on `upstream` whose scope header is `value`? Cheap (no counting, no
   * ratio draw): the pass-through path asks it only for requests that carry the header.
   */
  scoped(upstream: string, value: string): boolean {
    if (this.faults.size === 0) return false;
    const now = this.opts.now();
    for (const f of this.faults.values()) {
      if (now < f.expiresAt && f.spec.upstream === upstream && f.scope.test(value)) return true;
    }
    return false;
  }

  /** The fault to apply to this request, if any; counts `seen` and `hits`. */
  pick(req: RequestFacts): Fault | null {
    if (this.faults.size === 0) return null;
    const now = this.opts.now();
    for (const f of this.faults.values()) {
      if (now >= f.expiresAt) {
        this.remove(f, 'expired');
        continue;
      }
      if (!matches(f.spec, f.matcher, req)) continue;
      f.seen++;
      const ratio = f.spec.ratio;
      // Ratio 0 never fires and 1 always does, without consuming a draw (toxiproxy #603).
      if (ratio <= 0 || (ratio < 1 && this.rng() >= ratio)) continue;
      f.hits++;
      if (f.spec.max_hits !== undefined && f.hits >= f.spec.max_hits) this.remove(f, 'exhausted');
      return f;
    }
    return null;
  }

  private remove(f: Fault, why: 'expired' | 'exhausted'): void {
    if (this.faults.get(f.id) !== f) return;
    this.faults.delete(f.id);
    this.opts.onRemoved?.(f, why);
  }
}

export function viewOf(f: Fault): FaultView {
  return {
    ...f.spec,
    id: f.id,
    created_at: new Date(f.createdAt).toISOString(),
    expires_at: new Date(f.expiresAt).toISOString(),
    ttl_ms: f.expiresAt - f.createdAt,
    seen: f.seen,
    hits: f.hits,
  };
}
