// Shared fixtures for the adapter unit tests.
import type { ProbeSpec, ProviderEndpoint } from '../../src/domain.ts';
import type { Normalised, StreamParser } from '../../src/providers/types.ts';
import { makeSpec } from '../fixtures.ts';

export function spec(over: Partial<ProbeSpec> = {}): ProbeSpec {
  return makeSpec({ target: 'provider:x', ...over });
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
