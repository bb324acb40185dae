// The programmable state of one simulated server, its schema (for the control API), defaults per provider,
// and `decide()`, which turns (behaviour, request, time) into what to answer. No I/O here.
import { z } from 'zod';
import { isTimeZone } from '../time.ts';
import { DEFAULT_LATENCY, planLatency } from './latency.ts';
import type { LatencyConfig, LatencyPlan } from './latency.ts';
import type { Rng } from './rng.ts';
import { answerFor, refusalFor } from './text.ts';

export type SimProvider = 'openai' | 'anthropic' | 'gemini' | 'gateway';

/** Fault classes an error burst can inject. `stream_error` is an in-stream error event after a 200. */
export const FAULT_KINDS = [
  'rate_limited',
  'overloaded',
  'server_error',
  'auth',
  'bad_request',
  'context_length',
  'content_filter',
  'timeout',
  'reset',
  'malformed_json',
  'cut_stream',
  'malformed_sse',
  'empty',
  'stream_error',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const diurnalSchema = z.strictObject({
  timezone: z.string().refine(isTimeZone, 'unknown IANA timezone'),
  peakHour: z.number().min(0).max(24),
  peakMultiplier: z.number().min(0),
  widthHours: z.number().positive(),
  weekdaysOnly: z.boolean(),
  weekday: z.number().int().min(0).max(6).optional(),
});

const latencySchema = z.strictObject({
  ttfbMs: z.number().min(0),
  ttftMs: z.number().min(0),
  perTokenMs: z.number().min(0),
  jitter: z.number().min(0).max(1),
  diurnal: diurnalSchema.nullable(),
  bumps: z.array(diurnalSchema).max(8).optional(),
});

const burstSchema = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  /** Probability (0–1) that a matching request is faulted. */
  ratio: z.number().min(0).max(1),
  /** Remaining number of requests to fault; the burst disappears at 0. */
  count: z.number().int().min(0).optional(),
  /** Epoch ms (injected clock) after which the burst no longer applies. */
  until: z.number().optional(),
  /** Limit the blast radius: requested model, a request header (`name` or `name=value`), stream or not. */
  match: z
    .strictObject({ model: z.string().optional(), header: z.string().optional(), stream: z.boolean().optional() })
    .optional(),
});

const modelSchema = z.strictObject({
  id: z.string().min(1),
  /** Epoch seconds. */
  created: z.number().int(),
  ownedBy: z.string().optional(),
  /** OpenAI `shutdown_date` (YYYY-MM-DD) or null. */
  shutdownDate: z.string().nullable().optional(),
  displayName: z.string().optional(),
  inputTokenLimit: z.number().int().optional(),
  outputTokenLimit: z.number().int().optional(),
});

export const behaviourSchema = z.strictObject({
  latency: latencySchema,
  errors: z.array(burstSchema),
  /** Whole provider down: every non-control request gets the provider's 503/529. */
  outage: z.boolean(),
  /** Share of prompts answered with a refusal. */
  refusalRate: z.number().min(0).max(1),
  /** Per-prompt override: the first entry whose `match` is a substring (case-insensitive) of the prompt wins. */
  refusalOverrides: z.array(z.strictObject({ match: z.string().min(1), rate: z.number().min(0).max(1) })),
  /** Anthropic: share of refusals sent as `stop_reason: "refusal"` with no content (the rest are refusal text). */
  refusalStopReasonRatio: z.number().min(0).max(1),
  /** Requested model → served snapshot (`gpt-4o-mini` → `gpt-4o-mini-2024-07-18`). */
  aliases: z.record(z.string(), z.string()),
  /** OpenAI `system_fingerprint` (null is sent as null). */
  fingerprint: z.string().nullable(),
  /** What the model-list endpoint returns. */
  models: z.array(modelSchema),
  /** A requested model that is neither an alias nor listed: answer as requested, or the provider's 404. */
  unknownModel: z.enum(['serve', 'not_found']),
  /** Required API key; null accepts any non-empty key. */
  apiKey: z.string().nullable(),
  /** Gemini `modelStatus` per model (lifecycle signal in generateContent replies). */
  modelStatus: z.record(
    z.string(),
    z.strictObject({ modelStage: z.string(), retirementTime: z.string().optional(), message: z.string().optional() }),
  ),
});

export type SimBehaviour = z.infer<typeof behaviourSchema>;
export type ErrorBurst = z.infer<typeof burstSchema>;
export type ModelEntry = z.infer<typeof modelSchema>;
export type { LatencyConfig };

const D = (iso: string) => Math.floor(Date.parse(iso) / 1000);

const DEFAULTS: Record<SimProvider, Pick<SimBehaviour, 'aliases' | 'fingerprint' | 'models'>> = {
  openai: {
    aliases: {
      'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
      'gpt-4o': 'gpt-4o-2024-08-06',
      'gpt-4.1-nano': 'gpt-4.1-nano-2025-04-14',
      'gpt-4.1-mini': 'gpt-4.1-mini-2025-04-14',
    },
    fingerprint: 'fp_4f5f0b399a',
    models: [
      { id: 'gpt-4o-mini', created: D('2024-07-16'), ownedBy: 'system', shutdownDate: null },
      { id: 'gpt-4o-mini-2024-07-18', created: D('2024-07-16'), ownedBy: 'system', shutdownDate: null },
      { id: 'gpt-4o', created: D('2024-05-10'), ownedBy: 'system', shutdownDate: null },
      { id: 'gpt-4o-2024-08-06', created: D('2024-08-04'), ownedBy: 'system', shutdownDate: null },
      { id: 'gpt-4o-2024-05-13', created: D('2024-05-10'), ownedBy: 'system', shutdownDate: '2026-10-23' },
      { id: 'gpt-4.1-nano', created: D('2025-04-10'), ownedBy: 'system', shutdownDate: null },
      { id: 'gpt-4.1-nano-2025-04-14', created: D('2025-04-10'), ownedBy: 'system', shutdownDate: null },
      { id: 'gpt-4.1-mini', created: D('2025-04-10'), ownedBy: 'system', shutdownDate: null },
      { id: 'gpt-4.1-mini-2025-04-14', created: D('2025-04-10'), ownedBy: 'system', shutdownDate: null },
    ],
  },
  anthropic: {
    aliases: {
      'claude-sonnet-4-5': 'claude-sonnet-4-5-20250929',
      'claude-haiku-4-5': 'claude-haiku-4-5-20251001',
      'claude-3-5-haiku-latest': 'claude-3-5-haiku-20241022',
    },
    fingerprint: null,
    models: [
      { id: 'claude-opus-4-6', created: D('2026-02-04'), displayName: 'Claude Opus 4.6', inputTokenLimit: 200000, outputTokenLimit: 128000 },
      { id: 'claude-sonnet-4-5-20250929', created: D('2025-09-29'), displayName: 'Claude Sonnet 4.5', inputTokenLimit: 200000, outputTokenLimit: 64000 },
      { id: 'claude-haiku-4-5-20251001', created: D('2025-10-01'), displayName: 'Claude Haiku 4.5', inputTokenLimit: 200000, outputTokenLimit: 64000 },
      { id: 'claude-3-5-haiku-20241022', created: D('2024-10-22'), displayName: 'Claude Haiku 3.5', inputTokenLimit: 200000, outputTokenLimit: 8192 },
    ],
  },
  gemini: {
    aliases: {},
    fingerprint: null,
    models: [
      { id: 'gemini-2.5-flash', created: D('2025-06-17'), displayName: 'Gemini 2.5 Flash', inputTokenLimit: 1048576, outputTokenLimit: 65536 },
      { id: 'gemini-2.5-pro', created: D('2025-06-17'), displayName: 'Gemini 2.5 Pro', inputTokenLimit: 1048576, outputTokenLimit: 65536 },
      { id: 'gemini-2.0-flash', created: D('2025-02-05'), displayName: 'Gemini 2.0 Flash', inputTokenLimit: 1048576, outputTokenLimit: 8192 },
    ],
  },
  gateway: { aliases: {}, fingerprint: null, models: [] },
};

/** A fresh default behaviour for `provider` (gateway: no added latency of its own). */
export function defaultBehaviour(provider: SimProvider): SimBehaviour {
  const d = structuredClone(DEFAULTS[provider]);
  const latency: LatencyConfig =
    provider === 'gateway'
      ? { ttfbMs: 0, ttftMs: 0, perTokenMs: 0, jitter: 0, diurnal: null }
      : structuredClone(DEFAULT_LATENCY);
  return {
    latency,
    errors: [],
    outage: false,
    refusalRate: 0,
    refusalOverrides: [],
    refusalStopReasonRatio: provider === 'anthropic' ? 0.5 : 0,
    aliases: d.aliases,
    fingerprint: d.fingerprint,
    models: d.models,
    unknownModel: 'serve',
    apiKey: null,
    modelStatus: {},
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merge patch: objects merge, arrays and scalars replace, `null` sets null except inside `aliases` and
 * `modelStatus`, where it deletes the key. The result is validated as a whole; on error nothing changes. */
export function patchBehaviour(current: SimBehaviour, patch: unknown): SimBehaviour {
  const merged = merge(structuredClone(current), patch, '');
  const parsed = behaviourSchema.safeParse(merged);
  if (!parsed.success) throw new BehaviourError(z.prettifyError(parsed.error));
  return parsed.data;
}

export class BehaviourError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BehaviourError';
  }
}

const RECORD_KEYS = new Set(['aliases', 'modelStatus']);

function merge(target: unknown, patch: unknown, key: string): unknown {
  if (!isObject(patch) || !isObject(target)) return patch;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    if (v === null && RECORD_KEYS.has(key)) delete target[k];
    else target[k] = merge(target[k], v, k);
  }
  return target;
}

/** What a request asked for, extracted by the provider module. */
export interface RequestFacts {
  model: string;
  prompt: string;
  stream: boolean;
  maxTokens: number | null;
  headers: Record<string, string | string[] | undefined>;
}

export interface Decision {
  fault: FaultKind | null;
  refusal: boolean;
  /** Anthropic: answer a refusal with `stop_reason: "refusal"` and no content. */
  refusalStop: boolean;
  /** Model named in the reply. */
  servedModel: string;
  /** The requested model is neither an alias nor listed and `unknownModel` is `not_found`. */
  notFound: boolean;
  /** Output tokens (words with their leading space), already cut to maxTokens. */
  tokens: string[];
  text: string;
  finish: 'stop' | 'length';
  promptTokens: number;
  plan: LatencyPlan;
}

/** Resolve the served model: alias map first, then the model itself. */
export function resolveModel(b: SimBehaviour, model: string): { served: string; known: boolean } {
  const alias = b.aliases[model];
  if (alias) return { served: alias, known: true };
  const known = b.models.some((m) => m.id === model);
  return { served: model, known };
}

function headerMatches(spec: string, headers: RequestFacts['headers']): boolean {
  const eq = spec.indexOf('=');
  const name = (eq < 0 ? spec : spec.slice(0, eq)).trim().toLowerCase();
  const v = headers[name];
  const value = Array.isArray(v) ? v.join(', ') : v;
  if (value === undefined) return false;
  return eq < 0 || value === spec.slice(eq + 1).trim();
}

/** Pick the fault for this request from the outage flag and the bursts; consumes `count` and drops spent bursts. */
export function pickFault(b: SimBehaviour, facts: Pick<RequestFacts, 'model' | 'stream' | 'headers'>, now: number, rng: Rng): FaultKind | null {
  if (b.outage) return 'overloaded';
  if (b.errors.length === 0) return null;
  let picked: FaultKind | null = null;
  const keep: ErrorBurst[] = [];
  for (const burst of b.errors) {
    if ((burst.until !== undefined && now >= burst.until) || burst.count === 0) continue;
    keep.push(burst);
    if (picked) continue;
    const m = burst.match;
    if (m?.model !== undefined && m.model !== facts.model) continue;
    if (m?.stream !== undefined && m.stream !== facts.stream) continue;
    if (m?.header !== undefined && !headerMatches(m.header, facts.headers)) continue;
    if (burst.ratio < 1 && rng() >= burst.ratio) continue;
    picked = burst.kind;
    if (burst.count !== undefined) {
      burst.count -= 1;
      if (burst.count === 0) keep.pop();
    }
  }
  if (keep.length !== b.errors.length) b.errors = keep;
  return picked;
}

function refusalRateFor(b: SimBehaviour, prompt: string): number {
  if (b.refusalOverrides.length > 0) {
    const p = prompt.toLowerCase();
    for (const o of b.refusalOverrides) if (p.includes(o.match.toLowerCase())) return o.rate;
  }
  return b.refusalRate;
}

/** Roughly one token per word, plus a small per-request overhead as the real APIs count. */
export function countPromptTokens(prompt: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < prompt.length; i++) {
    const ws = prompt.charCodeAt(i) <= 32;
    if (!ws && !inWord) n++;
    inWord = !ws;
  }
  return n + 7;
}

/** Everything about the answer except its bytes. Mutates burst counters (see pickFault). */
export function decide(b: SimBehaviour, facts: RequestFacts, now: number, rng: Rng): Decision {
  const { served, known } = resolveModel(b, facts.model);
  const notFound = !known && b.unknownModel === 'not_found';
  const fault = notFound ? null : pickFault(b, facts, now, rng);
  const rate = refusalRateFor(b, facts.prompt);
  const refusal = rate > 0 && (rate >= 1 || rng() < rate);
  const refusalStop = refusal && b.refusalStopReasonRatio > 0 && rng() < b.refusalStopReasonRatio;
  let tokens = fault === 'empty' || refusalStop ? [] : refusal ? refusalFor(facts.prompt) : answerFor(facts.prompt);
  let finish: Decision['finish'] = 'stop';
  if (facts.maxTokens !== null && facts.maxTokens >= 0 && tokens.length > facts.maxTokens) {
    tokens = tokens.slice(0, facts.maxTokens);
    finish = 'length';
  }
  const plan = planLatency(b.latency, now, tokens.length, rng);
  return {
    fault,
    refusal,
    refusalStop,
    servedModel: served,
    notFound,
    tokens,
    text: tokens.join(''),
    finish,
    promptTokens: countPromptTokens(facts.prompt),
    plan,
  };
}
