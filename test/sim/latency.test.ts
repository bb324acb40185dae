// The latency model (pure) and what the servers really do with it: diurnal curve over an injected clock,
// seeded jitter, and the truth log of planned versus written offsets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { DEFAULT_LATENCY, PROVIDER_LATENCY, diurnalMultiplier, latencyMultiplier, localTime, planLatency, startSimFleet } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { createRng } from '../../src/sim/rng.ts';
import { AUTH, openaiChat, raw } from './helpers.ts';

// Monday 2026-01-05: 9:00 in New York is 14:00 UTC (EST), 3:00 is 08:00 UTC.
const MON_9AM_ET = Date.UTC(2026, 0, 5, 14);
const MON_3AM_ET = Date.UTC(2026, 0, 5, 8);
const SAT_9AM_ET = Date.UTC(2026, 0, 10, 14);
const DIURNAL = DEFAULT_LATENCY.diurnal;

describe('diurnal curve (pure)', () => {
  it('peaks ×3 at 9am ET on weekdays, ~×1 at 3am and on weekends', () => {
    expect(localTime(MON_9AM_ET, 'America/New_York')).toEqual({ weekday: 1, hour: 9 });
    expect(diurnalMultiplier(DIURNAL, MON_9AM_ET)).toBeCloseTo(3, 6);
    expect(diurnalMultiplier(DIURNAL, MON_3AM_ET)).toBeLessThan(1.01);
    expect(diurnalMultiplier(DIURNAL, SAT_9AM_ET)).toBe(1);
    // Summer time: 9am EDT is 13:00 UTC.
    expect(diurnalMultiplier(DIURNAL, Date.UTC(2026, 6, 6, 13))).toBeCloseTo(3, 6);
  });

  it('over a week, the slowest hour of every weekday is 9am ET', () => {
    const start = Date.UTC(2026, 0, 4, 5); // Sunday 00:00 EST
    for (let day = 0; day < 7; day++) {
      const hours = Array.from({ length: 24 }, (_, h) => diurnalMultiplier(DIURNAL, start + (day * 24 + h) * 3_600_000));
      const max = Math.max(...hours);
      if (day === 0 || day === 6) expect(max).toBe(1);
      else expect(hours.indexOf(max)).toBe(9);
    }
  });

  it('plans TTFT, token times and total; jitter is seeded', () => {
    const cfg = { ttfbMs: 10, ttftMs: 100, perTokenMs: 20, jitter: 0, diurnal: DIURNAL };
    const p = planLatency(cfg, MON_9AM_ET, 3);
    expect(p.multiplier).toBeCloseTo(3);
    expect(p.ttftMs).toBeCloseTo(300);
    expect(p.tokenAtMs.map(Math.round)).toEqual([300, 360, 420]);
    expect(p.totalMs).toBeCloseTo(420);
    expect(p.ttfbMs).toBeCloseTo(30);
    const j = { ...cfg, jitter: 0.2, diurnal: null };
    const a = planLatency(j, 0, 5, createRng(42));
    const b = planLatency(j, 0, 5, createRng(42));
    expect(a).toEqual(b);
    expect(a.ttftMs).not.toBe(100);
    expect(a.ttftMs).toBeGreaterThanOrEqual(80);
    expect(a.ttftMs).toBeLessThanOrEqual(120);
  });
});

describe('weekly windows and per-provider profiles (pure)', () => {
  const HOUR = 3_600_000;
  // Sunday 2026-01-11 01:00 in Los Angeles (PST) is 09:00 UTC.
  const SUN_1AM_PT = Date.UTC(2026, 0, 11, 9);
  const window = { timezone: 'America/Los_Angeles', peakHour: 1, peakMultiplier: 2.6, widthHours: 0.6, weekdaysOnly: false, weekday: 0 };

  it('a bump with a weekday happens on that local day only, and reaches across midnight', () => {
    expect(diurnalMultiplier(window, SUN_1AM_PT)).toBeCloseTo(2.6, 6);
    // The same hour on the other six days: nothing.
    for (let d = 1; d < 7; d++) expect(diurnalMultiplier(window, SUN_1AM_PT + d * 24 * HOUR)).toBeLessThan(1.0001);
    // Saturday 23:30 PT is 1.5 h before the window's peak: its tail is there.
    const sat2330 = SUN_1AM_PT - 1.5 * HOUR;
    expect(localTime(sat2330, 'America/Los_Angeles')).toEqual({ weekday: 6, hour: 23.5 });
    expect(diurnalMultiplier(window, sat2330)).toBeGreaterThan(1.07);
    expect(diurnalMultiplier(window, sat2330)).toBeLessThan(1.2);
  });

  it('bumps add their excess to the diurnal curve', () => {
    const cfg = { diurnal: DIURNAL, bumps: [window] };
    expect(latencyMultiplier(cfg, MON_9AM_ET)).toBeCloseTo(3, 6);
    expect(latencyMultiplier(cfg, SUN_1AM_PT)).toBeCloseTo(2.6, 6);
    expect(latencyMultiplier({ diurnal: null }, SUN_1AM_PT)).toBe(1);
    expect(planLatency({ ttfbMs: 0, ttftMs: 100, perTokenMs: 0, jitter: 0, ...cfg }, SUN_1AM_PT, 0).ttftMs).toBeCloseTo(260, 6);
  });

  it('the three providers differ: base speed, noise, the hour of the weekday peak, and Gemini’s Sunday window', () => {
    const { openai, anthropic, gemini } = PROVIDER_LATENCY;
    expect(new Set([openai.ttftMs, anthropic.ttftMs, gemini.ttftMs]).size).toBe(3);
    expect(new Set([openai.jitter, anthropic.jitter, gemini.jitter]).size).toBe(3);
    // Over one week (New York time), hour by hour.
    const start = Date.UTC(2026, 0, 4, 5); // Sunday 00:00 EST
    const week = (cfg: typeof openai) => Array.from({ length: 7 * 24 }, (_, i) => latencyMultiplier(cfg, start + i * HOUR));
    const peakHour = (cfg: typeof openai, day: number) => {
      const row = week(cfg).slice(day * 24, day * 24 + 24);
      return row.indexOf(Math.max(...row));
    };
    // Weekdays: every provider is slowest in the US morning, each at its own hour.
    expect(peakHour(anthropic, 1)).toBe(9);
    expect(peakHour(gemini, 1)).toBe(9);
    expect(peakHour(openai, 1)).toBe(10);
    expect(Math.max(...week(anthropic))).toBeGreaterThan(Math.max(...week(openai).slice(24, 48)));
    // Saturdays are flat for all; Sunday too except Gemini's maintenance window, 1am Pacific = 4am New York.
    for (const cfg of [openai, anthropic]) for (const day of [0, 6]) expect(Math.max(...week(cfg).slice(day * 24, day * 24 + 24))).toBeLessThan(1.01);
    expect(Math.max(...week(gemini).slice(6 * 24))).toBeLessThan(1.01);
    expect(peakHour(gemini, 0)).toBe(4);
    expect(Math.max(...week(gemini).slice(0, 24))).toBeGreaterThan(2);
  });

  it('a realistic fleet serves each provider with its own profile; the default fleet keeps the shared one', async () => {
    const real = await startSimFleet({ realistic: true });
    const plain = await startSimFleet();
    try {
      for (const p of ['openai', 'anthropic', 'gemini'] as const) {
        expect(real[p].behaviour.latency).toEqual(PROVIDER_LATENCY[p]);
        expect(plain[p].behaviour.latency).toEqual(DEFAULT_LATENCY);
      }
      // A reset keeps the profile; a later patch of the curve still wins.
      real.reset();
      expect(real.gemini.behaviour.latency.bumps).toEqual(PROVIDER_LATENCY.gemini.bumps);
    } finally {
      await real.close();
      await plain.close();
    }
  });
});

describe('diurnal latency on the wire, with a ManualClock', () => {
  const clock = new ManualClock(MON_9AM_ET);
  let fleet: SimFleet;
  beforeAll(async () => {
    fleet = await startSimFleet({ clock, behaviour: { latency: { ttfbMs: 5, ttftMs: 50, perTokenMs: 5, jitter: 0, diurnal: DIURNAL } } });
    await raw(`${fleet.urls.openai}/v1/chat/completions`, { headers: AUTH.openai, body: openaiChat() }); // warm-up
  });
  afterAll(async () => {
    await fleet.close();
  });

  const ttft = async () => {
    const r = await raw(`${fleet.urls.openai}/v1/chat/completions`, {
      headers: AUTH.openai,
      body: openaiChat({ stream: true, messages: [{ role: 'user', content: 'Say hello' }] }),
    });
    expect(r.status).toBe(200);
    return fleet.openai.request(String(r.headers['x-sim-request-id']))!;
  };

  it('is three times slower at 9am ET on a Monday than at 3am', async () => {
    clock.set(MON_9AM_ET);
    const peak = await ttft();
    clock.set(MON_3AM_ET);
    const night = await ttft();
    expect(peak.planned.multiplier).toBeCloseTo(3, 3);
    expect(peak.planned.firstTokenMs).toBeCloseTo(150, 3);
    expect(night.planned.firstTokenMs).toBeLessThan(51);
    // What really went out: never more than 1 ms early, and late only by scheduling slop.
    for (const rec of [peak, night]) {
      expect(rec.actual.firstTokenMs!).toBeGreaterThan(rec.planned.firstTokenMs! - 1.5);
      expect(rec.actual.firstTokenMs!).toBeLessThan(rec.planned.firstTokenMs! + 60);
      expect(rec.actual.headersMs!).toBeLessThan(rec.actual.firstTokenMs!);
      expect(rec.actual.lastByteMs!).toBeGreaterThanOrEqual(rec.actual.firstTokenMs!);
      expect(rec.end).toBe('complete');
    }
    expect(peak.actual.firstTokenMs!).toBeGreaterThan(night.actual.firstTokenMs! + 60);
  });

  it('exposes the plan over the control API', async () => {
    const r = await raw(`${fleet.urls.openai}/_sim/latency?at=2026-01-05T14:00:00Z&tokens=2`);
    const j = JSON.parse(r.body);
    expect(j.multiplier).toBeCloseTo(3);
    expect(j.tokenAtMs.map(Math.round)).toEqual([150, 165]);
  });
});

describe('truth log', () => {
  it('returns records since a seq, bounded by capacity', async () => {
    const fleet = await startSimFleet({ logCapacity: 5, behaviour: { latency: { ttfbMs: 0, ttftMs: 0, perTokenMs: 0, jitter: 0, diurnal: null } } });
    try {
      for (let i = 0; i < 8; i++) await raw(`${fleet.urls.openai}/v1/chat/completions`, { headers: AUTH.openai, body: openaiChat() });
      const all = fleet.openai.requests();
      expect(all.map((r) => r.seq)).toEqual([4, 5, 6, 7, 8]);
      expect(fleet.openai.requests(6).map((r) => r.seq)).toEqual([7, 8]);
      const http = JSON.parse((await raw(`${fleet.urls.openai}/_sim/requests?since=7`)).body);
      expect(http.lastSeq).toBe(8);
      expect(http.requests).toHaveLength(1);
      expect(http.requests[0]).toMatchObject({ id: 'openai-8', status: 200, servedModel: 'gpt-4o-mini-2024-07-18', end: 'complete' });
    } finally {
      await fleet.close();
    }
  });

  it('same seed, same sequence of planned latencies', async () => {
    const plans: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const fleet = await startSimFleet({ seed: 7, behaviour: { latency: { ttfbMs: 1, ttftMs: 5, perTokenMs: 1, jitter: 0.5, diurnal: null } } });
      try {
        for (let i = 0; i < 3; i++) await raw(`${fleet.urls.openai}/v1/chat/completions`, { headers: AUTH.openai, body: openaiChat() });
        plans.push(fleet.openai.requests().map((r) => r.planned.firstTokenMs!));
      } finally {
        await fleet.close();
      }
    }
    expect(plans[0]).toEqual(plans[1]);
    expect(new Set(plans[0]).size).toBe(3);
  });
});
