// `vigil drill <id>` against the simulator's LiteLLM gateway (primary through the proxy's HTTP control API).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.ts';
import { proxyReachable } from '../../src/chaos/fault-driver.ts';
import { startChaosProxy } from '../../src/chaos/proxy.ts';
import { drillCommand } from '../../src/cli/drill.ts';
import { CHAOS_TOKEN, freePort, startDrillRig } from './helpers.ts';
import type { DrillRig } from './helpers.ts';

let rig: DrillRig;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  rig = await startDrillRig();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-drill-cli-'));
  const files: Record<string, string> = {
    'vigil.yaml': `storage: { path: ./vigil.db }
gateway: { flavour: litellm, base_url: "\${GATEWAY_URL}", api_key: "\${GATEWAY_API_KEY}" }
providers:
  anthropic: { kind: anthropic, base_url: "\${ANTHROPIC_URL}", api_key: "\${ANTHROPIC_API_KEY}" }
`,
    'probes/p.yaml': `probes:
  - { id: gateway-canary, owner: platform, target: gateway, model: gpt-4o-mini, prompt: "Reply with the single word: pong", assert: [{ contains: pong }] }
  - { id: anthropic-direct, owner: platform, target: "provider:anthropic", model: claude-sonnet-4-5, prompt: "Reply with the single word: pong" }
`,
    'scenarios/s.yaml': `drills:
  - id: primary-down
    owner: platform
    manual: true
    target: gateway
    faults: [{ upstream: anthropic, kind: http_status, status: 529, ttl: 1m }]
    steady_state: [{ probe: anthropic-direct }]
    probes: [gateway-canary]
    repeat: 2
    interval: 10ms
    expect: { served_by: openai-gpt, extra_latency_ms: "< 3000" }
`,
  };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  env = { GATEWAY_URL: rig.fleet.urls.litellm, GATEWAY_API_KEY: 'sim-gateway-key', ANTHROPIC_URL: rig.fleet.urls.anthropic, ANTHROPIC_API_KEY: 'sk-ant-sim', VIGIL_CHAOS_TOKEN: CHAOS_TOKEN };
});
afterAll(async () => {
  await rig?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await drillCommand([...args, '--config', dir, '--proxy', rig.proxy.url], { env, stdout: (s) => (out += s), stderr: () => {} });
  return { code, out };
}

describe('vigil drill', () => {
  it('prints the verdict and the journal; exit 0 when the fallback worked', async () => {
    const { code, out } = await cli(['primary-down']);
    expect(code).toBe(0);
    expect(out).toMatch(/^drill primary-down: PASSED \(\d+\.\ds, run primary-down-[a-z0-9]+\)\n {2}fallback worked: 2\/2 attempts served by openai-gpt/);
    expect(out).toContain('injected:  anthropic: http_status 529 ttl 1m [x-vigil-drill=primary-down-');
    expect(out).toMatch(/rollback: {2}ok/);
    for (const step of ['steady_state_before', 'baseline', 'inject', 'attempt', 'verify', 'rollback', 'steady_state_after']) expect(out).toContain(step);
    expect(rig.proxy.list()).toEqual([]);
  });

  it('exit 1 when the fallback did not work', async () => {
    // The fallback target is unreachable: after the primary's 529 the gateway has nowhere to go.
    rig.fleet.gatewayConfig('litellm').targets[1].baseUrl = 'http://127.0.0.1:9';
    try {
      const { code, out } = await cli(['primary-down']);
      expect(out).toContain('FAILED');
      expect(out).toContain('no_fallback');
      expect(code).toBe(1);
    } finally {
      delete rig.fleet.gatewayConfig('litellm').targets[1].baseUrl;
    }
  });

  it('exit 3 when the drill proved nothing (steady state did not hold)', async () => {
    rig.fleet.anthropic.setOutage(true);
    try {
      const { code, out } = await cli(['primary-down', '--json']);
      expect(code).toBe(3);
      expect(JSON.parse(out)).toMatchObject({ verdict: 'skipped', reason: expect.stringContaining('anthropic-direct') });
    } finally {
      rig.fleet.anthropic.setOutage(false);
    }
  });

  it('usage errors name the known drills', async () => {
    await expect(cli([])).rejects.toThrow(UsageError);
    await expect(cli(['nope'])).rejects.toThrow('no drill "nope" (known: primary-down)');
  });
});

describe('vigil drill with a `chaos:` section (no --proxy)', () => {
  let port = 0;
  let saved: string | undefined;
  beforeAll(async () => {
    port = await freePort();
    // The same config plus the proxy's own section; the gateway's primary goes to that port.
    const vigil = fs.readFileSync(path.join(dir, 'vigil.yaml'), 'utf8');
    fs.writeFileSync(
      path.join(dir, 'vigil.yaml'),
      `${vigil}chaos:\n  listen: { host: 127.0.0.1, port: ${port} }\n  upstreams:\n    anthropic: { kind: anthropic, base_url: "\${ANTHROPIC_URL}" }\n`,
    );
    const cfg = rig.fleet.gatewayConfig('litellm');
    saved = cfg.targets[0].baseUrl;
    cfg.targets[0].baseUrl = `http://127.0.0.1:${port}/proxy/anthropic`;
  });
  afterAll(() => {
    rig.fleet.gatewayConfig('litellm').targets[0].baseUrl = saved;
  });

  async function cliNoProxy(): Promise<{ code: number; run: any }> {
    let out = '';
    const code = await drillCommand(['primary-down', '--config', dir, '--json'], { env, stdout: (s) => (out += s), stderr: () => {} });
    return { code, run: JSON.parse(out) };
  }

  it('starts an in-process proxy on the configured address when none answers there, and stops it after', async () => {
    expect(await proxyReachable(`http://127.0.0.1:${port}`)).toBe(false);
    const { code, run } = await cliNoProxy();
    expect(run.verdict, run.reason).toBe('passed');
    expect(code).toBe(0);
    expect(run.journal[0].data.via).toBe(`in-process chaos proxy on http://127.0.0.1:${port}`);
    expect(run.faults[0].hits).toBe(2);
    expect(await proxyReachable(`http://127.0.0.1:${port}`)).toBe(false);
  });

  it("drives a running proxy (the daemon's) through its control API", async () => {
    const running = await startChaosProxy({ port, controlToken: CHAOS_TOKEN, upstreams: { anthropic: { kind: 'anthropic', baseUrl: rig.fleet.urls.anthropic } } });
    try {
      const { code, run } = await cliNoProxy();
      expect(run.verdict, run.reason).toBe('passed');
      expect(code).toBe(0);
      expect(run.journal[0].data.via).toBe(`chaos proxy control API at http://127.0.0.1:${port}`);
      expect(run.faults[0].hits).toBe(2);
      expect(running.list()).toEqual([]);
    } finally {
      await running.close();
    }
  });
});
