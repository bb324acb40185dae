// Exactly once across leader takeovers on a real PostgreSQL: `vigil run` processes in their own locations on one
// store, each named as if on its own host (so a takeover waits for the lease to expire). The leader is killed with
// kill -9 while the Slack stand-in holds a page's message (posted, the daemon never heard back), and again while it
// holds the resolve's thread reply; the killed instance comes back as a follower. Each time another instance takes
// the lease, re-queues the row its predecessor left `sending` (an older fencing token), finds the message or reply
// by its marker and does not post it again. Checked at the receivers against the outbox: every Slack row's marker
// is there exactly once; PagerDuty opened and resolved each incident (dedup key) exactly once per outbox row, none
// lost (a trigger PagerDuty accepted just before the kill may arrive twice: it folds it by dedup key).
// A location's warning (Vigil's owner, its own dedup key) is a row and a message of its own, counted the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { freshPgUrl, pgAvailable } from '../pg/backends.ts';
import { hasOpenssl, startFakePagerDuty, startFakeSlack } from '../notifiers/fake-servers.ts';
import type { FakePagerDuty, FakeSlack, SlackCall } from '../notifiers/fake-servers.ts';
import { alertEnv } from '../e2e/helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node'); // the real binary behind the symlink: SIGKILL reaches the daemon itself
const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };

function writeDir(pgUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-takeover-send-'));
  writeFileSync(
    join(dir, 'vigil.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: { path: ./vigil.db, url: "${pgUrl}" }
scheduler: { confirm_failures: 1, jitter: false, shutdown_grace: 1s }
providers:
  openai: { kind: openai, base_url: "\${OPENAI_BASE_URL}", api_key: "\${OPENAI_API_KEY}" }
`,
  );
  mkdirSync(join(dir, 'probes'));
  writeFileSync(
    join(dir, 'probes', 'openai.yaml'),
    `probes:
  - id: openai-canary
    owner: platform
    target: provider:openai
    model: gpt-4o-mini
    every: 2s
    prompt: "Reply with the single word: pong"
    max_tokens: 5
    assert: [{ contains: pong }]
`,
  );
  mkdirSync(join(dir, 'alerts'));
  writeFileSync(
    join(dir, 'alerts', 'routing.yaml'),
    `owners:
  platform: { slack: "#llm-oncall", pagerduty: "\${PD_PLATFORM_ROUTING_KEY}" }
receivers:
  slack: { token: "\${SLACK_BOT_TOKEN}", api_url: "\${SLACK_API_URL}" }
  pagerduty: { server: "\${PD_SERVER}" }
routes:
  - match: { severity: critical }
    notify: [slack, pagerduty]
defaults:
  group_wait: 1s
  group_interval: 1s
  availability: { failure_threshold: 1, success_threshold: 2, for: 0s }
  flap: { flips: 100 }
`,
  );
  writeFileSync(join(dir, 'ca.pem'), '');
  return dir;
}

// Three locations; each cycle kills the leader twice (mid-page, mid-resolve). Flap damping is off (flips: 100):
// outages one after another would otherwise be flapping, whose resolve waits for the flap window.
const LOCATIONS = ['eu-west', 'us-east', 'ap-south'];
// VIGIL_TAKEOVER_CYCLES=10 runs the issue's twenty kills (about 6 minutes; README "Running several instances").
const CYCLES = Number(process.env.VIGIL_TAKEOVER_CYCLES ?? 2);

let output = '';
// The deadline's timer is cleared once `p` settles: left running, it would query a database the test has closed.
const withDeadline = <T>(what: string, p: Promise<T>, ms: number, diag: () => Promise<string>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((_, rej) => {
    timer = setTimeout(() => void diag().then((d) => rej(new Error(`timed out waiting for ${what}\n${d}`))), ms).unref();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
};

type Row = { id: number; receiver: string; action: string; status: string; dedup_key: string; attempts: number; last_error: string | null };
type Lease = { holder: string; token: number; expires_at: number };

describe.skipIf(!hasOpenssl() || !pgAvailable())('kill -9 of the leader mid-send, daemons on PostgreSQL', () => {
  let fleet: SimFleet;
  let pd: FakePagerDuty;
  let slack: FakeSlack;
  let dir: string;
  let db: pg.Client;
  const procs = new Map<string, { child: ChildProcess; location: string }>();

  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST });
    pd = await startFakePagerDuty();
    // The daemon runs on the real clock: message ts must be real time for conversations.history's `oldest`.
    slack = await startFakeSlack({ realTime: true });
    const pgUrl = await freshPgUrl();
    dir = writeDir(pgUrl);
    writeFileSync(join(dir, 'ca.pem'), pd.ca);
    db = new pg.Client({ connectionString: pgUrl });
    await db.connect();
  });
  afterAll(async () => {
    for (const { child } of procs.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await db?.end();
    await fleet?.close();
    await pd?.close();
    await slack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let serial = 0;
  function start(location: string): string {
    // As if on another host: a takeover waits for the lease to expire (no same-host shortcut).
    const instance = `host-${++serial}:${1000 + serial}:x`;
    const env = {
      ...process.env,
      ...simEnv(fleet.urls),
      ...alertEnv(pd.server, slack.apiUrl),
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
      VIGIL_LOG_LEVEL: 'warn',
      VIGIL_LOCATION: location,
      VIGIL_INSTANCE: instance,
    };
    const child = spawn(NODE, [join(ROOT, 'src/main.ts'), 'run', '--config', dir, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    procs.set(instance, { child, location });
    return instance;
  }
  const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

  // Before the first instance has migrated, the tables do not exist yet: nothing there.
  const query = async <T extends object>(sql: string): Promise<T[]> =>
    db.query<T>(sql).then(
      (r) => r.rows,
      (err: { code?: string }) => {
        if (err.code === '42P01') return [];
        throw err;
      },
    );
  const rows = async (): Promise<Row[]> =>
    (await query<Row>(`SELECT id, receiver, action, status, dedup_key, attempts, last_error FROM outbox WHERE action <> 'test' ORDER BY id`)).map((r) => ({ ...r, id: Number(r.id) }));
  const lease = async (): Promise<Lease | undefined> =>
    (await query<Lease>(`SELECT holder, token, expires_at FROM leader_lease WHERE name = 'leader'`)).map((r) => ({ ...r, token: Number(r.token), expires_at: Number(r.expires_at) }))[0];
  const diag = async (): Promise<string> =>
    [
      `outbox: ${JSON.stringify(await rows())}`,
      `lease: ${JSON.stringify(await lease())}`,
      `incidents: ${JSON.stringify(await query(`SELECT detector, key, state, first_seen, last_seen, resolved_at FROM incidents ORDER BY first_seen`))}`,
      `slack: ${JSON.stringify(slack.calls.map((c) => `${c.method} ${c.fields.thread_ts ? 'reply ' : ''}${String(c.fields.text ?? '').slice(0, 50)}`))}`,
      `pd: ${JSON.stringify(pd.events.map((e) => `${e.event_action} ${String(e.dedup_key).slice(0, 14)}`))}`,
      `daemons: ${output.split('\n').filter((l) => !l.includes('probe failed')).slice(-60).join('\n')}`,
    ].join('\n');
  async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 60_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${await diag()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // What the receivers got, per Slack marker (`<dedup key>/<outbox row>/<part>`) and per PagerDuty dedup key and action.
  function slackDeliveries(): Map<string, number> {
    const n = new Map<string, number>();
    for (const m of slack.messages.values()) {
      for (const meta of [m.metadata, ...m.thread.map((t) => t.metadata)]) {
        const d = (meta as { event_payload?: { delivery?: unknown } } | undefined)?.event_payload?.delivery;
        if (typeof d === 'string') n.set(d, (n.get(d) ?? 0) + 1);
      }
    }
    return n;
  }
  // PagerDuty by what it does with events (Events API v2): a trigger of a closed key opens an incident, a trigger
  // of an open one updates it (no new page), a resolve closes it. Its API has no look-up, so a leader killed after
  // PagerDuty accepted a trigger but before recording it sends that trigger again: folded by the dedup key.
  function pdEffects(): Map<string, number> {
    const n = new Map<string, number>();
    const open = new Set<string>();
    const add = (k: string) => n.set(k, (n.get(k) ?? 0) + 1);
    for (const e of pd.events) {
      const k = String(e.dedup_key);
      if (e.event_action === 'trigger' && !open.has(k)) (open.add(k), add(`${k}/opened`));
      else if (e.event_action === 'resolve' && open.has(k)) (open.delete(k), add(`${k}/resolved`));
    }
    return n;
  }
  const pdCount = (k: string, action: string) => pd.events.filter((e) => e.dedup_key === k && e.event_action === action).length;
  // What the outbox says was sent: one receipt per row (a trigger posts the message, an update or resolve a reply;
  // at PagerDuty a trigger opens, a resolve closes).
  function expected(all: Row[]): { slack: Map<string, number>; pd: Map<string, number> } {
    const s = new Map<string, number>();
    const p = new Map<string, number>();
    for (const r of all) {
      if (r.receiver === 'slack') s.set(`${r.dedup_key}/${r.id}/${r.action === 'trigger' ? 'message' : 'reply'}`, 1);
      if (r.receiver === 'pagerduty' && r.action !== 'update') {
        const k = `${r.dedup_key}/${r.action === 'resolve' ? 'resolved' : 'opened'}`;
        p.set(k, (p.get(k) ?? 0) + 1);
      }
    }
    return { slack: s, pd: p };
  }
  const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
  // Once nothing is queued or in flight, every row is at its receiver exactly once (a retried row is never `sent`
  // before its receipt, so no duplicate can still be on its way).
  async function assertExactlyOnce(): Promise<void> {
    const all = await until('the outbox to drain', async () => {
      const r = await rows();
      return r.every((x) => x.status === 'sent' || x.status === 'failed' || x.status === 'expired') && r;
    });
    expect(all.filter((r) => r.status !== 'sent')).toEqual([]); // lost
    const want = expected(all);
    expect(sorted(slackDeliveries())).toEqual(sorted(want.slack));
    expect(sorted(pdEffects())).toEqual(sorted(want.pd));
    // None lost at PagerDuty either: every row's event arrived (an update is a trigger too).
    for (const k of new Set(all.filter((r) => r.receiver === 'pagerduty').map((r) => r.dedup_key))) {
      const mine = all.filter((r) => r.receiver === 'pagerduty' && r.dedup_key === k);
      expect(pdCount(k, 'trigger')).toBeGreaterThanOrEqual(mine.filter((r) => r.action !== 'resolve').length);
      expect(pdCount(k, 'resolve')).toBeGreaterThanOrEqual(mine.filter((r) => r.action === 'resolve').length);
    }
  }

  const delivery = (c: SlackCall): string => String((JSON.parse(c.fields.metadata ?? '{}') as { event_payload?: { delivery?: string } }).event_payload?.delivery ?? '');
  const rowOf = (c: SlackCall): number => Number(delivery(c).split('/')[1]);
  const page = (c: SlackCall) => c.method === 'chat.postMessage' && !c.fields.thread_ts && /FIRING critical/.test(String(c.fields.text));
  const takeovers: number[] = [];

  /** The leader is killed while `held` (its send) hangs; it comes back as a follower; another takes over and finishes the send. */
  async function killLeaderDuring(what: string, held: Promise<SlackCall>): Promise<SlackCall> {
    const call = await withDeadline(what, held, 60_000, diag);
    const l = await lease();
    const victim = l && procs.get(l.holder);
    expect(victim && alive(victim.child), `the leader ${l?.holder} is one of ours and alive`).toBe(true);
    const exited = new Promise((r) => victim!.child.once('exit', r));
    const killedAt = Date.now();
    victim!.child.kill('SIGKILL');
    await exited;
    expect(victim!.child.signalCode).toBe('SIGKILL');
    start(victim!.location);
    await until(`a new leader after killing ${l!.holder} mid-${what}`, async () => {
      const n = await lease();
      return n && n.holder !== l!.holder && n.token > l!.token && n.expires_at > Date.now() && n;
    });
    takeovers.push(Date.now() - killedAt);
    // The row the dead leader left in flight is finished by the new one (found by its marker, not posted again).
    await until(`row ${rowOf(call)} (${what}) to be sent again`, async () => (await rows()).find((r) => r.id === rowOf(call) && r.status === 'sent'));
    return call;
  }

  it('every page and resolve reaches Slack and PagerDuty exactly once across kill -9 of the leader', async () => {
    for (const location of LOCATIONS) start(location);
    await until('a leader', async () => (await lease())?.holder);
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Every location healthy in the store first, so the leader's quorum counts all three before the outage.
      const since = Date.now();
      await until('every location to report healthy results', async () => {
        const r = await query<{ location: string; n: string }>(
          `SELECT location, COUNT(*) AS n FROM probe_results WHERE outcome = 'ok' AND started_at > ${since} GROUP BY location`,
        );
        return r.length === LOCATIONS.length && r.every((x) => Number(x.n) >= 2);
      });
      // Killed while Slack posts the page's message.
      const heldPage = slack.holdNext(page);
      fleet.openai.patch({ outage: true });
      const pageCall = await killLeaderDuring('page', heldPage);
      const pageTs = [...slack.messages].find(([, m]) => (m.metadata as { event_payload?: { delivery?: string } } | undefined)?.event_payload?.delivery === delivery(pageCall))?.[0];
      expect(pageTs).toBeDefined();
      await until('the PagerDuty trigger', async () => pd.events.some((e) => e.event_action === 'trigger' && e.dedup_key === delivery(pageCall).split('/')[0]));
      await assertExactlyOnce();

      // Killed while Slack posts the resolve's thread reply.
      const heldResolve = slack.holdNext((c) => c.method === 'chat.postMessage' && c.fields.thread_ts === pageTs && /RESOLVED/.test(String(c.fields.text)));
      fleet.openai.patch({ outage: false });
      await killLeaderDuring('resolve', heldResolve);
      expect(slack.messages.get(pageTs!)!.text).toMatch(/RESOLVED/);
      await until('the PagerDuty resolve', async () => pd.events.some((e) => e.event_action === 'resolve' && e.dedup_key === delivery(pageCall).split('/')[0]));
      await assertExactlyOnce();
    }
    expect(takeovers).toHaveLength(2 * CYCLES);
    for (const t of takeovers) expect(t).toBeLessThan(20_000); // ttl 10 s + renew 2 s, with room for a loaded machine
    const sorted = [...takeovers].sort((a, b) => a - b);
    console.log(`takeover-send: ${takeovers.length} kills, takeover p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms; every row delivered exactly once`);

    for (const { child } of procs.values()) {
      if (!alive(child)) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 170_000 + Math.max(0, CYCLES - 2) * 45_000);
});
