// Latency decided across locations through real daemons on one real PostgreSQL: three instances in three
// locations, each probing its own simulator. One location slow (above the probe's SLO ceiling) is a warning for
// Vigil's owner naming that location, and no latency page; two of three slow is one latency page listing both,
// and the warning resolves. (The SLO ceiling fires without the detector's day of warm-up, so this runs in
// seconds; the hour-of-week anomaly path across locations is tested on an injected week in
// location-latency.test.ts.)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon.ts';
import type { Incident } from '../../src/domain.ts';
import { alertsConfig } from '../../src/incidents/index.ts';
import { createLogger } from '../../src/log.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet, type SimFleet } from '../../src/sim/fleet.ts';
import { writeConfig } from '../daemon/helpers.ts';
import { freshPgUrl, pgAvailable } from '../pg/backends.ts';

const FAST = { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null };
const SLOW = { ...FAST, ttftMs: 600 };
const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });
const LOCATIONS = ['eu-west', 'us-east', 'ap-south'];

const until = async <T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 45_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.skipIf(!pgAvailable())('latency across locations through daemons on PostgreSQL', () => {
  const fleets: SimFleet[] = [];
  const daemons: Daemon[] = [];
  let dir: string;

  beforeAll(async () => {
    const url = await freshPgUrl();
    dir = writeConfig({ every: '1s', storage: `url: "${url}"` });
    // The OpenAI canary gets a total-time ceiling of 300 ms (the simulators answer in about 1 ms until slowed).
    const probes = join(dir, 'probes', 'all.yaml');
    const body = readFileSync(probes, 'utf8');
    const openai = body.split('  - id: ')[1];
    writeFileSync(probes, `probes:\n  - id: ${openai}    latency: { slo: { total_ms: 300 } }\n`);
    for (const location of LOCATIONS) {
      const fleet = await startSimFleet({ behaviour: { latency: FAST } });
      fleets.push(fleet);
      daemons.push(
        await Daemon.start({
          configDir: dir,
          env: { ...simEnv(fleet.urls), VIGIL_LOCATION: location },
          log: quiet,
          listen: { port: 0 },
          incidentTickMs: 200,
          locationPollMs: 200,
        }),
      );
    }
  }, 60_000);
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    for (const f of fleets) await f.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const leader = () => daemons.find((d) => d.leader.isLeader)!;
  const open = async (): Promise<Incident[]> => (await leader().incidents.listIncidents({ state: 'open' })).filter((i) => i.key.startsWith('openai-canary'));

  it('one slow location is a warning naming it; two of three page once, listing both', async () => {
    expect(daemons.filter((d) => d.leader.isLeader)).toHaveLength(1);
    // Every location's results reach the leader before anything is slowed (so each counts as reporting).
    await until('three locations reporting', async () => [...leader().locationFeed!.reporting('openai-canary')].length === 3);
    fleets[0].openai.patch({ latency: SLOW });
    const warning = await until('the eu-west warning', async () => (await open()).find((i) => i.detector === 'location' && i.state === 'firing'));
    expect(warning.key).toBe('openai-canary:total@eu-west');
    expect(warning.severity).toBe('warning');
    expect(warning.summary).toMatch(/openai-canary total time unusual from eu-west only \(1 of 3 locations; 2 needed to page\): regional slowness or eu-west egress\?/);
    expect(warning.labels.owner).toBe(alertsConfig(leader().config).vigilOwner); // Vigil's owner, not the probe's
    // A few more seconds of eu-west slow alone: still no latency page.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await open()).filter((i) => i.detector === 'latency')).toEqual([]);

    fleets[1].openai.patch({ latency: SLOW });
    const page = await until('the page', async () => (await open()).find((i) => i.detector === 'latency' && i.state === 'firing'));
    expect(page.key).toBe('openai-canary:total');
    expect(page.severity).toBe('critical');
    expect(page.labels.locations).toBe('eu-west,us-east');
    expect(page.labels.owner).toBe('platform');
    expect(page.summary).toMatch(/above the SLO ceiling of 300 ms.*seen from eu-west, us-east \(2 of 3 locations\)/);
    await until('the warning to resolve', async () => !(await open()).some((i) => i.detector === 'location'));
    expect((await open()).filter((i) => i.detector === 'latency')).toHaveLength(1);
    // The states were saved per location at once (the alerts changed), keyed by location.
    const keys = await until('the saved states', async () => {
      const rows = await leader().store.sql.all<{ key: string }>("SELECT key FROM detector_state WHERE detector = 'latency' ORDER BY key");
      const k = rows.map((r) => r.key);
      return k.includes('openai-canary@eu-west') && k.includes('openai-canary@us-east') && k;
    });
    expect(keys).not.toContain('openai-canary'); // the followers' own watches no longer save over each other
  }, 120_000);
});
