// Helpers for chaos proxy tests: the simulator fleet behind the proxy, probe specs and runner deps built by hand.
import type { Clock } from '../../src/clock.ts';
import type { ProbeSpec, ProviderEndpoint } from '../../src/domain.ts';
import { createHttpClient } from '../../src/http/client.ts';
import type { HttpClient } from '../../src/http/types.ts';
import type { RunnerDeps } from '../../src/probes/run.ts';
import { startSimFleet } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { startChaosProxy } from '../../src/chaos/proxy.ts';
import type { ChaosProxy, ChaosProxyOptions } from '../../src/chaos/proxy.ts';
import type { UpstreamKind } from '../../src/chaos/wire.ts';
import { makeSpec } from '../fixtures.ts';

export const KINDS: UpstreamKind[] = ['openai', 'anthropic', 'gemini'];

export const MODELS: Record<UpstreamKind, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-2.5-flash',
};

/** Small, flat simulator latency so tests are quick and timing assertions have headroom. */
export const FAST = { latency: { ttfbMs: 2, ttftMs: 10, perTokenMs: 2, jitter: 0, diurnal: null } };

export interface Rig {
  fleet: SimFleet;
  proxy: ChaosProxy;
  http: HttpClient;
  close(): Promise<void>;
}

export async function startRig(opts: Partial<ChaosProxyOptions> = {}): Promise<Rig> {
  const fleet = await startSimFleet({ behaviour: FAST });
  const proxy = await startChaosProxy({
    upstreams: {
      openai: { kind: 'openai', baseUrl: fleet.urls.openai },
      anthropic: { kind: 'anthropic', baseUrl: fleet.urls.anthropic },
      gemini: { kind: 'gemini', baseUrl: fleet.urls.gemini },
    },
    seed: 7,
    ...opts,
  });
  const http = createHttpClient();
  return {
    fleet,
    proxy,
    http,
    async close() {
      await http.close();
      await proxy.close();
      await fleet.close();
    },
  };
}

/** Probe spec for `provider:<kind>`; the prompt "pong" makes the simulator answer "pong". */
export function probeSpec(kind: UpstreamKind, over: Partial<ProbeSpec> = {}): ProbeSpec {
  return makeSpec({
    id: `chaos-${kind}`,
    owner: 'platform',
    target: `provider:${kind}`,
    model: MODELS[kind],
    stream: true,
    maxTokens: 16,
    timeouts: { connectMs: 2_000, firstByteMs: 8_000, totalMs: 15_000 },
    ...over,
  });
}

/** RunnerDeps by hand: each `provider:<kind>` resolves to the proxy (or straight to the simulator when direct). */
export function depsFor(rig: Rig, clock: Clock, direct = false): RunnerDeps {
  return {
    http: rig.http,
    clock,
    endpointFor(target: string): ProviderEndpoint {
      const kind = target.replace(/^provider:/, '') as UpstreamKind;
      if (!KINDS.includes(kind)) throw new Error(`unknown target ${target}`);
      return {
        name: kind,
        kind,
        baseUrl: direct ? rig.fleet.urls[kind] : rig.proxy.upstreamUrl(kind),
        apiKey: kind === 'openai' ? 'sk-test-key-123' : kind === 'anthropic' ? 'sk-ant-test' : 'AIza-test-key',
        headers: {},
      };
    },
    priceFor: () => null,
  };
}
