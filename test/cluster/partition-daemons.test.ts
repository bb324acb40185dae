// A network partition between the leader and PostgreSQL, through two real daemons on one real server: the
// leader reaches the database through a loopback relay that the test turns into a black hole (connections stay
// open, nothing gets through, as when a route or a firewall drops packets). The cut-off leader must step down on
// its own clock before the other instance takes over: sampled in the same instant (both daemons share this
// process), the two never lead at once. After the relay heals, the old leader comes back as a follower.
import { rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
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

/** A TCP relay to PostgreSQL that can drop everything (black hole) and heal. */
class Relay {
  private server: Server | null = null;
  private pairs = new Set<[Socket, Socket]>();
  private holed = false;
  port = 0;
  private readonly target: { host: string; port: number };

  constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => {
      client.on('error', () => {});
      if (this.holed) {
        // Accepted, then silence: a dropped route, not a refused connection.
        client.pause();
        this.pairs.add([client, client]);
        return;
      }
      const upstream = createConnection(this.target);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = () => this.pairs.delete(pair);
      client.on('close', drop);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  /** Nothing gets through any more, either way; connections stay open. */
  blackHole(): void {
    this.holed = true;
    for (const [c, u] of this.pairs) {
      c.unpipe();
      u.unpipe();
      c.pause();
      u.pause();
    }
  }

  /** Heal: the stuck connections are reset (as a router's state expiring would), new ones go through. */
  heal(): void {
    this.holed = false;
    for (const [c, u] of this.pairs) {
      c.destroy();
      u.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.heal();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const until = async (what: string, fn: () => boolean | Promise<boolean>, ms = 45_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.skipIf(!pgAvailable())('a partition between the leader and PostgreSQL', () => {
  const fleets: SimFleet[] = [];
  const daemons: Daemon[] = [];
  let relay: Relay;
  let dir: string;

  beforeAll(async () => {
    const url = new URL(await freshPgUrl());
    relay = new Relay({ host: url.hostname, port: Number(url.port) });
    await relay.start();
    const viaRelay = new URL(url);
    viaRelay.port = String(relay.port);
    dir = writeConfig({ every: '1s', storage: 'url: "${VIGIL_PG_URL}"' });
    // eu-west (named as if on its own host, so a takeover waits for the lease) reaches the database through the
    // relay; us-east directly.
    const plan = [
      { location: 'eu-west', instance: 'host-eu:1:aaaaaa', pg: viaRelay.toString() },
      { location: 'us-east', instance: 'host-us:1:bbbbbb', pg: url.toString() },
    ];
    for (const p of plan) {
      const fleet = await startSimFleet({ behaviour: FAST });
      fleets.push(fleet);
      daemons.push(
        await Daemon.start({
          configDir: dir,
          env: { ...simEnv(fleet.urls), VIGIL_LOCATION: p.location, VIGIL_INSTANCE: p.instance, VIGIL_PG_URL: p.pg },
          log: quiet,
          listen: { port: 0 },
          incidentTickMs: 200,
          locationPollMs: 200,
        }),
      );
    }
  }, 60_000);
  afterAll(async () => {
    await relay?.close();
    for (const d of daemons) await d.stop();
    for (const f of fleets) await f.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the cut-off leader steps down before anyone else leads, the other takes over, and the old one rejoins as a follower', async () => {
    const [eu, us] = daemons;
    // The first to start leads.
    expect(eu.leader.isLeader).toBe(true);
    expect(us.leader.isLeader).toBe(false);
    const firstToken = eu.leader.token!;

    // Sample both in the same instant, often, for the whole partition.
    let both = 0;
    let samples = 0;
    let euSteppedAt = 0;
    let usLedAt = 0;
    const sample = () => {
      samples++;
      const a = eu.leader.isLeader;
      const b = us.leader.isLeader;
      if (a && b) both++;
      if (!a && euSteppedAt === 0) euSteppedAt = performance.now();
      if (b && usLedAt === 0) usLedAt = performance.now();
    };
    const sampler = setInterval(sample, 5);
    try {
      const cutAt = performance.now();
      relay.blackHole();
      await until('us-east takes over', () => us.leader.isLeader, 40_000);
      await until('us-east holds a higher token', () => (us.leader.token ?? 0) > firstToken);
      // `until` can see the takeover before the sampler's next tick does: sample once more so it is recorded.
      sample();
      expect(eu.leader.isLeader).toBe(false);
      expect(euSteppedAt).toBeGreaterThan(0);
      // The cut-off leader stopped on its own clock before the other began (the lease keeps a 1 s margin).
      expect(euSteppedAt).toBeLessThan(usLedAt);
      // Within the lease plus a renewal (10 s + 2 s); the bound leaves room for a loaded machine.
      expect(usLedAt - cutAt).toBeLessThan(20_000);

      // The cut-off instance keeps serving its own API meanwhile (nothing hangs on the dead connection).
      const res = await fetch(`${eu.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
      expect([200, 503]).toContain(res.status);

      // Heal: the old leader reconnects and follows; it does not take the lease back.
      relay.heal();
      await until('eu-west sees the leader again', async () => {
        const body = (await (await fetch(`${eu.url}/api/cluster`, { signal: AbortSignal.timeout(10_000) })).json()) as {
          leading: boolean;
          leader: { holder: string } | null;
        };
        return !body.leading && body.leader?.holder === us.leader.instance;
      });
      // It records results again once it can reach the store.
      const since = Date.now();
      await until('eu-west records again', async () => {
        const r = await fetch(`${us.url}/api/locations?window=15m`);
        const body = (await r.json()) as { probes: Record<string, { location: string; lastAt: number }[]> };
        return Object.values(body.probes).some((rows) => rows.some((x) => x.location === 'eu-west' && x.lastAt >= since));
      });
      await new Promise((r) => setTimeout(r, 3_000));
      expect(eu.leader.isLeader).toBe(false);
      expect(us.leader.isLeader).toBe(true);
    } finally {
      clearInterval(sampler);
    }
    expect(samples).toBeGreaterThan(1_000);
    expect(both).toBe(0);
  }, 120_000);
});
