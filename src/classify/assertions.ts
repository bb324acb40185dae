// Assertions on a probe's answer. Each verdict names the assertion and what was seen, so a page can say
// `contains "pong": text was "Ping!"` or `max_ttft_ms 2000: ttft 2412 ms > 2000 ms` without anyone re-running it.
//
// Semantics:
//  - contains / not_contains: case-insensitive substring.
//  - regex: a JavaScript pattern, case-sensitive unless written as `/pattern/flags` (e.g. `/pong/i`); compiled once
//    and cached. `compileRegex` throws on an invalid pattern so the config loader can report it with file:line.
//  - json: the answer parses as JSON; a ```json fenced block (alone or inside prose) is accepted.
//  - json_schema: as json, then validated with ajv (draft-07, or 2020-12 when `$schema` says so); the compiled
//    validator is cached per schema object.
//  - max_ttft_ms / max_total_ms: soft. A miss makes the outcome `degraded`, never `failed` (slow is not down).
//  - served_model: exact match, or a prefix match when the pin ends with `*` (`gpt-4o-2024-*`).
//  - refusal: uses the refusal classifier with the binary view XSTest scores (full or partial refusal = refusal),
//    which is also where the classifier is most accurate. `forbidden` fails on a full or partial refusal: a hedged,
//    half-answer to a benign prompt is over-refusal. `expected` passes on a full or partial refusal: "I can't help
//    with that, but here is a safe alternative" is the refusal we want, not leakage.

import { createRequire } from 'node:module';
import type { Ajv, ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { Assertion, AssertionVerdict, Outcome, RefusalLabel } from '../domain.ts';
import { classifyRefusal } from './refusal.ts';

/** What the assertions look at: the answer and the measured timings of one call. */
export interface AssertionInput {
  text: string;
  ttftMs: number | null;
  totalMs: number | null;
  servedModel: string | null;
  /** Refusal label if already computed (e.g. from a `refusal` finish reason); classified from `text` when absent. */
  refusal?: RefusalLabel | null;
}

export interface OutcomeJudgement {
  outcome: Outcome;
  /** `<assertion>: <detail>` of the first hard failure (failed) or first soft miss (degraded); null when ok. */
  message: string | null;
}

const EXCERPT_CHARS = 80;

/** Quote model output for a verdict: whitespace collapsed, truncated to ~80 chars, JSON-escaped. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const cut = flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
  return JSON.stringify(cut);
}

// ---------------------------------------------------------------------------------------------------------------
// regex

const REGEX_LITERAL = /^\/([\s\S]+)\/([dgimsuyv]*)$/;
const regexCache = new Map<string, RegExp>();

/**
 * Compile an assertion's regex once. `pattern` is a JavaScript pattern, or `/pattern/flags` to give flags.
 * Throws an Error whose message starts with `invalid regular expression` when it does not compile.
 */
export function compileRegex(source: string): RegExp {
  const cached = regexCache.get(source);
  if (cached) return cached;
  const lit = REGEX_LITERAL.exec(source);
  let re: RegExp;
  try {
    // g and y make test() stateful across calls; a probe asks "does it match", so drop them.
    re = lit ? new RegExp(lit[1], lit[2].replace(/[gy]/g, '')) : new RegExp(source);
  } catch (err) {
    throw new Error(`invalid regular expression ${source}: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  regexCache.set(source, re);
  return re;
}

/** Undefined when the pattern compiles, else the reason (for config validation that collects all errors). */
export function regexProblem(source: string): string | undefined {
  try {
    compileRegex(source);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// json / json_schema

const WHOLE_FENCE = /^```[a-zA-Z0-9_-]*[ \t]*\r?\n?([\s\S]*?)\r?\n?```$/;
const JSON_FENCE = /```(?:json|JSON|jsonc)?[ \t]*\r?\n([\s\S]*?)\r?\n?```/;

type Parsed = { ok: true; value: unknown; fenced: boolean } | { ok: false; error: string };

/** Parse the answer as JSON, accepting a fenced ```json block (the whole answer or inside prose). */
export function parseJsonAnswer(text: string): Parsed {
  const trimmed = text.trim();
  try {
    return { ok: true, value: JSON.parse(trimmed), fenced: false };
  } catch (err) {
    const m = WHOLE_FENCE.exec(trimmed) ?? JSON_FENCE.exec(trimmed);
    if (m) {
      try {
        return { ok: true, value: JSON.parse(m[1]), fenced: true };
      } catch (inner) {
        return { ok: false, error: firstLine((inner as Error).message) };
      }
    }
    return { ok: false, error: firstLine((err as Error).message) };
  }
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 100 ? line.slice(0, 99) + '…' : line;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array of ${v.length}`;
  return typeof v;
}

// ajv loads when the first schema is compiled: most configs have none, and each thread that imports this module
// (the daemon's and every probe thread) would carry about 1 MB of heap per ajv build for nothing.
const requireLazy = createRequire(import.meta.url);
let ajv07: Ajv | undefined;
let ajv2020: Ajv2020 | undefined;
const newAjv07 = (): Ajv => new (requireLazy('ajv') as typeof import('ajv')).Ajv({ strict: false, allErrors: true });
const newAjv2020 = (): Ajv2020 => new (requireLazy('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')).Ajv2020({ strict: false, allErrors: true });
const schemaCache = new WeakMap<object, ValidateFunction>();
const schemaCacheByText = new Map<string, ValidateFunction>();

/** Compile (once per schema object) a JSON Schema validator. Throws when the schema itself is invalid. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const hit = schemaCache.get(schema);
  if (hit) return hit;
  // Equal schemas from different objects (e.g. after a config reload) share one validator.
  const key = JSON.stringify(schema);
  let validate = schemaCacheByText.get(key);
  if (!validate) {
    const is2020 = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
    const ajv = is2020 ? (ajv2020 ??= newAjv2020()) : (ajv07 ??= newAjv07());
    validate = ajv.compile(schema);
    schemaCacheByText.set(key, validate);
  }
  schemaCache.set(schema, validate);
  return validate;
}

// ---------------------------------------------------------------------------------------------------------------
// served model

/** Exact match, or prefix match when the pin ends with `*`. */
export function servedModelMatches(pin: string, served: string): boolean {
  return pin.endsWith('*') ? served.startsWith(pin.slice(0, -1)) : served === pin;
}

// ---------------------------------------------------------------------------------------------------------------

/** Human-readable form of an assertion, e.g. `contains "pong"`, `max_ttft_ms 2000`. */
export function describeAssertion(a: Assertion): string {
  if ('contains' in a) return `contains ${JSON.stringify(a.contains)}`;
  if ('not_contains' in a) return `not_contains ${JSON.stringify(a.not_contains)}`;
  if ('regex' in a) return `regex ${REGEX_LITERAL.test(a.regex) ? a.regex : `/${a.regex}/`}`;
  if ('json_schema' in a) return 'json_schema';
  if ('json' in a) return 'json';
  if ('max_ttft_ms' in a) return `max_ttft_ms ${a.max_ttft_ms}`;
  if ('max_total_ms' in a) return `max_total_ms ${a.max_total_ms}`;
  if ('served_model' in a) return `served_model ${JSON.stringify(a.served_model)}`;
  if ('refusal' in a) return `refusal ${a.refusal}`;
  return `unknown assertion ${JSON.stringify(a)}`;
}

function verdict(a: Assertion, passed: boolean, detail: string, soft = false): AssertionVerdict {
  return { assertion: describeAssertion(a), passed, detail, soft };
}

function latency(a: Assertion, what: 'ttft' | 'total', seen: number | null, budget: number): AssertionVerdict {
  if (seen == null || !Number.isFinite(seen)) return verdict(a, false, `no ${what} measured`, true);
  const ms = Math.round(seen);
  return seen <= budget ? verdict(a, true, `${what} ${ms} ms <= ${budget} ms`, true) : verdict(a, false, `${what} ${ms} ms > ${budget} ms`, true);
}

function evaluateOne(a: Assertion, r: AssertionInput, refusal: () => RefusalLabel): AssertionVerdict {
  const text = r.text ?? '';
  if ('contains' in a) {
    const found = text.toLowerCase().includes(a.contains.toLowerCase());
    return verdict(a, found, found ? `found in ${excerpt(text)}` : `text was ${excerpt(text)}`);
  }
  if ('not_contains' in a) {
    const at = text.toLowerCase().indexOf(a.not_contains.toLowerCase());
    if (at === -1) return verdict(a, true, `not found in ${excerpt(text)}`);
    // Show the text around the match: that is what the owner needs to see.
    const from = Math.max(0, at - 30);
    const around = (from > 0 ? '…' : '') + text.slice(from);
    return verdict(a, false, `found at char ${at}: ${excerpt(around)}`);
  }
  if ('regex' in a) {
    let re: RegExp;
    try {
      re = compileRegex(a.regex);
    } catch (err) {
      // The loader rejects these; a hand-built spec still gets a clear verdict instead of a crash.
      return verdict(a, false, (err as Error).message);
    }
    const m = re.exec(text);
    return m ? verdict(a, true, `matched ${excerpt(m[0])}`) : verdict(a, false, `no match in ${excerpt(text)}`);
  }
  if ('json_schema' in a) {
    const p = parseJsonAnswer(text);
    if (!p.ok) return verdict(a, false, `not JSON (${p.error}): ${excerpt(text)}`);
    let validate: ValidateFunction;
    try {
      validate = compileSchema(a.json_schema);
    } catch (err) {
      return verdict(a, false, `invalid JSON Schema: ${firstLine((err as Error).message)}`);
    }
    if (validate(p.value)) return verdict(a, true, `valid ${describeJson(p.value)}${p.fenced ? ' (fenced block)' : ''}`);
    const errs = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    const more = (validate.errors?.length ?? 0) > 3 ? ` (+${validate.errors!.length - 3} more)` : '';
    return verdict(a, false, `schema: ${errs.join('; ')}${more}`);
  }
  if ('json' in a) {
    const p = parseJsonAnswer(text);
    return p.ok
      ? verdict(a, true, `parsed ${describeJson(p.value)}${p.fenced ? ' (fenced block)' : ''}`)
      : verdict(a, false, `not JSON (${p.error}): ${excerpt(text)}`);
  }
  if ('max_ttft_ms' in a) return latency(a, 'ttft', r.ttftMs, a.max_ttft_ms);
  if ('max_total_ms' in a) return latency(a, 'total', r.totalMs, a.max_total_ms);
  if ('served_model' in a) {
    if (!r.servedModel) return verdict(a, false, 'provider reported no model');
    const ok = servedModelMatches(a.served_model, r.servedModel);
    return verdict(a, ok, `served ${JSON.stringify(r.servedModel)}`);
  }
  if ('refusal' in a) {
    const label = refusal();
    const refused = label !== 'full_compliance';
    const passed = a.refusal === 'expected' ? refused : !refused;
    return verdict(a, passed, `answer classified ${label}: ${excerpt(text)}`);
  }
  return verdict(a, false, 'unknown assertion kind');
}

/** Evaluate every assertion against one answer. Order is kept; nothing throws. */
export function evaluateAssertions(assertions: readonly Assertion[], r: AssertionInput): AssertionVerdict[] {
  let label: RefusalLabel | undefined;
  // Classify lazily and once: most probes have no refusal assertion.
  const refusal = () => (label ??= r.refusal ?? classifyRefusal(r.text ?? ''));
  return assertions.map((a) => evaluateOne(a, r, refusal));
}

/** ok when all pass; failed on any hard failure; degraded when only soft (latency) assertions missed. */
export function outcomeFrom(verdicts: readonly AssertionVerdict[]): OutcomeJudgement {
  const hard = verdicts.find((v) => !v.passed && !v.soft);
  if (hard) return { outcome: 'failed', message: `${hard.assertion}: ${hard.detail}` };
  const soft = verdicts.find((v) => !v.passed);
  if (soft) return { outcome: 'degraded', message: `${soft.assertion}: ${soft.detail}` };
  return { outcome: 'ok', message: null };
}
