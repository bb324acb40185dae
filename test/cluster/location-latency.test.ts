// Latency decided across locations (the leader's location feed with per-location latency states), on an injected
// clock: a week of diurnal behaviour from three locations with different normal latencies, then one location slow
// (a warning for Vigil's owner naming it, no page), then two (one latency page listing both), then calm (resolved),
// including across a takeover by a new leader that loads the saved per-location states instead of replaying results.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocationFeed, type ResultSource } from '../../src/cluster/location-feed.ts';
import { LocationLatency, stateKey } from '../../src/cluster/location-latency.ts';
import { loadBaselinesByKey, saveBaselines } from '../../src/detectors/latency/persist.ts';
import type { ProbeResult, ProbeSpec, Signal } from '../../src/domain.ts';
import { Store } from '../../src/store/store.ts';
import { makeResultFor, makeSpec } from '../fixtures.ts';
import { DAY, HOUR, MIN, generate, type Incident } from '../detectors/latency-helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function openStore(): Store {
  const d = mkdtempSync(join(tmpdir(), 'vigil-location-latency-'));
  dirs.push(d);
  return Store.open(join(d, 'vigil.db'));
}

const T0 = Date.UTC(2026, 0, 5); // a Monday: the clock is injected, the test runs the same on any date
const STEP = 10 * MIN;
const spec: ProbeSpec = makeSpec({ id: 'p', stream: true, schedule: { everyMs: STEP, timezone: 'UTC' } });
// Three vantage points with their own normal latency: what is normal in us-east is ×2.2 slow for eu-west.
const BASE: Record<string, number> = { 'eu-west': 400, 'us-east': 900, 'ap-south': 650 };

function source(rows: ProbeResult[]): ResultSource {
  return {
    resultsAfter: async (after, limit = 5000) => rows.slice(after, after + limit).map((result, i) => ({ id: after + i + 1, result })),
    maxResultId: async () => rows.length,
    results: async (q) =>
      rows
        .filter((r) => (!q.probe || r.probeId === q.probe) && (!q.location || r.location === q.location) && (q.since === undefined || r.startedAt >= q.since))
        .sort((a, b) => (q.order === 'desc' ? b.startedAt - a.startedAt : a.startedAt - b.startedAt))
        .slice(0, q.limit ?? Infinity),
  };
}

function leader(rows: ProbeResult[], store: Store): { feed: LocationFeed; latency: LocationLatency } {
  let feed: LocationFeed | null = null;
  const latency = new LocationLatency({
    store: { load: (keys) => loadBaselinesByKey(store, keys), save: (rs, now) => saveBaselines(store, rs, now) },
    spec: (id) => (id === spec.id ? spec : undefined),
    minFailing: () => undefined,
    owner: () => 'vigil-owner',
    reporting: (probe) => feed?.reporting(probe) ?? [],
    ownLocation: () => 'eu-west',
  });
  feed = new LocationFeed({
    source: source(rows),
    settings: () => ({ failureThreshold: 1, successThreshold: 2, degradedThreshold: 0, forMs: 0 }),
    probe: (id) => (id === spec.id ? spec : undefined),
    minFailing: () => undefined,
    owner: () => 'vigil-owner',
    // Polled once per simulated hour, results every 10 minutes: a location counts while it reported in 30 minutes.
    staleMs: 30 * MIN,
    latency,
  });
  return { feed, latency };
}

/** Every location's results for `days`, with incidents per location, interleaved in time. */
function series(days: number, incidents: Record<string, Incident[]> = {}): ProbeResult[] {
  const out: ProbeResult[] = [];
  Object.entries(BASE).forEach(([location, baseMs], i) => {
    for (const p of generate({ start: T0, days, stepMs: STEP, timezone: 'UTC', baseMs, seed: 11 + i, incidents: incidents[location] ?? [] })) {
      out.push(
        makeResultFor(spec, p.t + i * 1000, {
          location,
          attempt: 1,
          outcome: 'ok',
          timings: { connectMs: 0, tlsMs: null, ttfbMs: 50, ttftMs: p.value * 0.4, totalMs: p.value, outputTokensPerSec: 40 },
        }),
      );
    }
  });
  return out.sort((a, b) => a.startedAt - b.startedAt);
}

/** Record `all` rows started before `until` into `rows`, polling the feed once per simulated hour. */
async function run(feed: LocationFeed, rows: ProbeResult[], all: ProbeResult[], until: number): Promise<Signal[]> {
  const out: Signal[] = [];
  let next = rows.length;
  const from = all[next]?.startedAt ?? until;
  for (let hour = Math.floor(from / HOUR) * HOUR + HOUR; hour <= until; hour += HOUR) {
    while (next < all.length && all[next].startedAt < hour) rows.push(all[next++]);
    out.push(...(await feed.poll(hour)));
  }
  return out;
}

const brief = (s: Signal) => `${s.detector}:${s.key}:${s.status}`;

/** What is left firing after these signals (by detector and key), given what was before. */
function open(signals: Signal[], before: ReadonlySet<string> = new Set()): Set<string> {
  const out = new Set(before);
  for (const s of signals) (s.status === 'firing' ? out.add(`${s.detector}:${s.key}`) : out.delete(`${s.detector}:${s.key}`));
  return out;
}

describe('latency across locations', () => {
  const SLOW1 = T0 + 8 * DAY + 2 * HOUR; // Tuesday 02:00, a week and a day in
  const SLOW2 = SLOW1 + 3 * HOUR;
  const CALM = SLOW2 + 2 * HOUR;
  const incidents = {
    'eu-west': [{ start: SLOW1, end: CALM, factor: 2.2 }],
    'us-east': [{ start: SLOW2, end: CALM, factor: 2.2 }],
  };

  it('learns a baseline per location; one slow location is a warning for Vigil’s owner, two of three page once listing both', async () => {
    const store = openStore();
    const rows: ProbeResult[] = [];
    const all = series(10, incidents);
    const { feed, latency } = leader(rows, store);
    await feed.start(T0, [spec.id]);

    // A week and a day of diurnal behaviour (a ×3 weekday 9am peak) from three locations: not one signal.
    expect(await run(feed, rows, all, SLOW1)).toEqual([]);
    // One state per location, each with its own baseline (lazily: one per location that reported the probe).
    expect(latency.states).toBe(3);
    const median = (loc: string) => {
      const how = latency.stateOf(spec.id, loc)!.total.baseline.how!;
      return how[0]; // Monday 00:00's location
    };
    expect(median('us-east')).toBeGreaterThan(1.8 * median('eu-west'));

    // eu-west alone becomes as slow as us-east normally is: a warning naming eu-west for Vigil's owner, no page.
    const first = await run(feed, rows, all, SLOW2);
    const firing1 = first.filter((s) => s.status === 'firing');
    expect(firing1.map(brief)).toContain('location:p:total@eu-west:firing');
    expect(firing1.every((s) => s.detector === 'location' && s.labels.location === 'eu-west' && s.labels.owner === 'vigil-owner')).toBe(true);
    const warning = firing1.find((s) => s.key === 'p:total@eu-west')!;
    expect(warning.summary).toContain('unusual from eu-west only');
    expect(warning.summary).toContain('regional slowness or eu-west egress?');

    // us-east too: one latency page listing both; eu-west's warning resolves.
    const second = await run(feed, rows, all, CALM);
    const page = second.find((s) => brief(s) === 'latency:p:total:firing')!;
    expect(page).toBeDefined();
    expect(page.labels.locations).toBe('eu-west,us-east');
    expect(page.labels.owner).toBe('team');
    expect(page.summary).toMatch(/seen from eu-west, us-east \(2 of 3 locations\)/);
    expect(second.map(brief)).toContain('location:p:total@eu-west:resolved');
    expect(second.filter((s) => s.detector === 'latency' && s.key === 'p:total' && s.status === 'firing')).toHaveLength(1);

    // Calm again: the page resolves (the location that recovers last is a warning again until it does), and in
    // the end nothing is left open.
    const third = await run(feed, rows, all, T0 + 10 * DAY);
    expect(third.map(brief)).toContain('latency:p:total:resolved');
    expect(third.filter((s) => s.detector === 'latency' && s.status === 'firing')).toEqual([]);
    expect([...open(third, open([...first, ...second]))]).toEqual([]);
    await store.close();
  });

  it('a new leader loads each location’s saved state (no replay) and resolves the page the old one opened', async () => {
    const store = openStore();
    const rows: ProbeResult[] = [];
    const all = series(10, incidents);
    const old = leader(rows, store);
    await old.feed.start(T0, [spec.id]);
    const before = await run(old.feed, rows, all, CALM);
    expect(before.filter((s) => s.detector === 'latency' && s.status === 'firing').map(brief)).toContain('latency:p:total:firing');
    expect(old.feed.latencyUrgent).toBe(true);
    const stored = async () => [...(await loadBaselinesByKey(store, Object.keys(BASE).map((l) => stateKey(spec.id, l)))).keys()].sort();
    // At once: only the states whose alert changed (eu-west, us-east), under <probe>@<location>.
    await old.feed.saveLatencyUrgent(CALM);
    expect(old.feed.latencyUrgent).toBe(false);
    expect(await stored()).toEqual(['p@eu-west', 'p@us-east']);
    // The periodic save: every state that learnt something.
    await old.feed.saveLatency(CALM);
    expect(await stored()).toEqual(['p@ap-south', 'p@eu-west', 'p@us-east']);
    const learnt = old.latency.stateOf(spec.id, 'eu-west')!.total.count;

    // The old leader dies; a new one starts from the store at once.
    const next = leader(rows, store);
    await next.feed.start(CALM, [spec.id]);
    const after = await run(next.feed, rows, all, T0 + 10 * DAY);
    const wasOpen = open(before);
    expect(wasOpen.has('latency:p:total')).toBe(true);
    // It carried on from the saved states (the week was not re-learnt: the count continues) ...
    expect(next.latency.stateOf(spec.id, 'eu-west')!.total.count).toBeGreaterThan(learnt);
    expect(next.latency.stateOf(spec.id, 'eu-west')!.total.firstT).toBe(old.latency.stateOf(spec.id, 'eu-west')!.total.firstT);
    // ... knew the page was open, so the recovery resolves it, and nothing fires again.
    expect(after.map(brief)).toContain('latency:p:total:resolved');
    expect(after.filter((s) => s.detector === 'latency' && s.status === 'firing')).toEqual([]);
    expect([...open(after, wasOpen)]).toEqual([]);
    await store.close();
  });

  it('a location without a state of its own starts from the bare probe key only if it is this instance’s (a single instance moved over)', async () => {
    const store = openStore();
    const rows: ProbeResult[] = [];
    const all = series(3);
    const one = leader(rows, store);
    await one.feed.start(T0, [spec.id]);
    await run(one.feed, rows, all, T0 + 3 * DAY);
    // As a single SQLite instance would have saved it: the bare probe id.
    const eu = one.latency.stateOf(spec.id, 'eu-west')!;
    await saveBaselines(store, [{ probeId: spec.id, timezone: 'UTC', state: eu }], T0 + 3 * DAY);
    const next = leader(rows, store);
    await next.feed.start(T0 + 3 * DAY, [spec.id]);
    rows.push(...Object.keys(BASE).map((location, i) => makeResultFor(spec, T0 + 3 * DAY + i, { location, attempt: 1, outcome: 'ok' })));
    await next.feed.poll(T0 + 3 * DAY + HOUR);
    expect(next.latency.stateOf(spec.id, 'eu-west')!.total.count).toBe(eu.total.count + 1);
    expect(next.latency.stateOf(spec.id, 'us-east')!.total.count).toBe(1);
    await store.close();
  });
});
