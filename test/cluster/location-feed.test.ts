// The leader's per-location feed: pages on a quorum of locations, and a new leader starting on rows it has seeded
// from does not observe them again (a takeover must not re-fire failures that already recovered).
import { describe, expect, it } from 'vitest';
import { LocationFeed, type ResultSource } from '../../src/cluster/location-feed.ts';
import type { ProbeResult } from '../../src/domain.ts';
import { makeResult } from '../store/fixtures/gen.ts';

const T0 = Date.UTC(2026, 0, 5, 9);
const spec = { id: 'p', owner: 'team', target: 'provider:openai', model: 'gpt-4o-mini', kind: 'canary' as const, labels: {} };

function source(rows: ProbeResult[]): ResultSource {
  return {
    resultsAfter: async (after, limit = 5000) => rows.map((result, i) => ({ id: i + 1, result })).filter((x) => x.id > after).slice(0, limit),
    maxResultId: async () => rows.length,
    results: async (q) =>
      rows
        .filter((r) => (!q.probe || r.probeId === q.probe) && (q.since === undefined || r.startedAt >= q.since))
        .sort((a, b) => (q.order === 'desc' ? b.startedAt - a.startedAt : a.startedAt - b.startedAt))
        .slice(0, q.limit ?? Infinity),
  };
}

const result = (i: number, location: string, ok: boolean): ProbeResult => ({
  ...makeResult(i),
  probeId: 'p',
  drillId: undefined,
  attempt: 1,
  confirmed: !ok,
  startedAt: T0 + i * 1000,
  location,
  outcome: ok ? 'ok' : 'failed',
  errorClass: ok ? null : 'server_error',
  httpStatus: ok ? 200 : 503,
});

const feed = (rows: ProbeResult[]) =>
  new LocationFeed({
    source: source(rows),
    settings: () => ({ failureThreshold: 1, successThreshold: 2, degradedThreshold: 0, forMs: 0 }),
    probe: (id) => (id === 'p' ? spec : undefined),
    minFailing: () => undefined,
    owner: () => 'vigil-owner',
  });

describe('location feed', () => {
  it('one location of two failing is a warning for Vigil’s owner; both failing is the page listing them', async () => {
    const rows: ProbeResult[] = [];
    const f = feed(rows);
    await f.start(T0, ['p']);
    rows.push(result(0, 'eu-west', true), result(1, 'us-east', true), result(2, 'eu-west', false));
    const first = await f.poll(T0 + 3000);
    expect(first.map((s) => `${s.detector}:${s.key}:${s.status}:${s.labels.owner}`)).toEqual(['location:p@eu-west:firing:vigil-owner']);
    rows.push(result(3, 'us-east', false));
    const second = await f.poll(T0 + 4000);
    expect(second.map((s) => `${s.detector}:${s.key}:${s.status}`)).toEqual(['availability:p:firing', 'location:p@eu-west:resolved']);
    expect(second[0].labels.locations).toBe('eu-west,us-east');
  });

  it('a new leader does not re-observe the rows it seeded from: failures that recovered stay quiet', async () => {
    const rows: ProbeResult[] = [];
    for (let i = 0; i < 6; i++) rows.push(result(i, i % 2 ? 'us-east' : 'eu-west', false));
    for (let i = 6; i < 12; i++) rows.push(result(i, i % 2 ? 'us-east' : 'eu-west', true));
    const f = feed(rows);
    await f.start(T0 + 12_000, ['p']);
    expect(await f.poll(T0 + 12_000)).toEqual([]);
    rows.push(result(12, 'eu-west', true), result(13, 'us-east', true));
    expect(await f.poll(T0 + 14_000)).toEqual([]);
  });

  it('a new leader taking over an open page resolves it when every location recovers before it sees a new failure', async () => {
    // The old leader paged on both locations failing, then died; the new one starts on those rows.
    const rows: ProbeResult[] = [];
    for (let i = 0; i < 6; i++) rows.push(result(i, i % 2 ? 'us-east' : 'eu-west', false));
    const f = feed(rows);
    await f.start(T0 + 6_000, ['p']);
    expect(await f.poll(T0 + 6_000)).toEqual([]); // already open: not paged again
    for (let i = 6; i < 10; i++) rows.push(result(i, i % 2 ? 'us-east' : 'eu-west', true));
    const after = (await f.poll(T0 + 10_000)).map((s) => `${s.detector}:${s.key}:${s.status}`);
    // (eu-west recovers first: us-east alone for a moment is a warning, resolved in the same poll.)
    expect(after.filter((s) => s.startsWith('availability:'))).toEqual(['availability:p:resolved']);
  });

  it('a new leader taking over a location’s warning resolves it when that location recovers', async () => {
    const rows: ProbeResult[] = [];
    for (let i = 0; i < 6; i++) rows.push(result(i, i % 2 ? 'us-east' : 'eu-west', i % 2 === 1));
    const f = feed(rows);
    await f.start(T0 + 6_000, ['p']);
    expect(await f.poll(T0 + 6_000)).toEqual([]);
    rows.push(result(6, 'eu-west', true), result(7, 'us-east', true), result(8, 'eu-west', true));
    const after = await f.poll(T0 + 9_000);
    expect(after.map((s) => `${s.detector}:${s.key}:${s.status}`)).toEqual(['location:p@eu-west:resolved']);
  });
});
