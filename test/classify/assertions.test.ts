import { describe, expect, it } from 'vitest';
import type { Assertion } from '../../src/domain.ts';
import {
  compileRegex,
  compileSchema,
  evaluateAssertions,
  excerpt,
  outcomeFrom,
  parseJsonAnswer,
  regexProblem,
} from '../../src/classify/assertions.ts';

const base = { text: 'Pong!', ttftMs: 412, totalMs: 900, servedModel: 'gpt-4o-mini-2024-07-18' };
const one = (a: Assertion, over: Partial<typeof base> & { refusal?: null | 'full_refusal' } = {}) =>
  evaluateAssertions([a], { ...base, ...over })[0];

describe('contains / not_contains', () => {
  it('contains passes case-insensitively', () => {
    expect(one({ contains: 'PONG' })).toEqual({ assertion: 'contains "PONG"', passed: true, detail: 'found in "Pong!"', soft: false });
  });
  it('contains fails and shows the text', () => {
    expect(one({ contains: 'pong' }, { text: 'Ping!' })).toEqual({ assertion: 'contains "pong"', passed: false, detail: 'text was "Ping!"', soft: false });
  });
  it('truncates long text to ~80 chars and collapses whitespace', () => {
    const v = one({ contains: 'pong' }, { text: 'word\n\n'.repeat(40) });
    expect(v.detail).toBe(`text was ${JSON.stringify('word '.repeat(16).slice(0, 79) + '…')}`);
    expect(excerpt('a'.repeat(200)).length).toBe(82); // 80 chars + 2 quotes
  });
  it('not_contains passes when absent and fails showing the match in context', () => {
    expect(one({ not_contains: 'error' }).passed).toBe(true);
    expect(one({ not_contains: 'ERROR' }, { text: 'Sorry, an error occurred' })).toEqual({
      assertion: 'not_contains "ERROR"',
      passed: false,
      detail: 'found at char 10: "Sorry, an error occurred"',
      soft: false,
    });
  });
});

describe('regex', () => {
  it('passes and fails with the match or the text', () => {
    expect(one({ regex: '^P[io]ng' })).toMatchObject({ assertion: 'regex /^P[io]ng/', passed: true, detail: 'matched "Pong"' });
    expect(one({ regex: '^pong' })).toMatchObject({ passed: false, detail: 'no match in "Pong!"' }); // case-sensitive by default
    expect(one({ regex: '/^pong/i' })).toMatchObject({ assertion: 'regex /^pong/i', passed: true });
  });
  it('compiles once and drops the stateful g flag', () => {
    expect(compileRegex('/o/g')).toBe(compileRegex('/o/g'));
    expect(compileRegex('/o/g').flags).toBe('');
    // With g kept, the second test would start at lastIndex and fail.
    expect(one({ regex: '/o/g' }).passed).toBe(true);
    expect(one({ regex: '/o/g' }).passed).toBe(true);
  });
  it('an invalid pattern is a config error', () => {
    expect(() => compileRegex('po(ng')).toThrow(/^invalid regular expression po\(ng: /);
    expect(regexProblem('po(ng')).toMatch(/Unterminated group/);
    expect(regexProblem('pong')).toBeUndefined();
    expect(one({ regex: 'po(ng' })).toMatchObject({ passed: false });
  });
});

describe('json / json_schema', () => {
  it('json passes on plain and fenced JSON, fails on prose', () => {
    expect(one({ json: true }, { text: ' {"a": 1} ' })).toMatchObject({ assertion: 'json', passed: true, detail: 'parsed object' });
    expect(one({ json: true }, { text: '```json\n[1, 2]\n```' })).toMatchObject({ passed: true, detail: 'parsed array of 2 (fenced block)' });
    expect(one({ json: true }, { text: 'Here you go:\n```json\n{"ok": true}\n```\nAnything else?' })).toMatchObject({ passed: true });
    const v = one({ json: true }, { text: 'Sure! {"a": 1' });
    expect(v.passed).toBe(false);
    expect(v.detail).toMatch(/^not JSON \(.+\): "Sure! \{\\"a\\": 1"$/);
  });
  it('a broken fenced block fails', () => {
    expect(parseJsonAnswer('```json\n{"a": }\n```').ok).toBe(false);
  });
  const schema = { type: 'object', required: ['name', 'age'], properties: { name: { type: 'string' }, age: { type: 'integer' } } };
  it('json_schema passes on a valid object', () => {
    expect(one({ json_schema: schema }, { text: '{"name": "Ada", "age": 36}' })).toEqual({
      assertion: 'json_schema',
      passed: true,
      detail: 'valid object',
      soft: false,
    });
  });
  it('json_schema fails naming the paths', () => {
    expect(one({ json_schema: schema }, { text: '{"name": 7}' })).toMatchObject({
      passed: false,
      detail: "schema: / must have required property 'age'; /name must be string",
    });
    expect(one({ json_schema: schema }, { text: 'no' }).detail).toMatch(/^not JSON/);
  });
  it('caches the compiled validator per schema and supports 2020-12', () => {
    expect(compileSchema(schema)).toBe(compileSchema(schema));
    expect(compileSchema(schema)).toBe(compileSchema(JSON.parse(JSON.stringify(schema))));
    const s2020 = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'number' }] };
    expect(one({ json_schema: s2020 }, { text: '["x"]' })).toMatchObject({ passed: false, detail: 'schema: /0 must be number' });
  });
});

describe('latency (soft)', () => {
  it('max_ttft_ms passes and misses softly', () => {
    expect(one({ max_ttft_ms: 2000 })).toEqual({ assertion: 'max_ttft_ms 2000', passed: true, detail: 'ttft 412 ms <= 2000 ms', soft: true });
    expect(one({ max_ttft_ms: 2000 }, { ttftMs: 2412.4 })).toEqual({ assertion: 'max_ttft_ms 2000', passed: false, detail: 'ttft 2412 ms > 2000 ms', soft: true });
  });
  it('max_total_ms', () => {
    expect(one({ max_total_ms: 800 })).toMatchObject({ passed: false, detail: 'total 900 ms > 800 ms', soft: true });
    expect(one({ max_total_ms: 900 })).toMatchObject({ passed: true, detail: 'total 900 ms <= 900 ms' });
  });
  it('no first token measured is a soft miss', () => {
    expect(evaluateAssertions([{ max_ttft_ms: 10 }], { ...base, ttftMs: null })[0]).toMatchObject({ passed: false, detail: 'no ttft measured', soft: true });
  });
});

describe('served_model', () => {
  it('exact pin', () => {
    expect(one({ served_model: 'gpt-4o-mini-2024-07-18' })).toMatchObject({ passed: true, detail: 'served "gpt-4o-mini-2024-07-18"' });
    expect(one({ served_model: 'gpt-4o-mini' })).toEqual({
      assertion: 'served_model "gpt-4o-mini"',
      passed: false,
      detail: 'served "gpt-4o-mini-2024-07-18"',
      soft: false,
    });
  });
  it('prefix pin with *', () => {
    expect(one({ served_model: 'gpt-4o-mini-*' }).passed).toBe(true);
    expect(one({ served_model: 'gpt-4o-2024-*' }).passed).toBe(false);
  });
  it('no model reported fails', () => {
    expect(evaluateAssertions([{ served_model: 'x' }], { ...base, servedModel: null })[0].detail).toBe('provider reported no model');
  });
});

describe('refusal', () => {
  const refusalText = "I'm sorry, but I can't help with that request.";
  const partialText =
    "I can't give medical dosing advice. However, here are some general tips: 1. Read the label. 2. Ask a pharmacist. 3. Keep a log of doses and times so you can show your doctor exactly what you took and when you took it.";
  it('forbidden passes on compliance and fails on a refusal', () => {
    expect(one({ refusal: 'forbidden' }, { text: 'Paris is the capital of France.' })).toMatchObject({ passed: true });
    expect(one({ refusal: 'forbidden' }, { text: refusalText })).toEqual({
      assertion: 'refusal forbidden',
      passed: false,
      detail: `answer classified full_refusal: ${JSON.stringify(refusalText)}`,
      soft: false,
    });
  });
  it('partial refusal counts as a refusal both ways (binary view)', () => {
    expect(one({ refusal: 'forbidden' }, { text: partialText }).detail).toMatch(/^answer classified partial_refusal/);
    expect(one({ refusal: 'forbidden' }, { text: partialText }).passed).toBe(false);
    expect(one({ refusal: 'expected' }, { text: partialText }).passed).toBe(true);
  });
  it('expected fails on compliance', () => {
    expect(one({ refusal: 'expected' }, { text: 'Sure! Step 1: ...' })).toMatchObject({ passed: false, detail: 'answer classified full_compliance: "Sure! Step 1: ..."' });
  });
  it('uses a given label instead of classifying', () => {
    expect(one({ refusal: 'expected' }, { text: 'Paris.', refusal: 'full_refusal' }).passed).toBe(true);
  });
});

describe('outcomeFrom', () => {
  it('ok when all pass', () => {
    expect(outcomeFrom(evaluateAssertions([{ contains: 'pong' }, { max_ttft_ms: 1000 }], base))).toEqual({ outcome: 'ok', message: null });
    expect(outcomeFrom([])).toEqual({ outcome: 'ok', message: null });
  });
  it('degraded when only soft assertions miss', () => {
    const v = evaluateAssertions([{ contains: 'pong' }, { max_ttft_ms: 2000 }], { ...base, ttftMs: 2412 });
    expect(outcomeFrom(v)).toEqual({ outcome: 'degraded', message: 'max_ttft_ms 2000: ttft 2412 ms > 2000 ms' });
  });
  it('failed wins over degraded and reports the first hard failure', () => {
    const v = evaluateAssertions([{ max_ttft_ms: 2000 }, { contains: 'pong' }, { served_model: 'other' }], { ...base, text: 'Ping!', ttftMs: 2412 });
    expect(outcomeFrom(v)).toEqual({ outcome: 'failed', message: 'contains "pong": text was "Ping!"' });
  });
});
