// Several `vigil run` processes on one store: exactly one leads (GET /api/cluster, vigil_leader), each stamps
// its own location on its results, and when the leader is killed (kill -9) another takes over within the lease
// (10 s) plus one renewal (2 s). Runs on one SQLite file here: the lease is the same code on Postgres.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet, type SimFleet } from '../../src/sim/fleet.ts';
import { Store } from '../../src/store/store.ts';
import { writeConfig } from '../daemon/helpers.ts';

const MAIN = resolve(import.meta.dirname, '../../src/main.ts');
const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };

interface Instance {
  child: ChildProcess;
  url: string;
  location: string;
}

function startInstance(dir: string, env: Record<string, string>, location: string): Promise<Instance> {
  const child = spawn(process.execPath, [MAIN, 'run', '--config', dir, '--port', '0'], {
    env: { ...process.env, ...env, VIGIL_LOCATION: location, VIGIL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolveStart, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = /^(?=.*"msg":"vigil running").*"url":"(http:\/\/[^"]+)"/m.exec(buf);
      if (m) resolveStart({ child, url: m[1], location });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`vigil run (${location}) exited ${code}: ${buf.slice(-2000)}`)));
  });
}

const cluster = async (i: Instance) =>
  (await (await fetch(`${i.url}/api/cluster`)).json()) as { instance: string; location: string; leading: boolean; token: number | null; leader: { holder: string; location: string; token: number } | null };

describe('several daemons on one store', () => {
  let fleet: SimFleet;
  let dir: string;
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST });
    dir = writeConfig({ every: '1s' });
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one leads; kill -9 of the leader hands over within the lease; each location stamps its results', async () => {
    const env = simEnv(fleet.urls) as Record<string, string>;
    const a = await startInstance(dir, env, 'eu-west');
    procs.push(a.child);
    const b = await startInstance(dir, env, 'us-east');
    procs.push(b.child);

    const [ca, cb] = [await cluster(a), await cluster(b)];
    expect([ca.leading, cb.leading]).toEqual([true, false]);
    expect(cb.leader).toMatchObject({ holder: ca.instance, location: 'eu-west', token: ca.token });
    expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(/^vigil_leader\{location="eu-west"\} 1$/m);
    expect(await (await fetch(`${b.url}/metrics`)).text()).toMatch(/^vigil_leader\{location="us-east"\} 0$/m);

    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    let after = await cluster(b);
    while (!after.leading) {
      if (Date.now() - killedAt > 20_000) throw new Error('no takeover within 20 s');
      await new Promise((r) => setTimeout(r, 200));
      after = await cluster(b);
    }
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThanOrEqual(15_000);
    expect(after.token).toBe(ca.token! + 1);
    expect(after.leader).toMatchObject({ holder: cb.instance, location: 'us-east' });

    const store = Store.open(join(dir, 'vigil.db'), { readOnly: true });
    try {
      const locations = new Set((await store.results({ limit: 10_000 })).map((r) => r.location));
      expect(locations).toEqual(new Set(['eu-west', 'us-east']));
    } finally {
      await store.close();
    }
  }, 60_000);
});
