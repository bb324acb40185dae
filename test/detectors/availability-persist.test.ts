// Availability streaks survive a restart and a crash: saved streaks plus the results stored after the save give the
// same streaks the running detector had, on both store engines; probes the save does not know, and saves too old
// to trust, are seeded from their newest rows.
import { describe, expect, it } from 'vitest';
import type { ProbeResult, ProbeSpec } from '../../src/domain.ts';
import { AvailabilityDetector, reachesAvailability } from '../../src/detectors/availability.ts';
import { AVAILABILITY_STATE_DETECTOR, resumeAvailability, saveAvailability, SEED_ROWS } from '../../src/detectors/availability-persist.ts';
import { Store } from '../../src/store/store.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';
import { makeResultFor, makeSpec } from '../fixtures.ts';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;
const settings = { failureThreshold: 3, successThreshold: 2, degradedThreshold: 0, forMs: 0 };
const LOCATION = 'default';

describe.each(BACKENDS)('availability streaks across restarts (%s)', (backend) => {
  const open = async (target: string) => Store.connect(target, { location: LOCATION });

  /** What the daemon's record() does with one result: store it and, when it reaches the detector, observe it. */
  async function record(store: Store, det: AvailabilityDetector, spec: ProbeSpec, r: ProbeResult) {
    await store.insertResult(r);
    return reachesAvailability(spec.kind, r) ? det.observe(spec, r) : null;
  }

  it.skipIf(skipBackend(backend))('a crash after the save: the saved streaks plus what was stored after them are what the detector had', async () => {
    const target = await freshStoreTarget(backend);
    const twoIntoThree = makeSpec({ id: 'two-into-three' });
    const longOutage = makeSpec({ id: 'long-outage' });
    const recovering = makeSpec({ id: 'recovering' });
    const safety = makeSpec({ id: 'safety', kind: 'benign' });
    const specs = [twoIntoThree, longOutage, recovering, safety];
    let store = await open(target);
    const live = new AvailabilityDetector(() => settings);
    for (const s of specs) live.seed(s.id, []);
    let t = T0;
    const fail = (s: ProbeSpec, over: Partial<ProbeResult> = {}) => makeResultFor(s, (t += 1_000), { outcome: 'failed', errorClass: 'server_error', confirmed: true, attempt: 2, ...over });
    const ok = (s: ProbeSpec) => makeResultFor(s, (t += 1_000), { outcome: 'ok' });
    // Before the save: an outage 30 results long (longer than the rows a seed reads), a recovery half done,
    // one failure of the probe that will be two into three, and a safety probe's refusal failures (drift's business).
    for (let i = 0; i < 30; i++) await record(store, live, longOutage, fail(longOutage));
    await record(store, live, recovering, fail(recovering));
    await record(store, live, recovering, ok(recovering));
    await record(store, live, twoIntoThree, ok(twoIntoThree));
    await record(store, live, twoIntoThree, fail(twoIntoThree));
    await record(store, live, safety, ok(safety));
    await record(store, live, safety, fail(safety, { errorClass: 'assertion' }));
    await saveAvailability(store, live, specs, LOCATION, (t += 1_000));
    // After the save, then a crash (no second save): a first attempt not yet confirmed, the second failure,
    // a drill's failure (never counted), more of the outage, the safety probe's refusals.
    await record(store, live, twoIntoThree, fail(twoIntoThree, { confirmed: false, attempt: 1 }));
    await record(store, live, twoIntoThree, fail(twoIntoThree));
    await record(store, live, recovering, fail(recovering, { drillId: 'drill-1' }));
    for (let i = 0; i < 5; i++) await record(store, live, longOutage, fail(longOutage));
    await record(store, live, safety, fail(safety, { errorClass: 'assertion' }));
    await store.close();

    store = await open(target);
    try {
      const resumed = new AvailabilityDetector(() => settings);
      const report = await resumeAvailability(store, resumed, specs, LOCATION, t + MIN, 14 * DAY);
      expect(report).toMatchObject({ saved: 4, seeded: 0 });
      for (const s of specs) expect(resumed.streaks(s.id), s.id).toStrictEqual(live.streaks(s.id));
      expect(resumed.streaks(twoIntoThree.id)!.failed.n).toBe(2);
      expect(resumed.streaks(longOutage.id)!.failed.n).toBe(35);
      // The next confirmed failure pages on both: the restarted detector is where the running one was.
      const third = fail(twoIntoThree);
      const fromLive = live.observe(twoIntoThree, third);
      expect(fromLive?.status).toBe('firing');
      expect(resumed.observe(twoIntoThree, third)).toStrictEqual(fromLive);
    } finally {
      await store.close();
    }
  });

  it.skipIf(skipBackend(backend))('probes the save does not know, or a save too old to trust, are seeded from their newest rows', async () => {
    const target = await freshStoreTarget(backend);
    const known = makeSpec({ id: 'known' });
    const added = makeSpec({ id: 'added' });
    const store = await open(target);
    try {
      const live = new AvailabilityDetector(() => settings);
      live.seed(known.id, []);
      let t = T0;
      for (let i = 0; i < 25; i++) await record(store, live, known, makeResultFor(known, (t += 1_000), { outcome: 'failed', confirmed: true }));
      await saveAvailability(store, live, [known], LOCATION, t);
      // Results of a probe added to the config while the daemon was down (written by another run).
      for (let i = 0; i < 2; i++) await store.insertResult(makeResultFor(added, (t += 1_000), { outcome: 'failed', confirmed: true }));

      const resumed = new AvailabilityDetector(() => settings);
      expect(await resumeAvailability(store, resumed, [known, added], LOCATION, t, 14 * DAY)).toMatchObject({ saved: 1, seeded: 1 });
      expect(resumed.streaks(known.id)!.failed.n).toBe(25);
      expect(resumed.streaks(added.id)!.failed.n).toBe(2);

      // Older than raw retention: results after it may be gone, so each probe reads its newest rows.
      const stale = new AvailabilityDetector(() => settings);
      expect(await resumeAvailability(store, stale, [known, added], LOCATION, t + 15 * DAY, 14 * DAY)).toMatchObject({ saved: 0, seeded: 2 });
      expect(stale.streaks(known.id)!.failed.n).toBe(SEED_ROWS);

      // An unreadable save is not trusted either.
      await store.sql.run('UPDATE detector_state SET state = ? WHERE detector = ?', ['{"version":1', AVAILABILITY_STATE_DETECTOR]);
      const broken = new AvailabilityDetector(() => settings);
      expect(await resumeAvailability(store, broken, [known], LOCATION, t, 14 * DAY)).toMatchObject({ saved: 0, seeded: 1 });
    } finally {
      await store.close();
    }
  });
});
