// Drill test rig: the simulator fleet, the chaos proxy in front of the simulated Anthropic, the simulator's
// LiteLLM- and Portkey-flavoured gateways with their primary routed through the proxy, and probe specs.
import net from 'node:net';
import type { Clock } from '../../src/clock.ts';
import { systemClock } from '../../src/clock.ts';
import { drillSchema } from '../../src/config/schema.ts';
import type { ProbeSpec, ProviderEndpoint } from '../../src/domain.ts';
import { createHttpClient } from '../../src/http/client.ts';
import type { HttpClient } from '../../src/http/types.ts';
import type { RunnerDeps } from '../../src/probes/run.ts';
import { startSimFleet } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { startChaosProxy } from '../../src/chaos/proxy.ts';
import type { ChaosProxy, ChaosProxyOptions } from '../../src/chaos/proxy.ts';
import { inProcessDriver } from '../../src/chaos/fault-driver.ts';
import type { FaultDriver } from '../../src/chaos/fault-driver.ts';
import type { DrillDeps } from '../../src/chaos/drill.ts';
import { mapDrill } from '../../src/chaos/scenario.ts';
import type { DrillSpec } from '../../src/chaos/scenario.ts';
import { makeSpec } from '../fixtures.ts';

/** The chaos proxy's control token in these tests (its control API refuses every call without one). */
export const CHAOS_TOKEN = 'drill-test-control-token';

/** Small, flat simulator latency: quick tests, and timing assertions with headroom. */
export const FAST = { latency: { ttfbMs: 2, ttftMs: 10, perTokenMs: 2, jitter: 0, diurnal: null } };

export interface DrillRig {
  fleet: SimFleet;
  proxy: ChaosProxy;
  http: HttpClient;
  probes: Map<string, ProbeSpec>;
  /** Which simulated gateway `target: gateway` reaches. */
  flavour: 'litellm' | 'portkey';
  runner: RunnerDeps;
  driver: FaultDriver;
  deps(over?: Partial<DrillDeps>): DrillDeps;
  close(): Promise<void>;
}

export function probe(id: string, target: string, model: string, over: Partial<ProbeSpec> = {}): ProbeSpec {
  return makeSpec({
    id,
    owner: 'platform',
    target,
    model,
    stream: true,
    maxTokens: 16,
    timeouts: { connectMs: 2_000, firstByteMs: 8_000, totalMs: 15_000 },
    assertions: [{ contains: 'pong' }],
    ...over,
  });
}

export const PROBES: ProbeSpec[] = [
  probe('gateway-canary', 'gateway', 'gpt-4o-mini'),
  probe('anthropic-direct', 'provider:anthropic', 'claude-sonnet-4-5'),
  probe('anthropic-via-proxy', 'provider:anthropic-proxy', 'claude-sonnet-4-5'),
  probe('openai-direct', 'provider:openai', 'gpt-4o-mini'),
];

export async function startDrillRig(opts: { proxy?: Partial<ChaosProxyOptions>; flavour?: 'litellm' | 'portkey'; clock?: Clock } = {}): Promise<DrillRig> {
  const fleet = await startSimFleet({ behaviour: FAST });
  const proxy = await startChaosProxy({
    upstreams: {
      anthropic: { kind: 'anthropic', baseUrl: fleet.urls.anthropic },
      openai: { kind: 'openai', baseUrl: fleet.urls.openai },
    },
    seed: 7,
    controlToken: CHAOS_TOKEN,
    ...opts.proxy,
  });
  // Both simulated gateways: Anthropic first (through the proxy), OpenAI as the only fallback.
  for (const f of ['litellm', 'portkey'] as const) {
    const cfg = fleet.gatewayConfig(f);
    cfg.targets = [
      { provider: 'anthropic', model: 'claude-sonnet-4-5', id: 'anthropic-claude', baseUrl: proxy.upstreamUrl('anthropic') },
      { provider: 'openai', model: 'gpt-4o-mini', id: 'openai-gpt' },
    ];
  }
  const flavour = opts.flavour ?? 'litellm';
  const http = createHttpClient();
  const endpoints: Record<string, ProviderEndpoint> = {
    gateway: { name: 'gateway', kind: 'gateway', baseUrl: fleet.urls[flavour], apiKey: 'sim-gateway-key', headers: {} },
    'provider:anthropic': { name: 'anthropic', kind: 'anthropic', baseUrl: fleet.urls.anthropic, apiKey: 'sk-ant-test', headers: {}, apiVersion: '2023-06-01' },
    'provider:anthropic-proxy': { name: 'anthropic-proxy', kind: 'anthropic', baseUrl: proxy.upstreamUrl('anthropic'), apiKey: 'sk-ant-test', headers: {}, apiVersion: '2023-06-01' },
    'provider:openai': { name: 'openai', kind: 'openai', baseUrl: fleet.urls.openai, apiKey: 'sk-test', headers: {} },
  };
  const runner: RunnerDeps = {
    http,
    clock: systemClock,
    endpointFor(target) {
      const ep = endpoints[target];
      if (!ep) throw new Error(`unknown target ${target}`);
      return ep;
    },
    priceFor: () => null,
  };
  const probes = new Map(PROBES.map((p) => [p.id, p]));
  const driver = inProcessDriver(proxy);
  return {
    fleet,
    proxy,
    http,
    probes,
    flavour,
    runner,
    driver,
    deps: (over = {}) => ({
      clock: opts.clock ?? systemClock,
      probeRunner: runner,
      probe: (id) => probes.get(id),
      faults: driver,
      gatewayFlavour: flavour,
      ...over,
    }),
    async close() {
      await http.close();
      await proxy.close();
      await fleet.close();
    },
  };
}

/** A drill from its YAML shape (validated by the real schema), with quick defaults for tests. */
export function drillFrom(yaml: Record<string, unknown>): DrillSpec {
  const parsed = drillSchema.parse({
    id: 'primary-down',
    owner: 'platform',
    manual: true,
    target: 'gateway',
    faults: [{ upstream: 'anthropic', kind: 'http_status', status: 529, ttl: '1m' }],
    steady_state: [{ probe: 'gateway-canary', outcome: 'ok' }],
    probes: ['gateway-canary'],
    repeat: 2,
    interval: '10ms',
    expect: { served_by: 'openai-gpt', outcome: 'ok', extra_latency_ms: '< 3000' },
    abort: { max_duration: '30s' },
    ...yaml,
  });
  return mapDrill(parsed, {}, PROBES);
}

/** A driver that records calls and can be told to fail. */
export function spyDriver(inner: FaultDriver, fail: { inject?: (n: number) => boolean; clear?: boolean } = {}): FaultDriver & { injected: number; cleared: string[] } {
  const d = {
    describe: 'spy',
    injected: 0,
    cleared: [] as string[],
    async inject(f: Parameters<FaultDriver['inject']>[0]) {
      d.injected++;
      if (fail.inject?.(d.injected)) throw new Error(`inject #${d.injected} refused`);
      return inner.inject(f);
    },
    async clear(id?: string) {
      if (fail.clear) throw new Error('control API unreachable');
      if (id) d.cleared.push(id);
      return inner.clear(id);
    },
    list: () => inner.list(),
  };
  return d;
}

/** A loopback port that was free a moment ago (for a child process that must be told its port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
