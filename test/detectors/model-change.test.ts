// Silent model change: alias re-pointed, pin not honoured, fingerprint rotation; persistence and noise handling.
import { describe, expect, it } from 'vitest';
import type { ProbeResult, ProbeSpec, Signal } from '../../src/domain.ts';
import {
  activeModelSignals,
  isPinned,
  modelChangeOptionsFromYaml,
  newModelChangeState,
  observeModel,
  planModelChange,
  replayModelChange,
  tickModelChange,
} from '../../src/detectors/model-change.ts';
import type { ModelChangeOptions, ModelChangeState } from '../../src/detectors/model-change.ts';
import { DAY, HOUR, MIN, result, spec, T0 } from './drift-fixtures.ts';

const canary = spec('openai-canary', { owner: 'platform', schedule: { everyMs: MIN, timezone: 'UTC' } });
const benign = spec('benign-kill', { owner: 'safety', kind: 'benign' });
const pinned = spec('openai-pinned', { owner: 'billing', model: 'gpt-4o-2024-08-06' });
const claude = spec('claude', { owner: 'platform', target: 'provider:anthropic', model: 'claude-haiku-4-5' });
const SPECS = [canary, benign, pinned, claude];
const CONSUMERS = [
  { id: 'search-rerank', owner: 'search', models: ['gpt-4o-mini'] },
  { id: 'billing-bot', owner: 'billing', models: ['gpt-4o-2024-08-06'] },
];

/** Runs of `s` every minute; `served(i, t)` gives [servedModel, fingerprint]. */
function feed(
  s: ProbeSpec,
  from: number,
  n: number,
  served: (i: number, t: number) => [string | null, string | null],
  state: ModelChangeState,
  opts: Partial<ModelChangeOptions> = {},
  over: Partial<ProbeResult> = {},
): Signal[] {
  const plan = planModelChange(SPECS, { consumers: CONSUMERS, ...opts });
  const out: Signal[] = [];
  for (let i = 0; i < n; i++) {
    const t = from + i * MIN;
    const [m, fp] = served(i, t);
    out.push(...observeModel(plan, state, result(s, t, { servedModel: m, fingerprint: fp, ...over })));
  }
  return out;
}

describe('config', () => {
  it('maps the vigil.yaml section and the consumers onto options', () => {
    const o = modelChangeOptionsFromYaml({ persist: 4, settle: '2h', fingerprint: { enabled: false } }, CONSUMERS);
    expect(o).toEqual({ consumers: CONSUMERS, persist: 4, settleMs: 2 * HOUR, fingerprint: { enabled: false, persist: 5, minIntervalMs: DAY, severity: 'info' } });
  });
});

describe('isPinned', () => {
  it('recognises dated snapshots of each provider', () => {
    for (const m of ['gpt-4o-2024-08-06', 'claude-haiku-4-5-20251001', 'claude-3-5-sonnet@20240620', 'gemini-1.5-pro-002']) expect(isPinned(m), m).toBe(true);
    for (const m of ['gpt-4o-mini', 'claude-haiku-4-5', 'gemini-2.5-flash', 'gpt-4.1']) expect(isPinned(m), m).toBe(false);
  });
});

describe('alias re-pointed to a new snapshot', () => {
  it('signals every owner of the model (probes and consumers) once the new snapshot persists, then resolves', () => {
    const state = newModelChangeState();
    const SWITCH = 60;
    const signals = feed(canary, T0, 120, (i) => [i < SWITCH ? 'gpt-4o-mini-2024-07-18' : 'gpt-4o-mini-2025-06-01', null], state);
    expect(signals).toHaveLength(3); // platform (canary), safety (benign probe), search (consumer)
    const byOwner = Object.fromEntries(signals.map((s) => [s.labels.owner, s]));
    expect(Object.keys(byOwner).sort()).toEqual(['platform', 'safety', 'search']);
    const s = byOwner.platform;
    expect(s).toMatchObject({
      detector: 'model_change',
      key: 'openai:gpt-4o-mini:snapshot:platform',
      severity: 'warning',
      status: 'firing',
      labels: { owner: 'platform', provider: 'openai', model: 'gpt-4o-mini', change: 'snapshot' },
      evidence: { change: 'snapshot', old: 'gpt-4o-mini-2024-07-18', new: 'gpt-4o-mini-2025-06-01', old_still_served: false, probes: 'openai-canary' },
    });
    // When it happened is when the new snapshot was first served; it fires on the third sighting.
    expect(s.evidence.first_seen).toBe(new Date(T0 + SWITCH * MIN).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    expect(s.at).toBe(T0 + (SWITCH + 2) * MIN);
    expect(byOwner.search.evidence.consumers).toBe('search-rerank');
    expect(s.summary).toBe('Model change: openai gpt-4o-mini serves snapshot gpt-4o-mini-2025-06-01 (was gpt-4o-mini-2024-07-18) since 2026-01-05T01:00:00Z');

    expect(activeModelSignals(planModelChange(SPECS, { consumers: CONSUMERS }), state)).toHaveLength(3);
    const plan = planModelChange(SPECS, { consumers: CONSUMERS });
    expect(tickModelChange(plan, state, T0 + HOUR * 3)).toEqual([]);
    const resolved = tickModelChange(plan, state, T0 + 62 * MIN + 6 * HOUR);
    expect(resolved.map((r) => `${r.key} ${r.status}`).sort()).toEqual([
      'openai:gpt-4o-mini:snapshot:platform resolved',
      'openai:gpt-4o-mini:snapshot:safety resolved',
      'openai:gpt-4o-mini:snapshot:search resolved',
    ]);
  });

  it('ignores a blip that does not persist, fallbacks through a gateway, drills and missing served models', () => {
    const state = newModelChangeState();
    const blip = feed(canary, T0, 100, (i) => [i === 40 || i === 41 ? 'gpt-4o-mini-2025-06-01' : 'gpt-4o-mini-2024-07-18', null], state);
    expect(blip).toEqual([]);
    const later = T0 + 2 * DAY;
    const other = (): [string, null] => ['claude-haiku-4-5-20251001', null];
    expect(feed(canary, later, 10, other, state, {}, { gateway: { servedBy: 'b', provider: 'anthropic', attemptedFallbacks: 1, retryAttempts: 0, raw: {} } })).toEqual([]);
    expect(feed(canary, later, 10, other, state, {}, { drillId: 'primary-down' })).toEqual([]);
    expect(feed(canary, later, 10, () => [null, null], state)).toEqual([]);
  });

  it('learns a load-balanced pool, and flags a new member served alongside it', () => {
    const state = newModelChangeState();
    const pool = ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini-2024-07-18-eu'];
    expect(feed(canary, T0, 200, (i) => [pool[i % 2], null], state)).toEqual([]);
    const three = [...pool, 'gpt-4o-mini-2025-06-01'];
    const signals = feed(canary, T0 + 200 * MIN, 30, (i) => [three[i % 3], null], state);
    expect(signals.length).toBeGreaterThan(0);
    expect(signals[0].evidence).toMatchObject({ new: 'gpt-4o-mini-2025-06-01', old_still_served: true });
    expect(signals[0].summary).toMatch(/still served too/);
  });

  it('forgets snapshots not seen for a week: one coming back is news again', () => {
    const state = newModelChangeState();
    const a = 'gpt-4o-mini-2024-07-18';
    const b = 'gpt-4o-mini-2025-06-01';
    feed(canary, T0, 20, () => [a, null], state);
    expect(feed(canary, T0 + HOUR, 20, () => [b, null], state)).toHaveLength(3);
    // b is served for 8 days, then a comes back.
    feed(canary, T0 + 8 * DAY, 5, () => [b, null], state);
    const back = feed(canary, T0 + 9 * DAY, 5, () => [a, null], state);
    expect(back.map((s) => s.evidence.new)).toEqual([a, a, a]);
    expect(back[0].evidence.old).toBe(b);
  });
});

describe('pinned snapshot not honoured', () => {
  it('fires while the served model differs from the pin and resolves when it is back', () => {
    const state = newModelChangeState();
    const pin = 'gpt-4o-2024-08-06';
    const signals = feed(pinned, T0, 40, (i) => [i >= 10 && i < 25 ? 'gpt-4o-2024-11-20' : pin, null], state);
    expect(signals.map((s) => `${s.key} ${s.status}`)).toEqual(['openai:gpt-4o-2024-08-06:pin_mismatch:billing firing', 'openai:gpt-4o-2024-08-06:pin_mismatch:billing resolved']);
    expect(signals[0]).toMatchObject({ severity: 'warning', evidence: { old: pin, new: 'gpt-4o-2024-11-20', consumers: 'billing-bot', probes: 'openai-pinned' } });
    expect(signals[0].at).toBe(T0 + 12 * MIN);
    expect(signals[1].at).toBe(T0 + 27 * MIN);
  });

  it('accepts a served name that extends the pin (provider suffixes) and Gemini\'s models/ prefix', () => {
    const state = newModelChangeState();
    expect(feed(pinned, T0, 20, () => ['gpt-4o-2024-08-06', null], state)).toEqual([]);
    const gem = spec('gem', { target: 'provider:gemini', model: 'gemini-1.5-pro-002' });
    expect(feed(gem, T0, 20, () => ['models/gemini-1.5-pro-002', null], state)).toEqual([]);
  });
});

describe('fingerprints', () => {
  const fps = (n: number) => Array.from({ length: n }, (_, i) => `fp_${i.toString(16).padStart(10, '0')}`);

  it('learns a rotating pool, signals a new value that persists as info, and rate-limits the rest', () => {
    const state = newModelChangeState();
    const snap = 'gpt-4o-mini-2024-07-18';
    const pool = fps(3);
    expect(feed(canary, T0, 60, (i) => [snap, pool[i % 3]], state)).toEqual([]);
    // A new fingerprint: needs 5 sightings.
    const first = feed(canary, T0 + HOUR, 10, () => [snap, 'fp_new0000001'], state);
    expect(first.map((s) => s.labels.owner)).toEqual(['platform', 'safety', 'search']);
    expect(first[0]).toMatchObject({ severity: 'info', key: 'openai:gpt-4o-mini:fingerprint:platform', evidence: { change: 'fingerprint', new: 'fp_new0000001' } });
    expect(first[0].at).toBe(T0 + HOUR + 4 * MIN);
    // Another within 24 h: learnt, not signalled.
    expect(feed(canary, T0 + 3 * HOUR, 10, () => [snap, 'fp_new0000002'], state).filter((s) => s.status === 'firing')).toEqual([]);
    // After 24 h the next one is signalled and says how many went unsignalled.
    const next = feed(canary, T0 + 26 * HOUR, 10, () => [snap, 'fp_new0000003'], state).filter((s) => s.status === 'firing');
    expect(next).toHaveLength(3);
    expect(next[0].evidence.changes_not_signalled).toBe(1);
  });

  it('can be turned off', () => {
    const state = newModelChangeState();
    const snap = 'gpt-4o-mini-2024-07-18';
    feed(canary, T0, 20, () => [snap, 'fp_a'], state, { fingerprint: { enabled: false, persist: 5, minIntervalMs: DAY, severity: 'info' } });
    const out = feed(canary, T0 + HOUR, 20, () => [snap, 'fp_b'], state, { fingerprint: { enabled: false, persist: 5, minIntervalMs: DAY, severity: 'info' } });
    expect(out).toEqual([]);
  });
});

describe('replay', () => {
  it('gives the same signals as online, and the state survives JSON', () => {
    const results: ProbeResult[] = [];
    for (let i = 0; i < 300; i++) {
      const t = T0 + i * MIN;
      results.push(result(canary, t, { servedModel: i < 150 ? 'gpt-4o-mini-2024-07-18' : 'gpt-4o-mini-2025-06-01', fingerprint: i < 200 ? 'fp_a' : 'fp_b' }));
    }
    const plan = planModelChange(SPECS);
    const whole = replayModelChange(plan, results);
    const a = replayModelChange(plan, results.slice(0, 151));
    const b = replayModelChange(plan, results.slice(151), JSON.parse(JSON.stringify(a.state)));
    expect([...a.signals, ...b.signals]).toEqual(whole.signals);
    expect(whole.signals.map((s) => `${s.evidence.change} ${s.labels.owner}`)).toEqual([
      'snapshot platform',
      'snapshot safety',
      'fingerprint platform',
      'fingerprint safety',
    ]);
  });
});
