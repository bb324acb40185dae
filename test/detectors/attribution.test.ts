// Whose fault: the pure attribution of a gateway probe's availability signal, and "on fallback".
import { describe, expect, it } from 'vitest';
import { attribute, directPeers, fallbackSignal, onFallback } from '../../src/detectors/attribution.ts';
import { evaluateAvailability, DEFAULT_AVAILABILITY } from '../../src/detectors/availability.ts';
import type { GatewayInfo, ProbeResult, Signal } from '../../src/domain.ts';
import { makeResultFor, makeSpec } from '../fixtures.ts';

const T = Date.UTC(2026, 0, 5, 9, 0, 0);
const gw = makeSpec({ id: 'gateway-canary', target: 'gateway', owner: 'platform' });
const direct = makeSpec({ id: 'openai-canary', target: 'provider:openai', owner: 'openai-team' });
const failed = (over: Partial<ProbeResult> = {}) => ({ outcome: 'failed' as const, errorClass: 'overloaded' as const, httpStatus: 503, confirmed: true, ...over });
const info = (over: Partial<GatewayInfo>): GatewayInfo => ({ servedBy: null, provider: null, attemptedFallbacks: null, retryAttempts: null, raw: {}, ...over });

/** The availability detector's firing signal for the gateway probe, failing since T. */
function gatewayFiring(): Signal {
  const s = evaluateAvailability(gw, [makeResultFor(gw, T, failed({ errorClass: 'connect', httpStatus: null }))], DEFAULT_AVAILABILITY);
  expect(s?.status).toBe('firing');
  return s!;
}

describe('attribute', () => {
  it('the direct path answered since the gateway began failing: the gateway\'s fault, to the gateway\'s owner', () => {
    const s = attribute(gatewayFiring(), gw, [{ spec: direct, last: makeResultFor(direct, T + 20_000) }], 'gateway-team');
    expect(s.labels).toMatchObject({ owner: 'gateway-team', attribution: 'gateway', provider: 'gateway' });
    expect(s.summary).toMatch(/^gateway fault: gateway-canary failing: connect since 09:00 UTC, 1 confirmed failure; the direct path works \(openai-canary ok at 09:00 UTC\)$/);
    // Without gateway.owner, the gateway probe's owner.
    expect(attribute(gatewayFiring(), gw, [{ spec: direct, last: makeResultFor(direct, T + 20_000) }], undefined).labels.owner).toBe('platform');
  });

  it('failing on both paths: the provider\'s, to the direct probe\'s owner and the provider\'s group', () => {
    const s = attribute(gatewayFiring(), gw, [{ spec: direct, last: makeResultFor(direct, T - 30_000, failed()) }], 'gateway-team');
    expect(s.labels).toMatchObject({ owner: 'openai-team', provider: 'openai', attribution: 'provider' });
    expect(s.summary).toMatch(/^provider fault \(openai, failing on both paths\): .*; openai-canary fails too \(overloaded\)$/);
  });

  it('a direct success from before the gateway failed is no evidence: not known yet', () => {
    const s = attribute(gatewayFiring(), gw, [{ spec: direct, last: makeResultFor(direct, T - 30_000) }], 'gateway-team');
    expect(s.labels).toMatchObject({ owner: 'platform', attribution: 'pending' });
    expect(s.summary).toMatch(/gateway or provider not known yet \(openai-canary last answered at 08:59 UTC, before this began\)$/);
  });

  it('nothing to compare with (no peer, no result, an unconfirmed failure) or not a gateway probe: unchanged', () => {
    const sig = gatewayFiring();
    expect(attribute(sig, gw, [], 'gateway-team')).toBe(sig);
    expect(attribute(sig, gw, [{ spec: direct, last: undefined }], 'gateway-team')).toBe(sig);
    expect(attribute(sig, gw, [{ spec: direct, last: makeResultFor(direct, T, failed({ confirmed: false })) }], 'gateway-team')).toBe(sig);
    expect(attribute({ ...sig, status: 'resolved' }, gw, [{ spec: direct, last: makeResultFor(direct, T + 1) }], 'x').labels.attribution).toBeUndefined();
    expect(attribute(sig, direct, [{ spec: direct, last: makeResultFor(direct, T + 1) }], 'x')).toBe(sig);
  });

  it('peers are direct probes of the same model and kind', () => {
    const others = [direct, makeSpec({ id: 'other-model', model: 'gpt-4o' }), makeSpec({ id: 'benign', kind: 'benign' }), makeSpec({ id: 'gw2', target: 'gateway' })];
    expect(directPeers(gw, others).map((p) => p.id)).toEqual(['openai-canary']);
  });
});

describe('on fallback', () => {
  it('what the gateway says first (LiteLLM fallback count, Portkey option index), else the answer\'s model', () => {
    const r = (over: Partial<ProbeResult>) => makeResultFor(gw, T, over);
    expect(onFallback(gw, r({ gateway: info({ attemptedFallbacks: 1 }), servedModel: 'gpt-4o-mini' }))).toBe(true);
    expect(onFallback(gw, r({ gateway: info({ attemptedFallbacks: 0 }), servedModel: 'claude-sonnet-4-5' }))).toBe(false);
    expect(onFallback(gw, r({ gateway: info({ servedBy: 'config.targets[1]' }) }))).toBe(true);
    expect(onFallback(gw, r({ gateway: info({ servedBy: 'config.targets[0]' }) }))).toBe(false);
    expect(onFallback(gw, r({ servedModel: 'gemini-2.5-flash' }))).toBe(true);
    expect(onFallback(gw, r({ servedModel: 'gpt-4o-mini-2024-07-18' }))).toBe(false);
    expect(onFallback(gw, r({ servedModel: 'openai/gpt-4o-mini' }))).toBe(false);
    expect(onFallback(gw, r({ servedModel: null }))).toBe(false);
    expect(onFallback(gw, r({ ...failed(), gateway: info({ attemptedFallbacks: 2 }) }))).toBe(false);
  });

  it('a warning while it holds, resolved when the primary answers, nothing on a failure or a direct probe', () => {
    const on = fallbackSignal(gw, { probe: gw.id }, makeResultFor(gw, T, { gateway: info({ servedBy: 'vertex-gemini', attemptedFallbacks: 2 }), servedModel: 'gemini-2.5-flash' }));
    expect(on).toMatchObject({ detector: 'fallback', key: 'gateway-canary', severity: 'warning', status: 'firing' });
    expect(on!.summary).toBe('gateway-canary running on fallback: the gateway answered from vertex-gemini (model gemini-2.5-flash), not the primary gpt-4o-mini');
    expect(fallbackSignal(gw, {}, makeResultFor(gw, T, { gateway: info({ attemptedFallbacks: 0 }) }))).toMatchObject({ status: 'resolved' });
    expect(fallbackSignal(gw, {}, makeResultFor(gw, T, failed()))).toBeNull();
    expect(fallbackSignal(direct, {}, makeResultFor(direct, T, { servedModel: 'gemini-2.5-flash' }))).toBeNull();
  });
});
