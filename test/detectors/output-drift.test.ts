// Output statistics drift on generated histories: answer length, JSON validity, finish-reason mix.
import { describe, expect, it } from 'vitest';
import type { ProbeResult, ProbeSpec, Signal } from '../../src/domain.ts';
import { newOutputDriftState, observeOutput, outputSamples, planOutputDrift, replayOutputDrift, tickOutputDrift } from '../../src/detectors/output-drift.ts';
import type { OutputDriftPlan, OutputDriftState } from '../../src/detectors/output-drift.ts';
import { createRng } from '../../src/sim/rng.ts';
import { DAY, HOUR, MIN, result, spec, T0 } from './drift-fixtures.ts';

const every5m = { everyMs: 5 * MIN, timezone: 'UTC' };
const chat = spec('chat', { schedule: every5m, owner: 'search' });
const jsonProbe = spec('extract', { schedule: every5m, owner: 'search', assertions: [{ json_schema: { type: 'object' } }] });
const canary = spec('canary', { schedule: { everyMs: MIN, timezone: 'UTC' }, maxTokens: 5 });
const SPECS = [chat, jsonProbe, canary];
const WARMUP = 7 * DAY;

function run(
  plan: OutputDriftPlan,
  s: ProbeSpec,
  from: number,
  to: number,
  make: (t: number, rng: () => number) => Partial<ProbeResult>,
  seed = 1,
  state: OutputDriftState = newOutputDriftState(),
): Signal[] {
  const rng = createRng(seed);
  const out: Signal[] = [];
  for (let t = from; t < to; t += s.schedule.everyMs!) out.push(...observeOutput(plan, state, result(s, t, make(t, rng))));
  return out;
}

/** Roughly normal (sum of uniforms), right-skewed by an occasional long answer. */
function length(rng: () => number, mean: number): number {
  const n = mean + (rng() + rng() + rng() + rng() - 2) * mean * 0.35;
  return Math.max(1, Math.round(rng() < 0.03 ? n * 2.5 : n));
}

describe('samples', () => {
  it('reads length, JSON verdicts and finish reasons; skips re-probes, drills and errors without an answer', () => {
    const r = result(jsonProbe, T0, {
      tokensOut: 42,
      finishReason: 'length',
      assertions: [{ assertion: 'json_schema', passed: false, detail: 'not JSON', soft: false }],
    });
    expect(outputSamples(r)).toEqual({ length: 42, json_invalid: 1, finish_length: 1, finish_content_filter: 0 });
    expect(outputSamples({ ...r, attempt: 2 }).length).toBeNull();
    expect(outputSamples({ ...r, drillId: 'x' }).length).toBeNull();
    expect(outputSamples(result(chat, T0, { errorClass: 'timeout', outcome: 'failed', tokensOut: null, finishReason: null }))).toEqual({
      length: null,
      json_invalid: null,
      finish_length: null,
      finish_content_filter: null,
    });
    // A content-policy block counts for the finish mix.
    expect(outputSamples(result(chat, T0, { errorClass: 'content_filter', outcome: 'failed', finishReason: null })).finish_content_filter).toBe(1);
  });
});

describe('answer length', () => {
  const plan = planOutputDrift(SPECS);
  const CHANGE = T0 + 2 * DAY;

  it('flags answers that get longer, with the before and after means, and resolves when they come back', () => {
    const back = CHANGE + 2 * DAY;
    const signals = run(plan, chat, T0 - WARMUP, back + 2 * DAY, (t, rng) => ({ tokensOut: length(rng, t >= CHANGE && t < back ? 70 : 40) }));
    expect(signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
    const [fire, resolve] = signals;
    expect(fire).toMatchObject({ detector: 'output_drift', key: 'chat:length', severity: 'warning', labels: { probe: 'chat', metric: 'length', owner: 'search' } });
    expect(fire.evidence.direction).toBe('up');
    expect(fire.evidence.baseline_mean_tokens as number).toBeGreaterThan(35);
    expect(fire.evidence.baseline_mean_tokens as number).toBeLessThan(47);
    expect(fire.evidence.observed_mean_tokens as number).toBeGreaterThan(55);
    expect(fire.at).toBeGreaterThanOrEqual(CHANGE);
    expect(fire.at - CHANGE).toBeLessThan(3 * HOUR);
    expect(resolve.at).toBeGreaterThan(back);
    expect(resolve.evidence.reason).toBe('recovered');
  });

  it('handles temperature-0 answers (no variance) without firing on every token', () => {
    const steady = run(plan, canary, T0 - WARMUP, T0 + 30 * DAY, () => ({ tokensOut: 5, finishReason: 'length' }));
    expect(steady).toEqual([]);
    const shorter = run(plan, chat, T0 - WARMUP, T0 + DAY, (t) => ({ tokensOut: t >= T0 ? 6 : 12 }));
    expect(shorter).toHaveLength(1);
    expect(shorter[0].evidence.direction).toBe('down');
  });

  it('does not warn about a change too small to act on, however significant', () => {
    // 40 → 45 tokens (12 %) on steady answers: the CUSUM is sure within hours, and nobody would act on it.
    const steady = (t: number, rng: () => number) => ({ tokensOut: (t >= CHANGE ? 45 : 40) + Math.round(rng() * 2 - 1) });
    expect(run(plan, chat, T0 - WARMUP, CHANGE + 5 * DAY, steady)).toEqual([]);
    // With the practical effect turned off, the same month warns (the test can fail).
    const strict = planOutputDrift(SPECS, { lengthMinChange: 0, lengthMinTokens: 0 });
    expect(run(strict, chat, T0 - WARMUP, CHANGE + 5 * DAY, steady).length).toBeGreaterThan(0);
    // A short answer that loses one token in ten (7.4 → 6.7, the demo's old warning) is not news either.
    const tiny = run(plan, chat, T0 - WARMUP, CHANGE + 5 * DAY, (t, rng) => ({ tokensOut: rng() < (t >= CHANGE ? 0.3 : 0.4) ? 8 : 7 }));
    expect(tiny).toEqual([]);
  });

  it('leaves a change in how often a benign prompt is refused to refusal drift', () => {
    const benign = spec('benign-q', { schedule: every5m, owner: 'safety', kind: 'benign' });
    const p = planOutputDrift([...SPECS, benign]);
    // Half the answers become short refusals: the answers that still comply keep their length.
    const signals = run(p, benign, T0 - WARMUP, CHANGE + 3 * DAY, (t, rng) =>
      t >= CHANGE && rng() < 0.5 ? { tokensOut: 12, refusal: 'full_refusal', finishReason: 'content_filter' } : { tokensOut: length(rng, 60), refusal: 'full_compliance' },
    );
    expect(signals).toEqual([]);
    // The same answers on a canary are an output change worth a warning (the test can fail).
    const canaryLike = run(p, chat, T0 - WARMUP, CHANGE + 3 * DAY, (t, rng) =>
      t >= CHANGE && rng() < 0.5 ? { tokensOut: 12, refusal: 'full_refusal' } : { tokensOut: length(rng, 60), refusal: 'full_compliance' },
    );
    expect(canaryLike.map((s) => s.key)).toContain('chat:length');
  });

  it('stays quiet for a calm month of skewed lengths across seeds', () => {
    let alarms = 0;
    const seeds = 40;
    for (let seed = 1; seed <= seeds; seed++) {
      alarms += run(plan, chat, T0 - WARMUP, T0 + 30 * DAY, (_t, rng) => ({ tokensOut: length(rng, 40) }), seed).length;
    }
    // The budget (1/month) is split over 13 tests (3 probes); the length test of one probe gets 2/13 of it.
    const budget = (2 / 13) * seeds;
    console.log(`output drift (length) calm month: ${alarms} false alarms in ${seeds} probe-months (budget ${budget.toFixed(1)})`);
    expect(alarms).toBeLessThanOrEqual(budget);
  });
});

describe('rates', () => {
  const plan = planOutputDrift(SPECS);
  const CHANGE = T0 + 2 * DAY;

  it('flags a rise in invalid JSON answers', () => {
    const verdict = (ok: boolean) => [{ assertion: 'json_schema', passed: ok, detail: '', soft: false }];
    const signals = run(plan, jsonProbe, T0 - WARMUP, CHANGE + 2 * DAY, (t, rng) => {
      const bad = rng() < (t >= CHANGE ? 0.2 : 0.01);
      return { assertions: verdict(!bad), outcome: bad ? 'failed' : 'ok', errorClass: bad ? 'assertion' : null };
    });
    const fire = signals.find((s) => s.key === 'extract:json_invalid');
    expect(fire).toBeDefined();
    expect(fire!.at).toBeGreaterThanOrEqual(CHANGE);
    expect(fire!.at - CHANGE).toBeLessThan(12 * HOUR);
    expect(fire!.summary).toMatch(/invalid JSON\/schema answers/);
    expect(signals.filter((s) => s.key !== 'extract:json_invalid')).toEqual([]);
  });

  it('does not warn about a rate rise too small to act on', () => {
    const verdict = (ok: boolean) => [{ assertion: 'json_schema', passed: ok, detail: '', soft: false }];
    const signals = run(plan, jsonProbe, T0 - WARMUP, CHANGE + 10 * DAY, (t, rng) => {
      const bad = rng() < (t >= CHANGE ? 0.04 : 0.01);
      return { assertions: verdict(!bad), outcome: bad ? 'failed' : 'ok', errorClass: bad ? 'assertion' : null };
    });
    expect(signals.map((s) => `${s.key} ${s.status} ${s.summary}`)).toEqual([]);
  });

  it('flags a shift in the finish-reason mix (truncation and content filters)', () => {
    const signals = run(plan, chat, T0 - WARMUP, CHANGE + 2 * DAY, (t, rng) => {
      const after = t >= CHANGE;
      const u = rng();
      return after && u < 0.3 ? { finishReason: 'length' } : after && u < 0.45 ? { finishReason: 'content_filter' } : { finishReason: u < 0.02 ? 'length' : 'stop' };
    });
    expect(signals.map((s) => s.key).sort()).toEqual(['chat:finish_content_filter', 'chat:finish_length']);
    for (const s of signals) expect(s.at).toBeGreaterThanOrEqual(CHANGE);
  });

  it('replays from stored history and resolves what fired for removed probes', () => {
    const results: ProbeResult[] = [];
    for (let t = T0 - WARMUP; t < CHANGE + DAY; t += 5 * MIN) results.push(result(chat, t, { finishReason: t >= CHANGE ? 'length' : 'stop' }));
    const { state, signals } = replayOutputDrift(plan, results);
    expect(signals.map((s) => `${s.key} ${s.status}`)).toEqual(['chat:finish_length firing']);
    const gone = tickOutputDrift(planOutputDrift([jsonProbe]), state, CHANGE + 2 * DAY);
    expect(gone.map((s) => `${s.key} ${s.status}`)).toEqual(['chat:finish_length resolved']);
  });
});
