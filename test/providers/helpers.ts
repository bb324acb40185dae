// Shared fixtures for the adapter unit tests.
import type { ProbeSpec, ProviderEndpoint } from '../../src/domain.ts';
import type { Normalised, StreamParser } from '../../src/providers/types.ts';

export function spec(over: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    id: 'p1',
    owner: 'team',
    target: 'provider:x',
    model: 'gpt-4o-mini',
    kind: 'canary',
    messages: [{ role: 'user', content: 'Reply with the single word: pong' }],
    stream: false,
    maxTokens: 5,
    schedule: { everyMs: 60_000, timezone: 'UTC' },
    timeouts: { connectMs: 1000, firstByteMs: 5000, totalMs: 10_000 },
    assertions: [],
    labels: {},
    headers: {},
    ...over,
  };
}

export function endpoint(over: Partial<ProviderEndpoint> = {}): ProviderEndpoint {
  return { name: 'x', kind: 'openai', baseUrl: 'https://api.example.test', apiKey: 'sk-test-SECRET123', headers: {}, ...over };
}

/** Feed data payloads (and optional event names) to a parser; returns the contentDelta flags and the result. */
export function feed(
  parser: StreamParser,
  events: Array<string | { event?: string; data: string }>,
  cut = false,
): { deltas: boolean[]; result: Normalised } {
  const deltas = events.map((e) => parser.push(typeof e === 'string' ? { event: undefined, data: e } : { event: e.event, data: e.data }).contentDelta);
  return { deltas, result: parser.finish(cut) };
}

/** Anthropic-style event: `event:` name equal to the payload's type. */
export function ev(obj: { type: string } & Record<string, unknown>): { event: string; data: string } {
  return { event: obj.type, data: JSON.stringify(obj) };
}
