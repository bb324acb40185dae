import { describe, expect, it } from 'vitest';
import { anthropicAdapter } from '../../src/providers/anthropic.ts';
import { endpoint, ev, feed, spec } from './helpers.ts';

const start = ev({ type: 'message_start', message: { model: 'claude-sonnet-4-5', usage: { input_tokens: 10, output_tokens: 1 } } });
const stop = (reason: string, out = 3) => ev({ type: 'message_delta', delta: { stop_reason: reason }, usage: { output_tokens: out } });
const msgStop = ev({ type: 'message_stop' });
const textDelta = (text: string) => ev({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text } });

describe('anthropic buildRequest', () => {
  const ep = endpoint({ kind: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKey: 'sk-ant-SECRET' });

  it('POSTs /v1/messages with x-api-key and the default version, no bearer', () => {
    const req = anthropicAdapter.buildRequest(spec({ model: 'claude-haiku-4-5' }), ep);
    expect(req.url).toBe('https://api.anthropic.com/v1/messages');
    expect(req.headers['x-api-key']).toBe('sk-ant-SECRET');
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.headers.authorization).toBeUndefined();
    expect(anthropicAdapter.buildRequest(spec(), { ...ep, baseUrl: 'https://proxy.test/v1' }).url).toBe('https://proxy.test/v1/messages');
    expect(anthropicAdapter.buildRequest(spec(), { ...ep, apiVersion: '2024-01-01' }).headers['anthropic-version']).toBe('2024-01-01');
  });

  it('moves system messages to the top-level system field', () => {
    const req = anthropicAdapter.buildRequest(
      spec({
        model: 'claude-haiku-4-5',
        stream: true,
        temperature: 0.2,
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'system', content: 'One word.' },
          { role: 'user', content: 'ping' },
        ],
      }),
      ep,
    );
    expect(JSON.parse(req.body)).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 5,
      system: 'Be terse.\n\nOne word.',
      messages: [{ role: 'user', content: 'ping' }],
      temperature: 0.2,
      stream: true,
    });
    expect(JSON.parse(anthropicAdapter.buildRequest(spec(), ep).body).system).toBeUndefined();
  });
});

describe('anthropic stream parser', () => {
  it('contentDelta fires on the first text_delta, not on thinking deltas or empty blocks', () => {
    const { deltas, result } = feed(anthropicAdapter.createStreamParser(200, {}), [
      start,
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
      ev({ type: 'ping' }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'abc' } }),
      ev({ type: 'content_block_stop', index: 0 }),
      ev({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
      textDelta(''),
      textDelta('po'),
      textDelta('ng'),
      stop('end_turn', 4),
      msgStop,
    ]);
    expect(deltas.indexOf(true)).toBe(8);
    expect(deltas.filter(Boolean)).toHaveLength(1);
    expect(result).toMatchObject({ text: 'pong', finishReason: 'stop', tokensIn: 10, tokensOut: 4, servedModel: 'claude-sonnet-4-5', errorClass: null });
  });

  it('maps stop reasons; refusal is not an error', () => {
    const cases: Array<[string, string]> = [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['refusal', 'refusal'],
      ['tool_use', 'tool_calls'],
      ['pause_turn', 'other'],
    ];
    for (const [raw, mapped] of cases) {
      const { result } = feed(anthropicAdapter.createStreamParser(200, {}), [start, stop(raw), msgStop]);
      expect(result.finishReason, raw).toBe(mapped);
      expect(result.errorClass, raw).toBeNull();
    }
  });

  it('an error event after content keeps the text and classifies the error', () => {
    const { result } = feed(anthropicAdapter.createStreamParser(200, {}), [
      start,
      textDelta('Hel'),
      { event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }) },
    ]);
    expect(result).toMatchObject({ text: 'Hel', finishReason: 'error', errorClass: 'overloaded', errorMessage: 'Overloaded', tokensOut: null });
    const api = feed(anthropicAdapter.createStreamParser(200, {}), [
      { event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'Internal server error' } }) },
    ]);
    expect(api.result.errorClass).toBe('server_error');
  });

  it('a stream without message_delta/message_stop is malformed; tokensOut is not the message_start placeholder', () => {
    const { result } = feed(anthropicAdapter.createStreamParser(200, {}), [start, textDelta('Hi')]);
    expect(result).toMatchObject({ errorClass: 'malformed', finishReason: 'error', text: 'Hi', tokensIn: 10, tokensOut: null });
  });
});

describe('anthropic parseResponse', () => {
  const err = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message } });

  it('classifies errors by type and status', () => {
    const cases: Array<[number, string, string]> = [
      [529, err('overloaded_error', 'Overloaded'), 'overloaded'],
      [429, err('rate_limit_error', 'Rate limited'), 'rate_limited'],
      [401, err('authentication_error', 'invalid x-api-key'), 'auth'],
      [403, err('permission_error', 'no'), 'auth'],
      [400, err('invalid_request_error', 'prompt is too long: 208000 tokens > 200000 maximum'), 'context_length'],
      [400, err('invalid_request_error', 'messages: at least one message is required'), 'bad_request'],
      [404, err('not_found_error', 'model: x'), 'bad_request'],
      [500, err('api_error', 'Internal server error'), 'server_error'],
      [529, '', 'overloaded'],
      [503, 'upstream connect error', 'server_error'],
    ];
    for (const [status, body, cls] of cases) {
      expect(anthropicAdapter.parseResponse(status, {}, body).errorClass, `${status} ${body}`).toBe(cls);
    }
    expect(anthropicAdapter.parseResponse(529, { 'retry-after': '3' }, err('overloaded_error', 'Overloaded')).retryAfterSec).toBe(3);
  });

  it('reads only text blocks from a non-stream body', () => {
    const body = JSON.stringify({
      type: 'message',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'thinking', thinking: 'secret plan' },
        { type: 'text', text: 'pong' },
      ],
      stop_reason: 'end_turn',
      usage: { input_tokens: 5, output_tokens: 2 },
    });
    expect(anthropicAdapter.parseResponse(200, {}, body)).toMatchObject({ text: 'pong', finishReason: 'stop', tokensIn: 5, tokensOut: 2 });
    expect(anthropicAdapter.parseResponse(200, {}, '{"type":"message","content":[').errorClass).toBe('malformed');
  });
});
