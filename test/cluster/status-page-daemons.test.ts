// The HTML status page across locations, through two real daemons on one real PostgreSQL, each probing its own
// simulator: any instance's overview says who leads and shows each location's view of a probe; the heatmap
// offers the locations and filters to one.
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet, type SimFleet } from '../../src/sim/fleet.ts';
import { writeConfig } from '../daemon/helpers.ts';
import { freshPgUrl, pgAvailable } from '../pg/backends.ts';

const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };
const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });
const LOCATIONS = ['eu-west', 'us-east'];

const until = async <T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 45_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.skipIf(!pgAvailable())('status page across locations through daemons on PostgreSQL', () => {
  const fleets: SimFleet[] = [];
  const daemons: Daemon[] = [];
  let dir: string;

  beforeAll(async () => {
    const url = await freshPgUrl();
    dir = writeConfig({ every: '1s', storage: `url: "${url}"` });
    for (const location of LOCATIONS) {
      const fleet = await startSimFleet({ behaviour: FAST });
      fleets.push(fleet);
      daemons.push(await Daemon.start({ configDir: dir, env: { ...simEnv(fleet.urls), VIGIL_LOCATION: location }, log: quiet, listen: { port: 0 }, incidentTickMs: 200, locationPollMs: 200 }));
    }
  }, 60_000);
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    for (const f of fleets) await f.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a follower shows the leader and a row per location; the heatmap filters to one location', async () => {
    fleets[0].openai.patch({ outage: true }); // eu-west's view of OpenAI fails
    const leader = daemons.find((d) => d.leader.isLeader)!;
    const follower = daemons.find((d) => !d.leader.isLeader)!;
    const page = await until('both locations on the overview', async () => {
      const body = await (await fetch(`${follower.url}/`)).text();
      return body.includes('data-probe-location="openai-canary@eu-west"') && body.includes('data-probe-location="openai-canary@us-east"') && body;
    });
    expect(page).toContain(`data-leader="${leader.leader.instance}"`);
    expect(page).toContain(`in <strong>${leader.config.location}</strong>`);
    expect(page).toContain(`This page: ${follower.leader.instance} (${follower.config.location})`);
    const row = (loc: string) => {
      const i = page.indexOf(`data-probe-location="openai-canary@${loc}"`);
      return page.slice(i, page.indexOf('</tr>', i));
    };
    expect(row('eu-west')).toContain('Failing');
    expect(row('us-east')).toContain('OK');
    expect(row('us-east')).toMatch(/>0 of \d+ failed/);

    const hm = await (await fetch(`${follower.url}/status/heatmap?location=us-east`)).text();
    expect(hm).toContain('<option value="us-east" selected>us-east</option>');
    expect(hm).toContain('Showing results from <strong>us-east</strong> only');
    const bad = await fetch(`${follower.url}/status/heatmap?location=${encodeURIComponent('<b>x')}`);
    expect(bad.status).toBe(200);
    expect(await bad.text()).toContain('is not a location name');
  }, 60_000);
});
