// Drives every recorded transcript in ../shared/data/transcripts through its adapter and checks the meta's `expect`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import type { ProviderKind } from '../../src/domain.ts';
import { adapterFor } from '../../src/providers/index.ts';
import type { Normalised, ProviderAdapter } from '../../src/providers/types.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const transcriptsDir = path.resolve(repoRoot, '../shared/data/transcripts');
const present = existsSync(path.join(transcriptsDir, 'index.json'));

interface Meta {
  provider: ProviderKind;
  status: number;
  stream: boolean;
  headers: Record<string, string>;
  replay?: { end?: string };
  expect: {
    served_model: string | null;
    finish_reason: string | null;
    error_class: string | null;
    text: string;
    tokens_in: number | null;
    tokens_out: number | null;
    gateway?: Record<string, string | number>;
  };
}

interface IndexEntry {
  file: string;
  meta: string;
  provider: ProviderKind;
}

function load(entry: IndexEntry): { meta: Meta; body: string } {
  const meta = JSON.parse(readFileSync(path.join(transcriptsDir, entry.meta), 'utf8')) as Meta;
  const body = readFileSync(path.join(transcriptsDir, entry.file), 'utf8');
  return { meta, body };
}

function isSse(meta: Meta): boolean {
  return meta.status >= 200 && meta.status < 300 && /text\/event-stream/i.test(meta.headers['content-type'] ?? '');
}

/** Split a body into SSE events with eventsource-parser, fed in small pieces as the network would. */
function sseEvents(body: string, pieceSize = 61): Array<{ event: string | undefined; data: string }> {
  const events: Array<{ event: string | undefined; data: string }> = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  for (let i = 0; i < body.length; i += pieceSize) parser.feed(body.slice(i, i + pieceSize));
  return events;
}

/**
 * Whether the transport ended abnormally: a connection reset (`replay.end: destroy`) or a body whose last
 * event is unterminated (the bytes stop mid-event, which the SSE reader sees as leftover data).
 */
function transportCut(meta: Meta, body: string): boolean {
  if (meta.replay?.end === 'destroy') return true;
  return body.trim() !== '' && !/(\r\n|\r|\n)(\r\n|\r|\n)$/.test(body);
}

function runStream(adapter: ProviderAdapter, meta: Meta, events: Array<{ event: string | undefined; data: string }>, cut: boolean) {
  const parser = adapter.createStreamParser(meta.status, meta.headers);
  const deltas = events.map((e) => parser.push(e).contentDelta);
  return { result: parser.finish(cut), deltas };
}

function expectMatches(r: Normalised, meta: Meta): void {
  const x = meta.expect;
  expect({
    served_model: r.servedModel,
    finish_reason: r.finishReason,
    error_class: r.errorClass,
    text: r.text,
    tokens_in: r.tokensIn,
    tokens_out: r.tokensOut,
  }).toEqual({
    served_model: x.served_model,
    finish_reason: x.finish_reason,
    error_class: x.error_class,
    text: x.text,
    tokens_in: x.tokens_in,
    tokens_out: x.tokens_out,
  });
  // A message exactly when there is an error class; short and free of key material.
  if (r.errorClass === null) expect(r.errorMessage).toBeNull();
  else {
    expect(typeof r.errorMessage).toBe('string');
    expect(r.errorMessage!.length).toBeGreaterThan(0);
    expect(r.errorMessage!.length).toBeLessThanOrEqual(200);
    expect(r.errorMessage).not.toMatch(/<not-a-r\*\*\*\*key>|sk-(?!\[redacted\])/);
  }
  if (meta.provider !== 'gateway') expect(r.gateway).toBeNull();
  if (x.gateway) checkGateway(r, x.gateway);
}

function checkGateway(r: Normalised, g: Record<string, string | number>): void {
  expect(r.gateway).not.toBeNull();
  const info = r.gateway!;
  for (const [k, v] of Object.entries(g)) {
    switch (k) {
      case 'last_used_option_index':
        expect(info.servedBy, k).toBe(v);
        expect(info.raw['x-portkey-last-used-option-index']).toBe(v);
        break;
      case 'provider':
      case 'upstream_provider':
        expect(info.provider, k).toBe(v);
        break;
      case 'retry_attempt_count':
        expect(info.retryAttempts, k).toBe(v);
        break;
      case 'price_estimate_header':
        expect(Object.keys(info.raw)).toContain(v);
        break;
      default:
        throw new Error(`unhandled gateway expectation ${k}`);
    }
  }
}

const index: IndexEntry[] = present ? JSON.parse(readFileSync(path.join(transcriptsDir, 'index.json'), 'utf8')) : [];

describe.skipIf(!present)(`provider transcripts (${present ? transcriptsDir : '../shared absent: skipped'})`, () => {
  it('index lists all 57 transcripts', () => {
    expect(index).toHaveLength(57);
  });

  for (const entry of index) {
    it(entry.file, () => {
      const { meta, body } = load(entry);
      const adapter = adapterFor(meta.provider);
      if (!isSse(meta)) {
        expectMatches(adapter.parseResponse(meta.status, meta.headers, body), meta);
        return;
      }
      const events = sseEvents(body);
      const cut = transportCut(meta, body);
      const { result, deltas } = runStream(adapter, meta, events, cut);
      expectMatches(result, meta);
      // The adapter must notice a missing end marker by itself, whatever the transport reported.
      expectMatches(runStream(adapter, meta, events, !cut).result, meta);

      // contentDelta fires exactly once, on the event that carried the first answer text.
      const fired = deltas.flatMap((d, i) => (d ? [i] : []));
      expect(fired).toHaveLength(meta.expect.text === '' ? 0 : 1);
      if (fired.length === 1) {
        const before = runStream(adapter, meta, events.slice(0, fired[0]), true).result;
        const upTo = runStream(adapter, meta, events.slice(0, fired[0] + 1), true).result;
        expect(before.text).toBe('');
        expect(upTo.text).not.toBe('');
        expect(meta.expect.text.startsWith(upTo.text)).toBe(true);
      }
    });
  }

  // The gateway adapter is the OpenAI one plus routing info: on plain OpenAI traffic it must agree.
  for (const entry of index.filter((e) => e.provider === 'openai')) {
    it(`gateway adapter agrees on ${entry.file}`, () => {
      const { meta, body } = load(entry);
      const gw = adapterFor('gateway');
      const r = isSse(meta)
        ? runStream(gw, meta, sseEvents(body), transportCut(meta, body)).result
        : gw.parseResponse(meta.status, meta.headers, body);
      expectMatches({ ...r, gateway: null }, meta);
      expect(r.gateway).toEqual({ servedBy: null, provider: null, attemptedFallbacks: null, retryAttempts: null, raw: {} });
    });
  }

  it('keeps Gemini RetryInfo as retryAfterSec', () => {
    const entry = index.find((e) => e.file === 'gemini/generate-429-quota-retry-info.json');
    expect(entry).toBeDefined();
    const { meta, body } = load(entry!);
    expect(adapterFor('gemini').parseResponse(meta.status, meta.headers, body).retryAfterSec).toBe(34.4);
  });

  it('keeps the OpenAI system_fingerprint from streams and bodies', () => {
    const stream = index.find((e) => e.file === 'openai/chat-stream-include-usage.sse')!;
    const s = load(stream);
    expect(runStream(adapterFor('openai'), s.meta, sseEvents(s.body), false).result.fingerprint).toBe('fp_d0469e1700');
    const plain = index.find((e) => e.file === 'openai/chat-nonstream-gpt-4o-mini.json')!;
    const p = load(plain);
    expect(adapterFor('openai').parseResponse(p.meta.status, p.meta.headers, p.body).fingerprint).toBe('fp_4f5f0b399a');
  });
});
