// Issue 14 "gateway vs direct attribution", through the real daemon on loopback: gpt-4o-mini probed directly
// (openai-canary) and through the simulated LiteLLM gateway (gateway-canary; primary openai, fallback gemini),
// the gateway behind a relay that can stop listening. vigil.yaml names the gateway's owner (gateway-team).
// - OpenAI down, the gateway falls back to Gemini: the direct probe pages the provider's owner; the gateway row
//   says "On fallback" (status page and /api/probes) and raises a warning, not a page.
// - OpenAI down and no fallback left: the gateway's failure is the provider's (platform, grouped with openai).
// - The gateway down while OpenAI answers directly: the gateway's fault, paged to gateway-team.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { createNotifiers } from '../../src/notifiers/index.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import type { GatewayTarget } from '../../src/sim/gateway.ts';
import { hasOpenssl, startFakePagerDuty, startFakeSlack } from '../notifiers/fake-servers.ts';
import type { FakePagerDuty, FakeSlack } from '../notifiers/fake-servers.ts';
import { ROUTING_KEY, alertEnv, run, runUntil, startRelay, writeE2eConfig } from './helpers.ts';
import type { Relay } from './helpers.ts';

const MIN = 60_000;
const GATEWAY_KEY = 'GATEWAYKEYe2e0123456789abcdefABC';
const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });
const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };
const TARGETS: GatewayTarget[] = [
  { provider: 'openai', model: 'gpt-4o-mini', id: 'openai-gpt' },
  { provider: 'gemini', model: 'gemini-2.5-flash', id: 'vertex-gemini' },
];

describe.skipIf(!hasOpenssl())('gateway vs direct attribution through the daemon', () => {
  let fleet: SimFleet;
  let relay: Relay;
  let pd: FakePagerDuty;
  let slack: FakeSlack;
  let dir: string;
  let d: Daemon;
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));

  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST, gatewayTargets: TARGETS });
    relay = await startRelay(fleet.urls.gateway.replace(/^http:\/\//, ''), () => {});
    pd = await startFakePagerDuty();
    slack = await startFakeSlack();
    dir = writeE2eConfig();
    const vigil = join(dir, 'vigil.yaml');
    writeFileSync(vigil, readFileSync(vigil, 'utf8').replace('api_key: "${GATEWAY_API_KEY}" }', 'api_key: "${GATEWAY_API_KEY}", owner: gateway-team }'));
    const routing = join(dir, 'alerts', 'routing.yaml');
    writeFileSync(
      routing,
      readFileSync(routing, 'utf8').replace('receivers:', `  gateway-team:\n    slack: "#gateway"\n    pagerduty: "\${PD_GATEWAY_ROUTING_KEY}"\nreceivers:`),
    );
    d = await Daemon.start({
      configDir: dir,
      env: { ...simEnv({ ...fleet.urls, gateway: `http://${relay.server}` }), ...alertEnv(pd.server, slack.apiUrl), PD_GATEWAY_ROUTING_KEY: GATEWAY_KEY },
      clock,
      log: quiet,
      listen: { port: 0 },
      notifiers: createNotifiers({ clock, timeoutMs: 5_000, pagerdutyAgentOptions: { ca: pd.ca } }),
    });
  });
  afterAll(async () => {
    await d?.stop();
    await relay?.close();
    await fleet?.close();
    await pd?.close();
    await slack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const open = () => d.incidents.listIncidents({ state: 'open' });
  const probe = async (id: string) => {
    const res = await fetch(`${d.url}/api/probes`);
    const body = (await res.json()) as { probes: { id: string; state?: string; last: { outcome: string; servedModel: string } | null }[] };
    return body.probes.find((p) => p.id === id)!;
  };

  it('healthy: the gateway is served by its primary', async () => {
    await run(clock, d, 2 * MIN, 5_000);
    expect(await open()).toEqual([]);
    expect(await probe('gateway-canary')).toMatchObject({ last: { outcome: 'ok' } });
    expect((await probe('gateway-canary')).state).toBeUndefined();
  });

  it('OpenAI down, the gateway on its fallback: the provider pages, the gateway row says "On fallback" (a warning)', async () => {
    fleet.openai.patch({ outage: true });
    await runUntil(clock, d, async () => (await open()).some((i) => i.detector === 'fallback') && pd.events.length > 0, 4 * MIN, 5_000);
    await run(clock, d, 2 * MIN, 10_000);
    const byKey = Object.fromEntries((await open()).map((i) => [`${i.detector}:${i.key}`, i]));
    expect(Object.keys(byKey).sort()).toEqual(['availability:openai-canary', 'fallback:gateway-canary']);
    expect(byKey['fallback:gateway-canary'].severity).toBe('warning');
    expect(byKey['fallback:gateway-canary'].summary).toMatch(/^gateway-canary running on fallback: the gateway answered from vertex-gemini \(model gemini-2\.5-flash\), not the primary gpt-4o-mini/);
    // Only the provider pages, to its owner.
    expect(pd.events.map((e) => [e.routing_key, e.event_action])).toEqual([[ROUTING_KEY, 'trigger']]);
    expect(await probe('gateway-canary')).toMatchObject({ state: 'on fallback', last: { outcome: 'ok', servedModel: 'gemini-2.5-flash' } });
    const page = await (await fetch(`${d.url}/`)).text();
    expect(page).toMatch(/data-status="degraded"[^>]*><span aria-hidden="true">!<\/span> On fallback</);
  }, 120_000);

  it('OpenAI down and no fallback left: the gateway failure is the provider\'s, grouped with it', async () => {
    fleet.gatewayConfig().targets = [TARGETS[0]];
    await runUntil(clock, d, async () => (await open()).some((i) => i.key === 'gateway-canary' && i.detector === 'availability'), 4 * MIN, 5_000);
    const gw = (await open()).find((i) => i.detector === 'availability' && i.key === 'gateway-canary')!;
    expect(gw.labels).toMatchObject({ attribution: 'provider', owner: 'platform', provider: 'openai' });
    expect(gw.summary).toMatch(/^provider fault \(openai, failing on both paths\): gateway-canary failing: .*; openai-canary fails too \(overloaded\)$/);
    expect(pd.events.every((e) => e.routing_key === ROUTING_KEY)).toBe(true);
  }, 120_000);

  it('recovery; then the gateway down while OpenAI answers directly: the gateway\'s fault, paged to its owner', async () => {
    fleet.gatewayConfig().targets = structuredClone(TARGETS);
    fleet.openai.patch({ outage: false });
    await runUntil(clock, d, async () => (await open()).length === 0, 10 * MIN, 10_000);
    expect((await probe('gateway-canary')).state).toBeUndefined();

    await relay.setMode('refused');
    await runUntil(clock, d, () => pd.events.some((e) => e.routing_key === GATEWAY_KEY), 4 * MIN, 5_000);
    const [gw] = await open();
    expect(await open()).toHaveLength(1);
    expect(gw).toMatchObject({ detector: 'availability', key: 'gateway-canary', severity: 'critical' });
    expect(gw.labels).toMatchObject({ attribution: 'gateway', owner: 'gateway-team', provider: 'gateway' });
    expect(gw.summary).toMatch(/^gateway fault: gateway-canary failing: connect .*; the direct path works \(openai-canary ok at \d\d:\d\d UTC\)$/);
    const gwPage = pd.events.find((e) => e.routing_key === GATEWAY_KEY)!;
    expect((gwPage.payload as { summary: string }).summary).toMatch(/gateway fault/);
    await relay.setMode('up');
  }, 120_000);
});
