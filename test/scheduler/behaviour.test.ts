// Scheduler behaviours on a ManualClock: overlap, provider cap, confirmation, stalls, reload, shutdown.

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { ErrorClass, ProbeSpec } from '../../src/domain.ts';
import { intervalPhase } from '../../src/scheduler/index.ts';
import type { RunContext } from '../../src/scheduler/index.ts';
import type { Behaviour } from './helpers.ts';
import { HOUR, MIN, harness, spec } from './helpers.ts';

const START = Date.UTC(2026, 0, 5, 0, 0, 0);
const S = 1000;

describe('no overlap', () => {
  it('skips (and records) slots that come while the previous run is still going', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: 90 * S }), { jitter: false });
    scheduler.start([spec('slow')]);
    await clock.advance(10 * MIN - 1);
    expect(runner.calls.map((c) => (c.plannedAt - START) / MIN)).toEqual([0, 2, 4, 6, 8]);
    expect(rec.skips.map((k) => [(k.plannedAt - START) / MIN, k.reason])).toEqual([
      [1, 'overlap'],
      [3, 'overlap'],
      [5, 'overlap'],
      [7, 'overlap'],
      [9, 'overlap'],
    ]);
    expect(runner.maxPerProbe).toBe(1);
    await scheduler.stop({ deadlineMs: 0 });
  });

  it('counts a confirmation re-probe as part of the run', async () => {
    const clock = new ManualClock(START);
    // Each attempt 40 s, always a timeout: attempt 1 + confirmation = 80 s > 60 s interval.
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: 40 * S, outcome: 'failed', errorClass: 'timeout' }), {
      jitter: false,
    });
    scheduler.start([spec('flappy')]);
    await clock.advance(4 * MIN - 1);
    expect(runner.calls.map((c) => [(c.plannedAt - START) / MIN, c.attempt])).toEqual([
      [0, 1],
      [0, 2],
      [2, 1],
      [2, 2],
    ]);
    expect(rec.skips.map((k) => k.reason)).toEqual(['overlap', 'overlap']);
    expect(runner.maxPerProbe).toBe(1);
    await scheduler.stop({ deadlineMs: 0 });
  });
});

describe('per-provider concurrency cap', () => {
  it('never exceeds the cap, queues FIFO, and records the wait as skew', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: 10 * S }), {
      jitter: false,
      concurrencyPerProvider: 3,
    });
    const specs = Array.from({ length: 10 }, (_, i) => spec(`p${i}`, { target: 'provider:openai' }));
    specs.push(spec('other', { target: 'provider:anthropic' }));
    scheduler.start(specs);
    await clock.advance(0);
    expect(scheduler.stats().providers['provider:openai']).toEqual({ active: 3, queued: 7 });
    await clock.advance(50 * S);
    expect(runner.maxByTarget.get('provider:openai')).toBe(3);
    const openai = runner.calls.filter((c) => c.target === 'provider:openai');
    expect(openai.map((c) => c.id)).toEqual(specs.slice(0, 10).map((s) => s.id));
    expect(openai.map((c) => (c.startedAt - START) / S)).toEqual([0, 0, 0, 10, 10, 10, 20, 20, 20, 30]);
    const skew = Object.fromEntries(rec.results.map((r) => [r.result.probeId, r.meta.skewMs]));
    expect(skew.p9).toBe(30 * S);
    expect(skew.p0).toBe(0);
    expect(skew.other).toBe(0); // another provider is not held up
    await scheduler.stop({ deadlineMs: 0 });
  });
});

describe('confirmation re-probes', () => {
  async function once(behave: (s: ProbeSpec, ctx: RunContext) => Behaviour, confirmFailures?: number) {
    const clock = new ManualClock(START);
    const h = harness(clock, behave, { jitter: false, confirmFailures });
    h.scheduler.start([spec('c')]);
    await clock.advance(30 * S);
    await h.scheduler.stop({ deadlineMs: 0 });
    return h;
  }
  const failing = (errorClass: ErrorClass) => () => ({ durationMs: S, outcome: 'failed' as const, errorClass });

  it('re-probes a transient failure once and records both attempts; the last is confirmed', async () => {
    const { runner, rec } = await once(failing('timeout'));
    expect(runner.calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(runner.calls[1].startedAt).toBe(runner.calls[0].endedAt); // immediately
    expect(rec.results.map((r) => [r.result.attempt, r.result.outcome, r.result.confirmed, r.meta.final])).toEqual([
      [1, 'failed', false, false],
      [2, 'failed', true, true],
    ]);
  });

  it('does not re-probe auth or bad_request (config problems): one attempt, final', async () => {
    for (const cls of ['auth', 'bad_request'] as const) {
      const { runner, rec } = await once(failing(cls));
      expect(runner.calls.length).toBe(1);
      expect(rec.results.map((r) => [r.result.outcome, r.result.errorClass, r.result.confirmed, r.meta.final])).toEqual([
        ['failed', cls, true, true],
      ]);
    }
  });

  it('a probe that passes on retry is degraded with "passed after retry"', async () => {
    const { runner, rec } = await once((_s, ctx) =>
      ctx.attempt === 1 ? { durationMs: S, outcome: 'failed', errorClass: 'assertion' } : { durationMs: S },
    );
    expect(runner.calls.length).toBe(2);
    const last = rec.results.at(-1)!.result;
    expect(last.outcome).toBe('degraded');
    expect(last.confirmed).toBe(false);
    expect(last.errorMessage).toMatch(/passed after retry.*assertion/);
    expect(rec.results[0].result.outcome).toBe('failed');
  });

  it('confirmFailures sets the number of re-probes (2 -> three attempts, 0 -> none)', async () => {
    expect((await once(failing('server_error'), 2)).runner.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    const none = await once(failing('server_error'), 0);
    expect(none.runner.calls.length).toBe(1);
    expect(none.rec.results[0].result.confirmed).toBe(true);
  });

  it('a runner that throws is reported, and the probe keeps its schedule', async () => {
    const clock = new ManualClock(START);
    const h = harness(clock, () => ({ durationMs: S }), { jitter: false });
    const real = h.runner.run;
    let n = 0;
    const s2 = new (await import('../../src/scheduler/index.ts')).Scheduler({
      clock,
      runner: (s, ctx) => (n++ === 0 ? Promise.reject(new Error('bug')) : real(s, ctx)),
      onResult: (result, meta) => void h.rec.results.push({ result, meta }),
      onError: (s, error) => void h.rec.errors.push({ id: s.id, error }),
      jitter: false,
    });
    s2.start([spec('t')]);
    await clock.advance(2 * MIN - 1);
    expect(h.rec.errors.map((e) => (e.error as Error).message)).toEqual(['bug']);
    expect(h.rec.results.length).toBe(1);
    await s2.stop({ deadlineMs: 0 });
  });
});

describe('stalls: missed slots, at most one late run', () => {
  it('records slots passed during a stall as missed and runs the latest once, late', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: S }), { jitter: false });
    scheduler.start([spec('m')]);
    await clock.advance(MIN + 10 * S); // runs at 0 and 1 min
    clock.set(START + 6 * MIN + 30 * S); // event loop blocked for 5m20s
    await clock.advance(0);
    expect(rec.skips.map((k) => [(k.plannedAt - START) / MIN, k.reason, k.count])).toEqual([
      [2, 'missed', 1],
      [3, 'missed', 1],
      [4, 'missed', 1],
      [5, 'missed', 1],
    ]);
    expect(runner.calls.map((c) => (c.plannedAt - START) / MIN)).toEqual([0, 1, 6]); // one late run, no burst
    await clock.advance(2 * MIN);
    expect(rec.results.find((r) => r.meta.plannedAt === START + 6 * MIN)?.meta.skewMs).toBe(30 * S);
    expect(runner.calls.map((c) => (c.plannedAt - START) / MIN)).toEqual([0, 1, 6, 7, 8]); // back on the grid
    await scheduler.stop({ deadlineMs: 0 });
  });

  it('maxLateMs turns a too-late slot into a miss; long stalls are summarised after maxMissedReports', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: S }), {
      jitter: false,
      maxLateMs: 10 * S,
      maxMissedReports: 2,
    });
    scheduler.start([spec('m')]);
    await clock.advance(0);
    clock.set(START + 10 * MIN + 30 * S);
    await clock.advance(0);
    expect(rec.skips.map((k) => [(k.plannedAt - START) / MIN, k.reason, k.count])).toEqual([
      [1, 'missed', 1],
      [2, 'missed', 1],
      [3, 'missed', 7], // slots 3..9
      [10, 'missed', 1], // 30 s late > maxLateMs
    ]);
    expect(runner.calls.length).toBe(1);
    expect(scheduler.stats().counts.missed).toBe(10);
    await scheduler.stop({ deadlineMs: 0 });
  });

  it('re-plans when the wall clock steps back instead of going silent', async () => {
    // ManualClock's sleepers are on wall time; real timers are monotonic. This clock's wall time can step
    // (like NTP) while its sleeps keep running on the underlying manual time.
    const base = new ManualClock(START);
    let offset = 0;
    const clock = { now: () => base.now() + offset, monotonic: () => base.monotonic(), sleep: base.sleep.bind(base) };
    const { FakeRunner } = await import('./helpers.ts');
    const runner = new FakeRunner(clock, () => ({ durationMs: S }));
    const { Scheduler } = await import('../../src/scheduler/index.ts');
    const scheduler = new Scheduler({ clock, runner: runner.run, onResult: () => {}, jitter: false });
    scheduler.start([spec('b')]);
    await base.advance(10 * MIN);
    const before = runner.calls.length;
    offset = -HOUR; // wall clock steps back one hour
    await base.advance(3 * MIN);
    // Without the re-plan, the next slot (an hour ahead on the new wall clock) would keep it silent.
    expect(runner.calls.length - before).toBeGreaterThanOrEqual(2);
    await scheduler.stop({ deadlineMs: 0 });
  });
});

describe('update() (config reload)', () => {
  it('keeps unchanged probes and their in-flight runs, stops removed, starts added, restarts changed', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: 20 * S }));
    const a = spec('a');
    const b = spec('b');
    const c = spec('c');
    scheduler.start([a, b, c]);
    const before = scheduler.stats().nextPlanned;
    // Advance until a's first run is in flight.
    await clock.advance(before.a! - START + 5 * S);
    expect(runner.activeById.get('a')).toBe(1);
    const summary = scheduler.update([{ ...a }, { ...c, schedule: { everyMs: 5 * MIN, timezone: 'UTC' } }, spec('d')]);
    expect(summary).toEqual({ added: ['d'], removed: ['b'], changed: ['c'], unchanged: 1 });
    const after = scheduler.stats().nextPlanned;
    expect(after.a).toBe(before.a! + MIN); // same phase, grid untouched
    expect(after.b).toBeUndefined();
    expect((after.c! - START) % (5 * MIN)).toBe(intervalPhase('c', 5 * MIN, true)); // on its new 5-min grid
    expect(after.c!).toBeGreaterThan(clock.now());
    const reloadAt = clock.now();
    await clock.advance(0); // let the loop re-arm before the fake clock jumps
    await clock.advance(20 * MIN);
    // a's in-flight run was not aborted and its result arrived.
    expect(runner.calls.filter((x) => x.id === 'a' && x.plannedAt === before.a)[0].aborted).toBeUndefined();
    expect(rec.results.some((r) => r.result.probeId === 'a' && r.meta.plannedAt === before.a)).toBe(true);
    expect(runner.calls.filter((x) => x.id === 'b' && x.startedAt > reloadAt)).toEqual([]);
    const cStarts = runner.calls.filter((x) => x.id === 'c' && x.startedAt > reloadAt).map((x) => x.plannedAt);
    expect(cStarts.length).toBe(4);
    expect(cStarts.every((p, i) => i === 0 || p - cStarts[i - 1] === 5 * MIN)).toBe(true);
    expect(runner.calls.filter((x) => x.id === 'd').length).toBe(20);
    expect(runner.calls.filter((x) => x.id === 'a').length).toBe(21);
    await scheduler.stop({ deadlineMs: 0 });
  });

  it('a changed probe never overlaps the run of its old version', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: 150 * S }), { jitter: false });
    scheduler.start([spec('x')]);
    await clock.advance(10 * S); // x's first run (150 s) is going
    scheduler.update([spec('x', { everyMs: 30 * S })]);
    // Let the loop re-arm before moving time (ManualClock jumps; real time would not).
    await clock.advance(0);
    await clock.advance(MIN);
    expect(runner.maxPerProbe).toBe(1);
    expect(rec.skips.map((k) => k.reason)).toEqual(['overlap', 'overlap']); // new slots at 30 s and 60 s
    await scheduler.stop({ deadlineMs: 0 });
  });

  it('a probe changed at the instant it ran waits for its next slot (no double run)', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: S }), { jitter: false });
    scheduler.start([spec('y')]);
    await clock.advance(0); // ran at START
    scheduler.update([spec('y', { labels: { team: 'new' } })]);
    await clock.advance(0);
    await clock.advance(MIN - 1);
    expect(runner.calls.map((c) => c.plannedAt - START)).toEqual([0]);
    expect(rec.skips).toEqual([]);
    await scheduler.stop({ deadlineMs: 0 });
  });

  it('rejects an invalid config without changing anything', async () => {
    const clock = new ManualClock(START);
    const { scheduler } = harness(clock, () => ({ durationMs: S }));
    scheduler.start([spec('a')]);
    const before = scheduler.stats().nextPlanned;
    expect(() => scheduler.update([spec('a', { everyMs: 30 * S }), spec('bad', { cron: 'not a cron' })])).toThrow(/bad/);
    expect(() => scheduler.update([spec('a'), spec('a')])).toThrow(/duplicate/);
    expect(() => scheduler.update([spec('tz', { cron: '0 9 * * *', timezone: 'Mars/Olympus' })])).toThrow(/tz/);
    expect(scheduler.stats().nextPlanned).toEqual(before);
    await scheduler.stop({ deadlineMs: 0 });
  });

  it('drops a queued run of a removed probe', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: 10 * S }), {
      jitter: false,
      concurrencyPerProvider: 1,
    });
    scheduler.start([spec('first'), spec('queued')]);
    await clock.advance(1 * S);
    expect(scheduler.stats().queued).toBe(1);
    scheduler.update([spec('first')]);
    await clock.advance(20 * S);
    expect(runner.calls.map((c) => c.id)).toEqual(['first']);
    expect(rec.skips.map((k) => [k.id, k.reason])).toEqual([['queued', 'removed']]);
    await scheduler.stop({ deadlineMs: 0 });
  });
});

describe('stop()', () => {
  it('waits for in-flight runs up to the deadline, then aborts the hung one; queued runs are dropped', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, (s) => ({ durationMs: s.id === 'hung' ? HOUR : 5 * S }), {
      jitter: false,
      concurrencyPerProvider: 2,
    });
    scheduler.start([spec('hung'), spec('fast'), spec('waiting')]);
    await clock.advance(1 * S);
    expect(scheduler.running).toBe(true);
    let settled = false;
    const stopped = scheduler.stop({ deadlineMs: 30 * S }).then(() => (settled = true));
    expect(scheduler.running).toBe(false);
    await clock.advance(29 * S);
    expect(settled).toBe(false);
    expect(rec.results.map((r) => r.result.probeId)).toEqual(['fast']); // finished normally within the deadline
    expect(rec.skips.map((k) => [k.id, k.reason])).toEqual([['waiting', 'stopped']]);
    await clock.advance(1 * S);
    await stopped;
    expect(settled).toBe(true);
    const hung = runner.calls.find((c) => c.id === 'hung')!;
    expect(hung.aborted).toBe(true);
    expect(hung.endedAt).toBe(START + 31 * S);
    expect(scheduler.stats().inFlight).toBe(0);
    // Nothing is scheduled any more.
    const calls = runner.calls.length;
    await clock.advance(10 * MIN);
    expect(runner.calls.length).toBe(calls);
    expect(clock.pending).toBe(0);
  });

  it('an attempt cut short by the stop deadline is final and not re-probed (confirmed: false)', async () => {
    const clock = new ManualClock(START);
    const { result } = await import('./helpers.ts');
    const { Scheduler } = await import('../../src/scheduler/index.ts');
    const got: { attempt: number; confirmed: boolean; final: boolean }[] = [];
    let calls = 0;
    const scheduler = new Scheduler({
      clock,
      jitter: false,
      // Like a real probe: on abort it returns a failed (timeout) result instead of throwing.
      runner: async (s, ctx) => {
        calls++;
        await clock.sleep(HOUR, ctx.signal).catch(() => {});
        return result(s, START, 'failed', 'timeout');
      },
      onResult: (r, m) => void got.push({ attempt: r.attempt, confirmed: r.confirmed, final: m.final }),
    });
    scheduler.start([spec('z')]);
    await clock.advance(0);
    await scheduler.stop({ deadlineMs: 0 });
    expect(calls).toBe(1);
    expect(got).toEqual([{ attempt: 1, confirmed: false, final: true }]);
  });

  it('resolves at once when idle, and the scheduler can start again', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner } = harness(clock, () => ({ durationMs: S }), { jitter: false });
    scheduler.start([spec('a')]);
    await clock.advance(10 * S);
    await scheduler.stop({ deadlineMs: 60 * S });
    scheduler.start([spec('a')]);
    await clock.advance(MIN);
    expect(runner.calls.length).toBe(2);
    await scheduler.stop();
  });
});
