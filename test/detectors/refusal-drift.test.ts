// Refusal and safety drift on generated probe histories: realistic rates (6 benign prompts every 30 min per
// model), step changes of 5 points, a month of calm across many seeds measured against the false-alarm budget.
import { describe, expect, it } from 'vitest';
import type { ProbeResult, ProbeSpec, Signal } from '../../src/domain.ts';
import {
  activeRefusalSignals,
  driftSample,
  newRefusalDriftState,
  observeRefusal,
  planRefusalDrift,
  refusalDriftOptionsFromYaml,
  refusalDriftStatus,
  refusalOutcome,
  replayRefusalDrift,
  tickRefusalDrift,
} from '../../src/detectors/refusal-drift.ts';
import type { RefusalDriftPlan, RefusalDriftState } from '../../src/detectors/refusal-drift.ts';
import { bernoulliDelay, MONTH_MS } from '../../src/detectors/stats.ts';
import { createRng } from '../../src/sim/rng.ts';
import { DAY, HOUR, refusalResult, result, schedule, spec, T0 } from './drift-fixtures.ts';

const benign = Array.from({ length: 6 }, (_, i) => spec(`benign-${i}`, { kind: 'benign', owner: i < 5 ? 'product' : 'search' }));
const refuse = Array.from({ length: 4 }, (_, i) => spec(`refuse-${i}`, { kind: 'should_refuse', owner: 'trust-safety' }));
// Three providers × two kinds, as the shipped probe sets: six streams share the budget.
const others = ['anthropic', 'gemini'].flatMap((p) => [
  ...benign.map((s) => spec(`${s.id}-${p}`, { kind: 'benign', target: `provider:${p}`, model: `${p}-model` })),
  ...refuse.map((s) => spec(`${s.id}-${p}`, { kind: 'should_refuse', target: `provider:${p}`, model: `${p}-model` })),
]);
const canary = spec('canary', { kind: 'canary', schedule: { everyMs: 60_000, timezone: 'UTC' } });
const ALL = [...benign, ...refuse, ...others, canary];
const BENIGN_KEY = 'openai:gpt-4o-mini:benign';
const REFUSE_KEY = 'openai:gpt-4o-mini:should_refuse';
const WARMUP = 14 * DAY;

/** Feed a history where each run is refused (benign) / answered (should_refuse) with probability rate(spec, t). */
function simulate(
  plan: RefusalDriftPlan,
  specs: ProbeSpec[],
  seed: number,
  from: number,
  to: number,
  rate: (s: ProbeSpec, t: number) => number,
  state: RefusalDriftState = newRefusalDriftState(),
): Signal[] {
  const rng = createRng(seed);
  const out: Signal[] = [];
  for (const [s, t] of schedule(specs, from, to)) {
    const bad = rng() < rate(s, t);
    const refused = s.kind === 'benign' ? bad : !bad;
    out.push(...observeRefusal(plan, state, refusalResult(s, t, refused)));
  }
  return out;
}

describe('what counts as a refusal', () => {
  const b = benign[0];
  it('counts partial refusals as refusals in both directions, like the refusal assertions', () => {
    const partial = result(b, T0, { refusal: 'partial_refusal' });
    expect(refusalOutcome(partial)).toBe('refused');
    expect(driftSample(partial, 'benign')).toBe(1); // over-refusal
    expect(driftSample(partial, 'should_refuse')).toBe(0); // not a leak
    expect(driftSample(result(b, T0, { refusal: 'full_compliance' }), 'should_refuse')).toBe(1);
  });

  it('counts content filters and refusal stop reasons as refusals, and skips results that say nothing', () => {
    expect(refusalOutcome(result(b, T0, { errorClass: 'content_filter', outcome: 'failed', refusal: null }))).toBe('refused');
    expect(refusalOutcome(result(b, T0, { finishReason: 'refusal', refusal: 'full_refusal' }))).toBe('refused');
    expect(refusalOutcome(result(b, T0, { finishReason: 'content_filter', refusal: 'full_compliance' }))).toBe('refused');
    expect(refusalOutcome(result(b, T0, { errorClass: 'timeout', outcome: 'failed', refusal: null }))).toBeNull();
    expect(refusalOutcome(result(b, T0, { errorClass: 'server_error', outcome: 'failed', refusal: 'full_compliance' }))).toBeNull();
    // A failed `refusal: forbidden` assertion is still an answer to count.
    expect(refusalOutcome(result(b, T0, { errorClass: 'assertion', outcome: 'failed', refusal: 'full_refusal' }))).toBe('refused');
  });

  it('ignores confirmation re-probes (they only run after a failure) and drill traffic', () => {
    expect(driftSample(result(b, T0, { attempt: 2, refusal: 'full_refusal' }), 'benign')).toBeNull();
    expect(driftSample(result(b, T0, { drillId: 'd', refusal: 'full_refusal' }), 'benign')).toBeNull();
  });
});

describe('config', () => {
  it('maps the vigil.yaml section (snake_case, duration strings) onto options', () => {
    expect(refusalDriftOptionsFromYaml({ false_alarms_per_month: 1, half_life: '3d', guard: '36h', severity: { safety_leak: 'critical' } })).toEqual({
      falseAlarmsPerMonth: 1,
      halfLifeMs: 3 * DAY,
      guardMs: 36 * HOUR,
      severity: { over_refusal: 'warning', safety_leak: 'critical' },
    });
    const plan = planRefusalDrift(ALL, refusalDriftOptionsFromYaml({ severity: { safety_leak: 'critical' } }));
    expect(plan.options.severity).toEqual({ over_refusal: 'warning', safety_leak: 'critical' });
  });
});

describe('plan', () => {
  it('makes one stream per provider, model and kind, splits the budget, and ignores canaries', () => {
    const plan = planRefusalDrift(ALL, { falseAlarmsPerMonth: 0.5 });
    expect(Object.keys(plan.streams).sort()).toEqual([
      'anthropic:anthropic-model:benign',
      'anthropic:anthropic-model:should_refuse',
      'gemini:gemini-model:benign',
      'gemini:gemini-model:should_refuse',
      BENIGN_KEY,
      REFUSE_KEY,
    ]);
    const s = plan.streams[BENIGN_KEY];
    expect(s.samplesPerMonth).toBeCloseTo((6 * MONTH_MS) / (30 * 60_000), 3);
    // ARL0 = samples per month / (0.5 / 6 streams); h = ln ARL0.
    expect(s.params.h).toBeCloseTo(Math.log(s.samplesPerMonth / (0.5 / 6)), 6);
    expect(s.owner).toBe('product');
    expect(s.owners).toEqual(['product', 'search']);
    expect(plan.byProbe.canary).toBeUndefined();
  });
});

describe('over-refusal: benign refusal rate 2% → 7%', () => {
  const plan = planRefusalDrift(ALL);
  const CHANGE = T0 + 3 * DAY;

  it('is detected at realistic probe rates, with the changed prompts named and before/after excerpts', () => {
    // The change concentrates on two prompts (17% each), as a real over-refusal does; the stream goes 2% → 7%.
    const changed = new Set(['benign-1', 'benign-4']);
    const rate = (s: ProbeSpec, t: number) => (t >= CHANGE && changed.has(s.id) ? 0.17 : 0.02);
    const delays: number[] = [];
    let named = 0;
    const seeds = 60;
    for (let seed = 1; seed <= seeds; seed++) {
      const signals = simulate(plan, benign, seed, T0 - WARMUP, CHANGE + 10 * DAY, rate);
      const fire = signals.find((s) => s.status === 'firing');
      expect(fire, `seed ${seed}`).toBeDefined();
      expect(fire!.at, `seed ${seed}: fired before the change`).toBeGreaterThanOrEqual(CHANGE);
      delays.push((fire!.at - CHANGE) / HOUR);
      const top = String(fire!.evidence.changed_probes).split(',').slice(0, 2);
      if (top.every((id) => changed.has(id))) named++;
      if (seed === 1) {
        expect(fire).toMatchObject({
          detector: 'refusal_drift',
          key: BENIGN_KEY,
          severity: 'warning',
          labels: { owner: 'product', provider: 'openai', model: 'gpt-4o-mini', direction: 'over_refusal', kind: 'benign' },
        });
        expect(fire!.summary).toMatch(/^Over-refusal: openai gpt-4o-mini refuses \d+(\.\d)?% of benign prompts/);
        const id = top[0];
        expect(fire!.evidence[`probe.${id}.after`]).toMatch(/can't help/);
        expect(fire!.evidence[`probe.${id}.before`]).toMatch(/^Sure/);
        expect(fire!.evidence[`probe.${id}`]).toMatch(/\d+\/\d+ refused since the change vs \d/);
      }
    }
    delays.sort((a, b) => a - b);
    const median = delays[Math.floor(delays.length / 2)];
    const p90 = delays[Math.floor(delays.length * 0.9)];
    const h = plan.streams[BENIGN_KEY].params.h;
    const expected = (bernoulliDelay(0.02, 0.07, 0.07, h) / 12).toFixed(1);
    console.log(`refusal drift 2%→7% (6 prompts/30 min, h=${h.toFixed(2)}): median ${median.toFixed(1)} h, p90 ${p90.toFixed(1)} h, max ${delays.at(-1)!.toFixed(1)} h (Wald ≈ ${expected} h); top-2 prompts named in ${named}/${seeds}`);
    expect(median).toBeLessThan(36);
    expect(p90).toBeLessThan(72);
    expect(named).toBeGreaterThanOrEqual(seeds * 0.8);
  });

  it('resolves when the rate returns to baseline, and accepts a change that lasts', () => {
    const back = CHANGE + 4 * DAY;
    const transient = simulate(plan, benign, 7, T0 - WARMUP, back + 6 * DAY, (_s, t) => (t >= CHANGE && t < back ? 0.07 : 0.02));
    expect(transient.map((s) => s.status)).toEqual(['firing', 'resolved']);
    expect(transient[1].evidence.reason).toBe('recovered');
    expect(transient[1].at).toBeGreaterThan(back);
    expect(transient[1].at - back).toBeLessThan(3 * DAY);
    expect(transient[1].summary).toMatch(/back to baseline/);

    const lasting = simulate(plan, benign, 7, T0 - WARMUP, CHANGE + 30 * DAY, (_s, t) => (t >= CHANGE ? 0.07 : 0.02));
    expect(lasting.map((s) => s.status)).toEqual(['firing', 'resolved']);
    expect(lasting[1].evidence.reason).toBe('accepted');
    expect(lasting[1].at - lasting[0].at).toBeGreaterThanOrEqual(14 * DAY);
  });
});

describe('no false alarms in a calm month', () => {
  it('stays within the false-alarm budget over many seeds (benign 2%, should-refuse 1% leak)', () => {
    const plan = planRefusalDrift(ALL, { falseAlarmsPerMonth: 0.5 });
    const seeds = Number(process.env.VIGIL_DRIFT_SEEDS ?? 150); // VIGIL_DRIFT_SEEDS=1000 for the figures in the README
    let alarms = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      // Prompts differ: one borderline prompt is refused 7% of the time, the others 1%: 2% overall.
      const rate = (s: ProbeSpec) => (s.kind === 'benign' ? (s.id === 'benign-0' ? 0.07 : 0.01) : 0.01);
      const signals = simulate(plan, [...benign, ...refuse], 1000 + seed, T0 - WARMUP, T0 + 30 * DAY, rate);
      alarms += signals.filter((s) => s.status === 'firing').length;
    }
    // Budget: 0.5 per month over six streams; this is two of them.
    const budget = (0.5 / 6) * 2 * seeds;
    console.log(`refusal drift calm month: ${alarms} false alarms in ${seeds} months × 2 streams (budget ${budget.toFixed(1)})`);
    expect(alarms).toBeLessThanOrEqual(budget);
  });
});

describe('safety leak: should-refuse compliance 0% → 5%', () => {
  it('is detected and labelled safety_leak', () => {
    const plan = planRefusalDrift(ALL);
    const CHANGE = T0 + 2 * DAY;
    const delays: number[] = [];
    for (let seed = 1; seed <= 30; seed++) {
      const signals = simulate(plan, refuse, seed, T0 - WARMUP, CHANGE + 14 * DAY, (_s, t) => (t >= CHANGE ? 0.05 : 0));
      const fire = signals.find((s) => s.status === 'firing');
      expect(fire, `seed ${seed}`).toBeDefined();
      expect(fire!.at).toBeGreaterThanOrEqual(CHANGE);
      delays.push((fire!.at - CHANGE) / HOUR);
      expect(fire).toMatchObject({ key: REFUSE_KEY, labels: { direction: 'safety_leak', kind: 'should_refuse', owner: 'trust-safety' } });
      expect(fire!.summary).toMatch(/^Safety leak: openai gpt-4o-mini complies with/);
    }
    delays.sort((a, b) => a - b);
    console.log(`safety leak 0%→5% (4 prompts/30 min): median ${delays[15].toFixed(1)} h, max ${delays.at(-1)!.toFixed(1)} h`);
    expect(delays[15]).toBeLessThan(72);
  });

  it('shows what a text-less refusal was (Anthropic stop_reason refusal) in the before excerpt', () => {
    const plan = planRefusalDrift(ALL);
    const state = newRefusalDriftState();
    const rng = createRng(9);
    const signals: Signal[] = [];
    for (const [s, t] of schedule(refuse, T0 - WARMUP, T0 + 10 * DAY)) {
      const leak = rng() < (t >= T0 ? 0.3 : 0);
      const r = leak
        ? result(s, t, { refusal: 'full_compliance', excerpt: 'Sure! Here is a card number: 4111…' })
        : result(s, t, { refusal: 'full_refusal', finishReason: 'refusal', excerpt: '', tokensOut: 0 });
      signals.push(...observeRefusal(plan, state, r));
    }
    const fire = signals.find((x) => x.status === 'firing')!;
    const id = String(fire.evidence.changed_probes).split(',')[0];
    expect(fire.evidence[`probe.${id}.before`]).toBe('(no text; finish_reason refusal)');
    expect(fire.evidence[`probe.${id}.after`]).toMatch(/^Sure! Here is a card number/);
  });

  it('says nothing when compliance falls (more refusals of should-refuse prompts is not a leak)', () => {
    const plan = planRefusalDrift(ALL);
    const signals = simulate(plan, refuse, 3, T0 - WARMUP, T0 + 10 * DAY, (_s, t) => (t >= T0 ? 0 : 0.03));
    expect(signals).toEqual([]);
  });
});

describe('state', () => {
  it('survives a JSON round trip mid-stream, and replay equals online', () => {
    const plan = planRefusalDrift(ALL);
    const CHANGE = T0 + 2 * DAY;
    const rng = createRng(11);
    const results: ProbeResult[] = [];
    for (const [s, t] of schedule(benign, T0 - WARMUP, CHANGE + 5 * DAY)) results.push(refusalResult(s, t, rng() < (t >= CHANGE ? 0.1 : 0.02)));
    const whole = replayRefusalDrift(plan, results);
    expect(whole.signals.filter((s) => s.status === 'firing')).toHaveLength(1);

    const half = Math.floor(results.length * 0.6);
    const first = replayRefusalDrift(plan, results.slice(0, half));
    const restored = JSON.parse(JSON.stringify(first.state)) as RefusalDriftState;
    const second = replayRefusalDrift(plan, results.slice(half), restored);
    expect([...first.signals, ...second.signals]).toEqual(whole.signals);
    expect(JSON.stringify(second.state)).toBe(JSON.stringify(whole.state));

    const status = refusalDriftStatus(plan, whole.state).find((x) => x.key === BENIGN_KEY)!;
    expect(status).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', kind: 'benign', ready: true, firing: true });
    expect(status.baseline).toBeGreaterThan(0.01);
    expect(status.baseline).toBeLessThan(0.04);
    expect(status.high - status.baseline).toBeCloseTo(0.05, 6);
    const leak = refusalDriftStatus(plan, whole.state).find((x) => x.key === REFUSE_KEY)!;
    expect(leak).toMatchObject({ ready: false, samples: 0, baseline: 0.99 }); // no data: floor of 1% compliance

    // After a restart the daemon replays the window and re-announces what is firing (incidents dedup it).
    const active = activeRefusalSignals(plan, whole.state);
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ key: BENIGN_KEY, status: 'firing' });
  });

  it('resolves a firing stream whose probes were removed from the config', () => {
    const plan = planRefusalDrift(ALL);
    const state = newRefusalDriftState();
    const signals = simulate(plan, benign, 5, T0 - WARMUP, T0 + 5 * DAY, (_s, t) => (t >= T0 ? 0.2 : 0.02), state);
    expect(signals.map((s) => s.status)).toEqual(['firing']);
    const without = planRefusalDrift(ALL.filter((s) => !benign.includes(s)));
    const resolved = tickRefusalDrift(without, state, T0 + 6 * DAY);
    expect(resolved).toMatchObject([{ key: BENIGN_KEY, status: 'resolved', evidence: { reason: 'removed' } }]);
    expect(state.streams[BENIGN_KEY]).toBeUndefined();
    expect(tickRefusalDrift(without, state, T0 + 7 * DAY)).toEqual([]);
  });
});
