// End to end, all over loopback: the simulator fails a provider, the daemon (real scheduler, store,
// incidents engine, outbox and notifiers) pages a PagerDuty stand-in over HTTPS and posts to a Slack
// stand-in, both reached through the API URL options in alerts/*.yaml; the provider recovers and the same
// PagerDuty incident is resolved and the same Slack message updated. Time is a ManualClock, so group_wait,
// the tick and the outage lengths are exact; probe calls and deliveries are real HTTP.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import type { Incident } from '../../src/domain.ts';
import { createLogger } from '../../src/log.ts';
import { createNotifiers } from '../../src/notifiers/index.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { simEnv } from '../../src/sim/env.ts';
import { hasOpenssl, startFakePagerDuty, startFakeSlack } from '../notifiers/fake-servers.ts';
import type { FakePagerDuty, FakeSlack } from '../notifiers/fake-servers.ts';
import { alertEnv, PUBLIC_URL, ROUTING_KEY, run, runUntil, settleAll, startRelay, writeE2eConfig } from './helpers.ts';
import type { Relay } from './helpers.ts';

const MIN = 60_000;
const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });
const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };

interface World {
  clock: ManualClock;
  dir: string;
  pd: FakePagerDuty;
  slack: FakeSlack;
  relay: Relay | null;
  env: Record<string, string>;
  daemon: Daemon | null;
}

describe.skipIf(!hasOpenssl())('end to end: outage → one page and one Slack message → recovery → one resolve and one update', () => {
  let fleet: SimFleet;
  let w: World | null = null;
  const dirs: string[] = [];

  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST });
  });
  afterEach(async () => {
    fleet.reset();
    if (!w) return;
    await w.daemon?.stop();
    await w.relay?.close();
    await w.pd.close();
    await w.slack.close();
    w = null;
  });
  afterAll(async () => {
    await fleet?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Fresh stand-ins and config dir; `relay` puts a TCP relay in front of PagerDuty (to take it down). */
  async function world(opts: { relay?: boolean } = {}): Promise<World> {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
    const pd = await startFakePagerDuty();
    const slack = await startFakeSlack({ token: 'xoxb-e2e-loopback' });
    const relay = opts.relay ? await startRelay(pd.server, () => pd.failNext({ status: 500, body: { status: 'error', message: 'internal error' } })) : null;
    const dir = writeE2eConfig();
    dirs.push(dir);
    const env = { ...simEnv(fleet.urls), ...alertEnv(relay?.server ?? pd.server, slack.apiUrl) };
    w = { clock, dir, pd, slack, relay, env, daemon: null };
    return w;
  }

  async function startDaemon(x: World): Promise<Daemon> {
    x.daemon = await Daemon.start({
      configDir: x.dir,
      env: x.env,
      clock: x.clock,
      log: quiet,
      listen: { port: 0 },
      notifiers: createNotifiers({ clock: x.clock, timeoutMs: 5_000, pagerdutyAgentOptions: { ca: x.pd.ca } }),
    });
    await settleAll(x.daemon);
    return x.daemon;
  }

  async function incidents(d: Daemon, query = ''): Promise<Incident[]> {
    const res = await fetch(`${d.url}/api/incidents${query}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { count: number; incidents: Incident[] };
    expect(body.count).toBe(body.incidents.length);
    return body.incidents;
  }

  const actions = (pd: FakePagerDuty) => pd.events.map((e) => e.event_action);
  const methods = (slack: FakeSlack) => slack.calls.map((c) => (c.fields.thread_ts ? `${c.method} (thread)` : c.method));

  it('pages once with what the on-call needs, then resolves the same incident and updates the same message', async () => {
    const x = await world();
    const d = await startDaemon(x);
    await run(x.clock, d, 3 * MIN);
    expect(await incidents(d)).toEqual([]);
    expect(x.pd.requests).toHaveLength(0);
    expect(x.slack.calls).toHaveLength(0);

    const onset = x.clock.now();
    fleet.openai.patch({ outage: true });
    const pagedAt = await runUntil(x.clock, d, () => x.pd.events.length > 0, 5 * MIN);
    // Page on confirmation: onset → first failing slot (≤ 60 s) + re-probe (no clock time here), no group_wait,
    // no tick wait (+ 1 s steps).
    expect(pagedAt - onset).toBeLessThanOrEqual(60_000 + 2_000);

    // Firing for 10 minutes: no second page, no second message, one incident.
    await run(x.clock, d, 10 * MIN);
    expect(actions(x.pd)).toEqual(['trigger']);
    expect(methods(x.slack)).toEqual(['chat.postMessage']);
    const open = await incidents(d, '?state=firing');
    expect(open).toHaveLength(1);
    const inc = open[0];
    expect(inc).toMatchObject({ detector: 'availability', key: 'openai-canary', state: 'firing', severity: 'critical', resolvedAt: null });
    expect(inc.labels).toMatchObject({ probe: 'openai-canary', owner: 'platform', provider: 'openai', model: 'gpt-4o-mini' });
    expect(inc.firstSeen).toBeGreaterThanOrEqual(onset);
    expect(inc.notifications.map((n) => [n.receiver, n.action, n.status])).toEqual([
      ['pagerduty', 'trigger', 'sent'],
      ['slack', 'trigger', 'sent'],
    ]);
    expect(await incidents(d)).toHaveLength(1);

    // The page: routing key, the group's dedup key, a summary naming the probe and the error class, links back.
    const trigger = x.pd.events[0] as Record<string, any>;
    const link = `${PUBLIC_URL}/api/incidents/${inc.id}`;
    expect(trigger.routing_key).toBe(ROUTING_KEY);
    expect(trigger.dedup_key).toMatch(/^vigil-[0-9a-f]{32}$/);
    expect(trigger.payload.summary).toMatch(/^openai-canary failing: overloaded \(HTTP 503\) since \d\d:\d\d UTC, \d+ confirmed failures?$/);
    expect(trigger.payload.summary.length).toBeLessThan(1024);
    expect(trigger.payload).toMatchObject({
      source: 'provider:openai',
      severity: 'critical',
      component: 'gpt-4o-mini',
      group: 'openai',
      class: 'availability',
      timestamp: new Date(inc.firstSeen).toISOString(),
    });
    expect(trigger.payload.custom_details).toMatchObject({
      owner: 'platform',
      incident_id: inc.id,
      key: 'openai-canary',
      evidence: { last_status: 503, last_error_class: 'overloaded', model: 'gpt-4o-mini' },
    });
    expect(trigger.links).toEqual([
      { href: link, text: 'Incident in Vigil' },
      { href: 'https://runbooks.example.com/llm-providers', text: 'Runbook' },
    ]);
    expect(trigger.client_url).toBe(link);
    expect(x.pd.requests[0].path).toBe('/v2/enqueue');

    // The Slack message: to the owner's channel with the bot token, what/when/owner, the same links.
    const post = x.slack.calls[0];
    expect(post.authorization).toBe('Bearer xoxb-e2e-loopback');
    expect(post.fields.channel).toBe('#llm-oncall');
    expect(post.fields.text).toMatch(/^:rotating_light: \[FIRING critical\] openai-canary failing: overloaded \(HTTP 503\)/);
    expect(post.fields.blocks).toContain(`<${link}|Incident in Vigil>`);
    expect(post.fields.blocks).toContain('*Owner:* platform');
    const [ts] = [...x.slack.messages.keys()];

    // The link in the page works (same path on the daemon's own address).
    const detail = await fetch(`${d.url}/api/incidents/${inc.id}`);
    expect(detail.status).toBe(200);
    expect(((await detail.json()) as { incident: Incident }).incident.id).toBe(inc.id);

    // Recovery: two good results resolve it; one resolve with the same key, one chat.update of the same message and a thread reply.
    const recovery = x.clock.now();
    fleet.openai.patch({ outage: false });
    const resolvedAt = await runUntil(x.clock, d, () => x.pd.events.length > 1, 10 * MIN);
    await run(x.clock, d, 30 * MIN);
    expect(actions(x.pd)).toEqual(['trigger', 'resolve']);
    expect(x.pd.events[1]).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: trigger.dedup_key });
    // Second good slot (≤ 2 min) + group_wait for the change to settle + tick.
    expect(resolvedAt - recovery).toBeLessThanOrEqual(2 * MIN + 30_000 + 5_000 + 2_000);
    expect(methods(x.slack)).toEqual(['chat.postMessage', 'chat.update', 'chat.postMessage (thread)']);
    const update = x.slack.calls[1];
    expect(update.fields).toMatchObject({ channel: 'C0VIGIL01', ts });
    expect(x.slack.messages.size).toBe(1);
    const msg = x.slack.messages.get(ts)!;
    expect(msg.text).toMatch(/^:white_check_mark: \[RESOLVED\] openai-canary/);
    expect(msg.replies).toHaveLength(1);
    expect(msg.replies[0]).toMatch(/^:white_check_mark: RESOLVED after \d+m \d+s \(at 2026-01-05 \d\d:\d\d:\d\d UTC\)\.$/);

    const all = await incidents(d);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ id: inc.id, state: 'resolved' });
    expect(all[0].resolvedAt).toBeGreaterThan(recovery);
    expect(await incidents(d, '?state=open')).toEqual([]);
    expect((await incidents(d, '?state=resolved')).map((i) => i.id)).toEqual([inc.id]);
    expect(all[0].notifications.map((n) => [n.receiver, n.action, n.status])).toEqual([
      ['pagerduty', 'trigger', 'sent'],
      ['slack', 'trigger', 'sent'],
      ['pagerduty', 'resolve', 'sent'],
      ['slack', 'resolve', 'sent'],
    ]);
    // Nothing failed along the way: every request the stand-ins saw was accepted.
    expect(x.pd.requests).toHaveLength(2);
    expect(x.slack.calls).toHaveLength(3);
  }, 120_000);

  it('a restart with the incident open neither pages again nor forgets to resolve', async () => {
    const x = await world();
    let d = await startDaemon(x);
    await run(x.clock, d, 2 * MIN);
    fleet.openai.patch({ outage: true });
    await runUntil(x.clock, d, () => x.pd.events.length > 0 && x.slack.calls.length > 0, 5 * MIN);
    await run(x.clock, d, 2 * MIN);
    const before = await incidents(d);
    expect(before.map((i) => i.state)).toEqual(['firing']);

    // Stop mid-incident (provider still down), start a new daemon on the same directory and database.
    await d.stop();
    await x.clock.advance(30_000);
    d = await startDaemon(x);
    await run(x.clock, d, 10 * MIN);
    expect(actions(x.pd)).toEqual(['trigger']);
    expect(methods(x.slack)).toEqual(['chat.postMessage']);
    const during = await incidents(d);
    expect(during.map((i) => [i.id, i.state])).toEqual([[before[0].id, 'firing']]);

    fleet.openai.patch({ outage: false });
    await run(x.clock, d, 15 * MIN);
    expect(actions(x.pd)).toEqual(['trigger', 'resolve']);
    expect(x.pd.events[1].dedup_key).toBe(x.pd.events[0].dedup_key);
    expect(methods(x.slack)).toEqual(['chat.postMessage', 'chat.update', 'chat.postMessage (thread)']);
    expect(x.slack.messages.size).toBe(1);
    const after = await incidents(d);
    expect(after.map((i) => [i.id, i.state])).toEqual([[before[0].id, 'resolved']]);

    // And a second restart after the resolve sends nothing more.
    await d.stop();
    d = await startDaemon(x);
    await run(x.clock, d, 5 * MIN);
    expect(x.pd.requests).toHaveLength(2);
    expect(x.slack.calls).toHaveLength(3);
  }, 120_000);

  it('PagerDuty down for 30 minutes (500s, then connection refused): nothing lost, the trigger goes before the resolve', async () => {
    const x = await world({ relay: true });
    const d = await startDaemon(x);
    await run(x.clock, d, 2 * MIN);
    // PagerDuty answers 500 from the outage onset; 15 minutes later its port stops listening; back at 30 minutes.
    const down = x.clock.now();
    await x.relay!.setMode('http500');
    fleet.openai.patch({ outage: true });
    await run(x.clock, d, 10 * MIN);
    expect(x.pd.events).toHaveLength(0);
    const failedAttempts = x.pd.requests.length;
    expect(failedAttempts).toBeGreaterThanOrEqual(3); // retried with backoff, each answered 500
    expect(methods(x.slack)).toEqual(['chat.postMessage']); // Slack is its own line: not held up

    // The provider recovers while PagerDuty is still down: the resolve queues behind the undelivered trigger.
    fleet.openai.patch({ outage: false });
    await run(x.clock, d, 5 * MIN);
    await x.relay!.setMode('refused');
    const connectionsBefore = x.relay!.connections;
    await run(x.clock, d, down + 30 * MIN - x.clock.now());
    expect(x.relay!.connections).toBe(connectionsBefore); // nothing got through while refused
    expect(x.pd.events).toHaveLength(0);
    expect(methods(x.slack)).toEqual(['chat.postMessage', 'chat.update', 'chat.postMessage (thread)']);
    const [inc] = await incidents(d);
    expect(inc.state).toBe('resolved');
    const pdRows = inc.notifications.filter((n) => n.receiver === 'pagerduty');
    expect(pdRows.map((n) => [n.action, n.status])).toEqual([
      ['trigger', 'queued'],
      ['resolve', 'queued'],
    ]);

    // Back up: within the 5-minute backoff cap both go out, trigger first, each accepted once.
    await x.relay!.setMode('up');
    await runUntil(x.clock, d, () => x.pd.events.length >= 2, 10 * MIN);
    await run(x.clock, d, 10 * MIN);
    expect(x.pd.events.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', x.pd.events[0].dedup_key],
      ['resolve', x.pd.events[0].dedup_key],
    ]);
    expect(x.pd.requests.filter((r) => (r.body as { event_action?: string }).event_action === 'resolve')).toHaveLength(1);
    const detail = (await (await fetch(`${d.url}/api/incidents/${inc.id}`)).json()) as {
      notifications: { receiver: string; action: string; status: string; at: number; attempts: { ok: boolean; error: string | null }[] }[];
    };
    const pdHistory = detail.notifications.filter((n) => n.receiver === 'pagerduty');
    expect(pdHistory.map((n) => [n.action, n.status])).toEqual([
      ['trigger', 'sent'],
      ['resolve', 'sent'],
    ]);
    expect(pdHistory[0].at).toBeLessThanOrEqual(pdHistory[1].at);
    expect(pdHistory[0].at - down).toBeGreaterThanOrEqual(30 * MIN);
    const tries = pdHistory[0].attempts;
    expect(tries.at(-1)!.ok).toBe(true);
    expect(tries.filter((a) => !a.ok).length).toBeGreaterThanOrEqual(failedAttempts);
    expect(tries.some((a) => /HTTP 500/.test(a.error ?? ''))).toBe(true);
    expect(tries.some((a) => /ECONNREFUSED|refused/i.test(a.error ?? ''))).toBe(true);
    expect(pdHistory[1].attempts.map((a) => a.ok)).toEqual([true]); // the resolve never went before the trigger
  }, 180_000);
});
