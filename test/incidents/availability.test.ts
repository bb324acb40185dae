// The availability detector (pure), and the detector feeding the engine: success threshold, hysteresis.
import { describe, expect, it } from 'vitest';
import { AvailabilityDetector, evaluateAvailability, probeLabels } from '../../src/detectors/availability.ts';
import type { ErrorClass, Outcome, ProbeResult } from '../../src/domain.ts';
import { result as baseResult, spec } from '../scheduler/helpers.ts';
import { BASE_ALERTS, MIN, T0, harness } from './helpers.ts';

const probe = spec('openai-canary', { owner: 'search-team', model: 'gpt-4o-mini', labels: { tier: 'gold' } });
const S = { failureThreshold: 1, successThreshold: 2, degradedThreshold: 0, forMs: 0 };

function r(i: number, outcome: Outcome, over: Partial<ProbeResult> & { cls?: ErrorClass } = {}): ProbeResult {
  const { cls, ...rest } = over;
  const x = baseResult(probe, T0 + i * MIN + 12 * MIN, outcome, outcome === 'failed' ? (cls ?? 'rate_limited') : null);
  return {
    ...x,
    attempt: outcome === 'failed' ? 2 : 1,
    confirmed: outcome === 'failed',
    httpStatus: outcome === 'failed' ? (cls === 'auth' ? 401 : 429) : 200,
    ...rest,
  };
}

describe('evaluateAvailability', () => {
  it('fires on confirmed failures with a summary that says what, since when, how many', () => {
    const s = evaluateAvailability(probe, [r(0, 'ok'), r(1, 'failed'), r(2, 'failed'), r(3, 'failed')], S)!;
    expect(s).toMatchObject({ detector: 'availability', key: 'openai-canary', severity: 'critical', status: 'firing' });
    expect(s.summary).toBe('openai-canary failing: rate_limited (HTTP 429) since 09:13 UTC, 3 confirmed failures');
    expect(s.evidence).toMatchObject({ failures: 3, last_status: 429, last_error_class: 'rate_limited', ttft_ms: 10, since: '2026-01-05T09:13:00.000Z' });
    expect(s.labels).toEqual({ tier: 'gold', probe: 'openai-canary', owner: 'search-team', provider: 'openai', target: 'provider:openai', model: 'gpt-4o-mini', kind: 'canary' });
  });

  it('ignores failures still awaiting confirmation and respects failure_threshold', () => {
    const unconfirmed = { ...r(1, 'failed'), attempt: 1, confirmed: false };
    expect(evaluateAvailability(probe, [r(0, 'ok'), r(0.5, 'ok'), unconfirmed], S)!.status).toBe('resolved');
    expect(evaluateAvailability(probe, [r(0, 'ok'), r(1, 'failed'), r(2, 'failed')], { ...S, failureThreshold: 3 })).toBeNull();
    expect(evaluateAvailability(probe, [r(1, 'failed'), r(2, 'failed'), r(3, 'failed')], { ...S, failureThreshold: 3 })!.status).toBe('firing');
  });

  it('severity follows the probe kind: a safety probe overloaded (529) is a warning, the canary critical', () => {
    const overloaded = { cls: 'overloaded' as const, httpStatus: 529 };
    for (const kind of ['benign', 'should_refuse'] as const) {
      const safety = { ...probe, id: `x-${kind}`, kind };
      const s = evaluateAvailability(safety, [r(0, 'failed', overloaded)], S)!;
      expect(s.severity).toBe('warning');
      expect(s.labels.kind).toBe(kind);
      expect(s.summary).toMatch(new RegExp(`overloaded \\(HTTP 529\\).*a ${kind} safety probe: a warning; the canaries page for outages`));
    }
    expect(evaluateAvailability(probe, [r(0, 'failed', overloaded)], S)!.severity).toBe('critical');
  });

  it('auth and bad_request are config problems: a warning, not a page', () => {
    const s = evaluateAvailability(probe, [r(0, 'failed', { cls: 'auth' })], S)!;
    expect(s.severity).toBe('warning');
    expect(s.summary).toMatch(/auth \(HTTP 401\).*a config problem/);
  });

  it('resolves only after success_threshold successes (hysteresis in between)', () => {
    expect(evaluateAvailability(probe, [r(0, 'failed'), r(1, 'ok')], S)).toBeNull();
    expect(evaluateAvailability(probe, [r(0, 'failed'), r(1, 'ok'), r(2, 'degraded')], S)!.status).toBe('resolved');
  });

  it('degraded streaks raise a warning only when configured', () => {
    const list = [r(0, 'degraded'), r(1, 'degraded'), r(2, 'degraded')];
    expect(evaluateAvailability(probe, list, S)!.status).toBe('resolved');
    const s = evaluateAvailability(probe, list, { ...S, degradedThreshold: 3 })!;
    expect(s).toMatchObject({ status: 'firing', severity: 'warning' });
    expect(s.summary).toMatch(/^openai-canary degraded since 09:12 UTC, 3 results in a row/);
  });

  it('drill traffic does not count', () => {
    expect(evaluateAvailability(probe, [r(0, 'failed', { drillId: 'd1' })], S)).toBeNull();
  });
});

describe('AvailabilityDetector', () => {
  it('keeps its streaks across a seed and new results, however long, quoting the newest result', () => {
    const det = new AvailabilityDetector(() => S);
    det.seed(probe.id, [r(0, 'ok'), ...Array.from({ length: 30 }, (_, i) => r(1 + i, 'failed', { errorMessage: `old ${i}` }))]);
    let s = null;
    for (let i = 31; i < 61; i++) s = det.observe(probe, r(i, 'failed', { cls: 'overloaded', errorMessage: 'newest' }));
    // 60 failures in a row since the first (the seed's 30 included), the newest quoted.
    expect(s).toMatchObject({ status: 'firing', evidence: { failures: 60, last_error_class: 'overloaded', last_error: 'newest', since: new Date(r(1, 'failed').startedAt).toISOString() } });
    // The same verdict as the pure function over the whole list.
    const all = [r(0, 'ok'), ...Array.from({ length: 60 }, (_, i) => r(1 + i, 'failed', { cls: 'overloaded', errorMessage: 'newest' }))];
    expect(evaluateAvailability(probe, all, S)).toEqual(s);
    det.observe(probe, r(61, 'ok'));
    expect(det.observe(probe, r(62, 'degraded'))).toMatchObject({ status: 'resolved', evidence: { successes: 2 } });
  });
});

describe('detector → incidents', () => {
  it('success_threshold 2: one success holds the incident, the second resolves it', async () => {
    const h = harness(BASE_ALERTS.replace('group_wait: 30s', 'group_wait: 0s'));
    const det = new AvailabilityDetector(() => h.cfg.current.availability);
    const feed = async (i: number, outcome: Outcome) => {
      const s = det.observe(probe, r(i, outcome));
      if (s) await h.manager.ingest(s);
    };
    await feed(0, 'ok');
    await feed(1, 'failed');
    await h.run(MIN);
    expect(await h.manager.listIncidents({ state: 'firing' })).toHaveLength(1);
    await feed(2, 'ok');
    await h.run(MIN);
    expect(await h.manager.listIncidents({ state: 'firing' })).toHaveLength(1);
    await feed(3, 'ok');
    await h.run(6 * MIN);
    expect(await h.manager.listIncidents({ state: 'open' })).toHaveLength(0);
    expect(h.pagerduty.actions()).toEqual(['trigger:new', 'resolve:resolved']);
    expect(h.pagerduty.delivered[0].n.incident.summary).toMatch(/^openai-canary failing: rate_limited/);
    expect(probeLabels(probe).provider).toBe('openai');
  });
});
