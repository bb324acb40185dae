// Issue 14 "our own egress looks like every provider's outage", through the real daemon on loopback. Every
// provider, the gateway and the control target sit behind TCP relays that can stop listening (connections
// refused, as when our own network or DNS dies). All of them down together: one incident "Vigil's own
// egress/DNS is down" to Vigil's owner, every probe recorded `unknown`, no provider paged; back up, it resolves.
// The other two cases must not be taken for it: one provider down with the control up pages that provider;
// the control down alone changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { createNotifiers } from '../../src/notifiers/index.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { hasOpenssl, startFakePagerDuty, startFakeSlack } from '../notifiers/fake-servers.ts';
import type { FakePagerDuty, FakeSlack } from '../notifiers/fake-servers.ts';
import { alertEnv, run, runUntil, startRelay, writeE2eConfig } from './helpers.ts';
import type { Relay } from './helpers.ts';

const MIN = 60_000;
const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });
const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };
const PROBES = ['anthropic-canary', 'gateway-canary', 'gemini-canary', 'openai-canary'];

describe.skipIf(!hasOpenssl())('egress control through the daemon', () => {
  let fleet: SimFleet;
  let control: http.Server;
  let controlHits = 0;
  let relays: Record<'openai' | 'anthropic' | 'gemini' | 'gateway' | 'control', Relay>;
  let pd: FakePagerDuty;
  let slack: FakeSlack;
  let dir: string;
  let d: Daemon;
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));

  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST });
    control = http.createServer((_req, res) => {
      controlHits++;
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
    const hostPort = (url: string) => url.replace(/^http:\/\//, '').replace(/\/.*$/, '');
    relays = {
      openai: await startRelay(hostPort(fleet.urls.openai), () => {}),
      anthropic: await startRelay(hostPort(fleet.urls.anthropic), () => {}),
      gemini: await startRelay(hostPort(fleet.urls.gemini), () => {}),
      gateway: await startRelay(hostPort(fleet.urls.gateway), () => {}),
      control: await startRelay(`127.0.0.1:${(control.address() as AddressInfo).port}`, () => {}),
    };
    pd = await startFakePagerDuty();
    slack = await startFakeSlack();
    dir = writeE2eConfig(`control: { url: "http://${relays.control.server}/generate_204", timeout: 2s }`);
    const url = (r: Relay) => `http://${r.server}`;
    d = await Daemon.start({
      configDir: dir,
      env: { ...simEnv({ openai: url(relays.openai), anthropic: url(relays.anthropic), gemini: url(relays.gemini), gateway: url(relays.gateway) }), ...alertEnv(pd.server, slack.apiUrl) },
      clock,
      log: quiet,
      listen: { port: 0 },
      notifiers: createNotifiers({ clock, timeoutMs: 5_000, pagerdutyAgentOptions: { ca: pd.ca } }),
    });
  });
  afterAll(async () => {
    await d?.stop();
    for (const r of Object.values(relays ?? {})) await r.close();
    await new Promise((r) => control?.close(r));
    await fleet?.close();
    await pd?.close();
    await slack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const latest = () => d.store.latestResults();
  const setAll = async (mode: 'up' | 'refused') => {
    for (const r of Object.values(relays)) await r.setMode(mode);
  };

  it('all healthy: no control check is needed', async () => {
    await run(clock, d, 2 * MIN, 5_000);
    expect(controlHits).toBe(0);
    expect(await d.incidents.listIncidents({})).toEqual([]);
  });

  it('everything unreachable together: one egress incident to Vigil\'s owner, probes unknown, no provider paged', async () => {
    await setAll('refused');
    await runUntil(clock, d, () => pd.events.length > 0, 3 * MIN, 5_000);
    await run(clock, d, 3 * MIN, 10_000);
    const open = await d.incidents.listIncidents({ state: 'open' });
    expect(open.map((i) => [i.detector, i.key, i.severity, i.labels.owner])).toEqual([['egress', 'egress', 'critical', 'platform']]);
    expect(open[0].summary).toMatch(/^Vigil's own egress\/DNS is down: the control target 127\.0\.0\.1:\d+ and every target \(gateway, provider:anthropic, provider:gemini, provider:openai\) unreachable/);
    expect(pd.events.map((e) => e.event_action)).toEqual(['trigger']);
    expect((pd.events[0].payload as { summary: string }).summary).toMatch(/egress\/DNS is down/);
    expect(slack.messages.size).toBe(1);
    expect([...slack.messages.values()][0].text).toMatch(/FIRING critical.*Vigil's own egress\/DNS is down/);
    const results = await latest();
    for (const id of PROBES) {
      expect(results.get(id)!.outcome).toBe('unknown');
      expect(results.get(id)!.errorMessage).toMatch(/^Vigil's own egress\/DNS looks down \(the control target 127\.0\.0\.1:\d+ is unreachable too/);
    }
  }, 120_000);

  it('back up: the egress incident resolves, still no provider incident', async () => {
    await setAll('up');
    await runUntil(clock, d, () => pd.events.length > 1, 3 * MIN, 5_000);
    await run(clock, d, 2 * MIN, 10_000);
    expect(pd.events.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    expect(await d.incidents.listIncidents({ state: 'open' })).toEqual([]);
    expect((await d.incidents.listIncidents({})).map((i) => i.detector)).toEqual(['egress']);
    expect([...slack.messages.values()][0].text).toMatch(/RESOLVED/);
    const results = await latest();
    for (const id of PROBES) expect(results.get(id)!.outcome).toBe('ok');
  }, 120_000);

  it('the control target down alone: nothing changes (the providers answer)', async () => {
    await relays.control.setMode('refused');
    await run(clock, d, 3 * MIN, 10_000);
    expect(await d.incidents.listIncidents({ state: 'open' })).toEqual([]);
    for (const id of PROBES) expect((await latest()).get(id)!.outcome).toBe('ok');
  }, 120_000);

  it('one provider down with the control up: that provider pages, as measured', async () => {
    await relays.control.setMode('up');
    const hits = controlHits;
    await relays.anthropic.setMode('refused');
    await runUntil(clock, d, () => pd.events.length > 2, 3 * MIN, 5_000);
    expect(controlHits).toBeGreaterThan(hits);
    const open = await d.incidents.listIncidents({ state: 'open' });
    expect(open.map((i) => [i.detector, i.key])).toEqual([['availability', 'anthropic-canary']]);
    expect((await latest()).get('anthropic-canary')).toMatchObject({ outcome: 'failed', errorClass: 'connect' });
    await relays.anthropic.setMode('up');
  }, 120_000);
});
