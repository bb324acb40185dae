// The leader lease on both backends: one leader at a time, takeover after the holder dies or is cut off from
// the database, a higher fencing token for every new holder, and fenced writes refused from a deposed leader.
import { afterEach, describe, expect, it } from 'vitest';
import { Leader } from '../../src/cluster/leader.ts';
import type { Sql } from '../../src/store/sql.ts';
import { Store } from '../../src/store/store.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';

const TTL = 800;
const RENEW = 150;

/** A Sql whose calls can be made to hang, as when the network to the database is cut (or the process froze). */
function cuttable(sql: Sql): { sql: Sql; cut(): void } {
  let cut = false;
  const hang = () => new Promise<never>(() => {});
  const wrapped = new Proxy(sql, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => (cut ? hang() : v.apply(target, args));
    },
  });
  return { sql: wrapped, cut: () => void (cut = true) };
}

const until = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(BACKENDS)('leader lease (%s)', (backend) => {
  const setup = async (n: number) => {
    const target = await freshStoreTarget(backend);
    // Instances are separate Stores (separate connections), as separate processes would have.
    const stores = backend === 'sqlite' ? [await Store.connect(target)] : await Promise.all(Array.from({ length: n }, () => Store.connect(target)));
    const leaders = Array.from({ length: n }, (_, i) => {
      const c = cuttable(stores[Math.min(i, stores.length - 1)].sql);
      const l = new Leader({ sql: c.sql, instance: `i${i}`, location: `loc${i}`, ttlMs: TTL, renewMs: RENEW });
      return { l, cut: c.cut };
    });
    cleanups.push(async () => {
      for (const x of leaders) x.cut();
      await Promise.all(stores.map((s) => s.close()));
    });
    return { leaders, stores };
  };
  const leading = (ls: { l: Leader }[]) => ls.filter((x) => x.l.isLeader).map((x) => x.l.instance);

  it.skipIf(skipBackend(backend))('one leader; a clean stop hands over at once with a higher token', async () => {
    const { leaders } = await setup(3);
    expect(await leaders[0].l.campaign()).toBe(true);
    expect(await leaders[1].l.campaign()).toBe(false);
    expect(await leaders[2].l.campaign()).toBe(false);
    expect(leaders[0].l.token).toBe(1);
    // Renewing keeps the token.
    expect(await leaders[0].l.campaign()).toBe(true);
    expect(leaders[0].l.token).toBe(1);
    const view = await leaders[1].l.current();
    expect(view).toMatchObject({ holder: 'i0', location: 'loc0', token: 1, live: true });

    await leaders[0].l.stop();
    expect(await leaders[1].l.campaign()).toBe(true);
    expect(leaders[1].l.token).toBe(2);
    expect(leading(leaders)).toEqual(['i1']);
  });

  it.skipIf(skipBackend(backend))('the holder cut off from the database steps down before anyone takes over; fenced writes from it fail', async () => {
    const { leaders, stores } = await setup(2);
    const changes: string[] = [];
    const [a, b] = leaders;
    expect(await a.l.campaign()).toBe(true);
    const oldToken = a.l.token!;
    const fence = a.l.fence(oldToken);
    a.l.start();
    b.l.start();
    // Sample continuously: at no moment may both believe they lead.
    let both = false;
    const sampler = setInterval(() => {
      if (a.l.isLeader && b.l.isLeader) both = true;
      changes.push(leading(leaders).join(','));
    }, 5);
    try {
      await new Promise((r) => setTimeout(r, 3 * RENEW));
      expect(leading(leaders)).toEqual(['i0']);
      const cutAt = Date.now();
      a.cut();
      await until(() => b.l.isLeader);
      const takeover = Date.now() - cutAt;
      expect(a.l.isLeader).toBe(false);
      expect(both).toBe(false);
      // Takeover within the lease plus one try.
      expect(takeover).toBeLessThan(TTL + RENEW + 500);
      expect(b.l.token).toBe(oldToken + 1);
    } finally {
      clearInterval(sampler);
    }
    // A write fenced with the deposed leader's token is refused; the new leader's goes through.
    const sql = stores[stores.length - 1].sql;
    await sql.run("INSERT INTO meta (key, value) VALUES ('x', '0')");
    const write = (f: { sql: string; params: unknown[] }, v: string) =>
      sql.run(`UPDATE meta SET value = ? WHERE key = 'x' AND ${f.sql}`, [v, ...(f.params as string[])]);
    expect((await write(fence, 'old')).changes).toBe(0);
    expect((await write(b.l.fence(b.l.token!), 'new')).changes).toBe(1);
    await b.l.stop();
  });
});
