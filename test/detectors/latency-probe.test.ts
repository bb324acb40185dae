// The probe-level wrapper (ProbeResult → Signals), its config block, persistence in the store, and the report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createProbeLatencyTracker,
  latencyConfigSchema,
  latencySettings,
  loadBaseline,
  saveBaseline,
  deleteBaseline,
  type ProbeLatencyState,
} from '../../src/detectors/latency.ts';
import { formatLatencyReport, hourOfWeekGrid, compactMs } from '../../src/detectors/report-latency.ts';
import type { Signal } from '../../src/domain.ts';
import { Store, type HourlyRollup } from '../../src/store/store.ts';
import { result } from '../metrics/fixtures.ts';
import { DAY, HOUR, MIN, generate, zoned } from './latency-helpers.ts';

const TZ = 'America/New_York';
const probe = { id: 'openai-canary', owner: 'search-team', labels: { provider: 'openai' } };
const start = zoned(TZ, 2026, 1, 5, 0);
const incident = { start: start + 15 * DAY + 14 * HOUR, end: start + 15 * DAY + 16 * HOUR, factor: 3 };

function feed(settings = latencySettings({ slo: { total_ms: 10_000 } }, TZ), until = 18 * DAY) {
  const tracker = createProbeLatencyTracker(probe, settings);
  const pts = generate({ start, days: until / DAY, stepMs: 5 * MIN, timezone: TZ, baseMs: 800, incidents: [incident], seed: 2 });
  let state = tracker.init();
  const signals: Signal[] = [];
  for (const p of pts) {
    const r = tracker.observe(state, result({ startedAt: p.t, timings: { connectMs: 0, tlsMs: null, ttfbMs: 50, ttftMs: p.value * 0.4, totalMs: p.value, outputTokensPerSec: 40 } }));
    state = r.state;
    signals.push(...r.signals);
  }
  return { tracker, state, signals };
}

describe('probe latency tracker', () => {
  const { signals } = feed();

  it('pages TTFT and total for the incident with what a person needs, then resolves both', () => {
    const firing = signals.filter((s) => s.status === 'firing');
    expect(firing.map((s) => s.key).sort()).toEqual(['openai-canary:total', 'openai-canary:ttft']);
    const total = firing.find((s) => s.key === 'openai-canary:total')!;
    expect(total).toMatchObject({ detector: 'latency', severity: 'warning', labels: { probe: 'openai-canary', owner: 'search-team', provider: 'openai', metric: 'total' } });
    expect(total.at).toBeGreaterThanOrEqual(incident.start);
    expect(total.at).toBeLessThan(incident.end);
    const e = total.evidence;
    expect(e.cause).toBe('anomaly');
    expect(['level', 'drift']).toContain(e.channel); // a level incident, not a jitter or one-value one
    expect(e.baseline_level).toBe('hour_of_week');
    expect(Number(e.observed_p95_ms)).toBeGreaterThan(2 * Number(e.baseline_p95_ms));
    expect(Number(e.robust_z)).toBeGreaterThan(3);
    expect(Date.parse(String(e.since))).toBeGreaterThanOrEqual(incident.start - 10 * MIN);
    expect(Date.parse(String(e.since))).toBeLessThan(total.at);
    expect(e.local_hour).toBe(`Tue 09:00 ${TZ}`.replace('09', String(new Date(total.at - 5 * HOUR).getUTCHours()).padStart(2, '0')));
    expect(total.summary).toMatch(/openai-canary total time unusually slow for Tue \d\d:00 America\/New_York: p95 .* vs usual .* \(×\d/);
    const resolved = signals.filter((s) => s.status === 'resolved');
    expect(resolved.map((s) => s.key).sort()).toEqual(['openai-canary:total', 'openai-canary:ttft']);
    expect(resolved.every((s) => s.at > incident.end)).toBe(true);
  });

  it('skips failed attempts, drill traffic and missing TTFT', () => {
    const tracker = createProbeLatencyTracker(probe, latencySettings(undefined, TZ));
    const s0 = tracker.init();
    expect(tracker.observe(s0, result({ outcome: 'failed' })).state).toBe(s0);
    expect(tracker.observe(s0, result({ drillId: 'd1' })).state).toBe(s0);
    const s1 = tracker.observe(s0, result({ timings: { connectMs: 0, tlsMs: null, ttfbMs: null, ttftMs: null, totalMs: 500, outputTokensPerSec: null } })).state;
    expect(s1.ttft.count).toBe(0);
    expect(s1.total.count).toBe(1);
    // No TTFT, no TTFT buckets: a non-streaming probe holds one series' worth.
    expect(s1.ttft.baseline.how).toBeNull();
    expect(s1.total.baseline.how!.length).toBe(168 * 3);
  });

  it('raises a critical page on the SLO ceiling', () => {
    const tracker = createProbeLatencyTracker(probe, latencySettings({ slo: { total_ms: 10_000 } }, TZ));
    let state = tracker.init();
    const out: Signal[] = [];
    for (let i = 0; i < 20; i++) {
      const r = tracker.observe(state, result({ startedAt: start + i * MIN, timings: { connectMs: 0, tlsMs: null, ttfbMs: 50, ttftMs: 900, totalMs: 14_000, outputTokensPerSec: 40 } }));
      state = r.state;
      out.push(...r.signals);
    }
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ key: 'openai-canary:total', severity: 'critical', status: 'firing', evidence: { cause: 'slo', slo_ceiling_ms: 10_000 } });
    expect(out[0].summary).toMatch(/above the SLO ceiling of 10\.00 s/);
  });
});

describe('latency config block', () => {
  it('maps YAML to settings with defaults and named sensitivities', () => {
    const s = latencySettings({ slo: { ttft_ms: 3000, total_ms: 10_000 }, floor: { total_ms: 1500 }, sensitivity: 'high' }, 'Europe/Paris');
    expect(s).toEqual({
      enabled: true,
      timezone: 'Europe/Paris',
      sensitivity: 2.5,
      minSamples: 6,
      direction: 'high',
      ceilingMs: { ttft: 3000, total: 10_000 },
      // An unset floor takes the default: nothing under 50 ms is worth a page.
      floorMs: { ttft: 50, total: 1500 },
    });
    expect(latencySettings({ sensitivity: 4.5 }, 'UTC').sensitivity).toBe(4.5);
  });

  it('rejects unknown keys and bad values', () => {
    expect(latencyConfigSchema.safeParse({ slo: { ttft: 3000 } }).success).toBe(false);
    expect(latencyConfigSchema.safeParse({ sensitivity: 'extreme' }).success).toBe(false);
    expect(latencyConfigSchema.safeParse({ min_samples: 0 }).success).toBe(false);
  });
});

describe('baseline persistence (migration 6)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const open = () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-latency-store-'));
    dirs.push(d);
    return Store.open(join(d, 'vigil.db'));
  };

  it('saves and restores a probe state across a reopen, and the restored detector carries on identically', async () => {
    const settings = latencySettings(undefined, TZ);
    const { tracker, state } = feed(settings, 8 * DAY);
    const s = open();
    await saveBaseline(s, probe.id, TZ, state, start + 8 * DAY);
    const path = s.path;
    await s.close();
    const s2 = Store.open(path);
    const restored = (await loadBaseline(s2, probe.id, TZ))!;
    expect(restored).not.toBeNull();
    expect(restored.total.count).toBe(state.total.count);
    expect(restored.total.baseline.how).toEqual(state.total.baseline.how);
    // The same decisions from here on, bit for bit: a day more of the same series, including a slowdown.
    const more = generate({ start: start + 8 * DAY, days: 1, stepMs: 5 * MIN, timezone: TZ, baseMs: 800, incidents: [{ start: start + 8 * DAY + 10 * HOUR, end: start + 8 * DAY + 12 * HOUR, factor: 3 }], seed: 9 });
    const a: unknown[] = [];
    const b: unknown[] = [];
    for (const p of more) {
      const r = result({ startedAt: p.t, timings: { connectMs: 0, tlsMs: null, ttfbMs: 50, ttftMs: p.value * 0.4, totalMs: p.value, outputTokensPerSec: 40 } });
      a.push(tracker.observe(state, r).signals);
      b.push(tracker.observe(restored, r).signals);
    }
    expect(b).toEqual(a);
    expect(a.flat().length).toBeGreaterThan(0); // the slowdown paged (the comparison is not of nothing)
    expect(restored).toEqual(state);
    // Both series' buckets in one buffer, live and restored (one ArrayBuffer per probe, not two).
    expect(state.ttft.baseline.how!.buffer).toBe(state.total.baseline.how!.buffer);
    expect(restored.ttft.baseline.how!.buffer).toBe(restored.total.baseline.how!.buffer);
    expect(restored.ttft.baseline.how!.buffer).not.toBe(state.ttft.baseline.how!.buffer);
    // Another zone's buckets are not this zone's: ignored. Unknown probes: null. Deleted: gone.
    expect(await loadBaseline(s2, probe.id, 'Europe/Paris')).toBeNull();
    expect(await loadBaseline(s2, 'nope', TZ)).toBeNull();
    await deleteBaseline(s2, probe.id);
    expect(await loadBaseline(s2, probe.id, TZ)).toBeNull();
    await s2.close();
  });

  it('discards a state saved by an older detector version (its shape differs)', async () => {
    const settings = latencySettings(undefined, TZ);
    const { state } = feed(settings, 2 * DAY);
    const s = open();
    await saveBaseline(s, probe.id, TZ, state, start);
    expect(await loadBaseline(s, probe.id, TZ)).not.toBeNull();
    const old = { ttft: { ...state.ttft, version: 2 }, total: { ...state.total, version: 2 } } as unknown as ProbeLatencyState;
    await saveBaseline(s, probe.id, TZ, old, start);
    expect(await loadBaseline(s, probe.id, TZ)).toBeNull();
    await s.close();
  });

  it('treats a corrupt row as no baseline', async () => {
    const s = open();
    await s.sql.run("INSERT INTO detector_state (detector, key, state, updated_at) VALUES ('latency', 'p', '{not json', 0)");
    expect(await loadBaseline(s, 'p', TZ)).toBeNull();
    await s.close();
  });
});

describe('latency report', () => {
  const rollup = (hourStart: number, p50: number, p95: number, probeId = 'openai-canary'): HourlyRollup => ({
    probeId,
    hourStart,
    count: 60,
    failures: 0,
    degraded: 0,
    confirmedFailures: 0,
    refusals: 0,
    ttft: { n: 60, p50: p50 / 3, p95: p95 / 3, p99: p95 / 3 },
    total: { n: 60, p50, p95, p99: p95 },
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
  });
  // Two weeks of hours: weekdays at 9am ET are ×3.
  const rollups: HourlyRollup[] = [];
  for (let h = 0; h < 14 * 24; h++) {
    const t = start + h * HOUR;
    const local = new Date(t - 5 * HOUR);
    const weekday = local.getUTCDay() >= 1 && local.getUTCDay() <= 5;
    const f = weekday && local.getUTCHours() === 9 ? 3 : 1;
    rollups.push(rollup(t, 800 * f, 1500 * f));
  }
  rollups.push(rollup(start, 99_999, 99_999, 'other-probe'));

  it('lays out Mon..Sun × 00..23 in the probe timezone and names the slowest hour', () => {
    const text = formatLatencyReport(rollups, { probe: 'openai-canary', timezone: TZ, metrics: ['total'] });
    const lines = text.split('\n');
    const p95 = lines.findIndex((l) => l === 'total time p95');
    expect(lines[p95 + 1].trim().startsWith('00')).toBe(true);
    expect(lines[p95 + 1].trim().endsWith('23')).toBe(true);
    expect(lines.slice(p95 + 2, p95 + 9).map((l) => l.slice(0, 3))).toEqual(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
    const mon = lines[p95 + 2];
    const cells = mon.slice(5).match(/.{6}/g)!;
    expect(cells).toHaveLength(24);
    expect(cells[9]).toBe('█ 4.5s'); // darkest shade AND the number
    expect(cells[3]).toMatch(/^· 1\.5s$/);
    expect(lines[p95 + 9]).toMatch(/^slowest Mon 09:00 \(4\.5s\)/);
    expect(text).not.toContain('100s'); // the other probe's rollup is not mixed in
    expect(text).toContain('total time p50');
  });

  it('shows "-" where there is no data and says when there is nothing', () => {
    const grid = hourOfWeekGrid(rollups.slice(0, 5), TZ, 'total', 'p95');
    expect(grid[0][0]).toBe(1500);
    expect(grid[3][12]).toBeNull();
    expect(formatLatencyReport([], { probe: 'x', timezone: 'UTC' })).toMatch(/no hourly rollups yet/);
    expect(compactMs(850)).toBe('850');
    expect(compactMs(12_500)).toBe('12.5s');
    expect(compactMs(250_000)).toBe('250s');
  });
});
