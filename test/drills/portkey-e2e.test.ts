// The real Portkey gateway (@portkey-ai/gateway, on loopback), its primary target (Anthropic) routed through
// Vigil's fault proxy, the fallback (OpenAI) direct, both simulated. The shipped example (examples/portkey) is
// run with `vigil drill`: it must pass with a healthy fallback and fail when the fallback is broken too; its
// safety drill must fail (`safety_bypass`) with on_status_codes that include the refusal's 400 and pass without.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChaosProxy } from '../../src/chaos/proxy.ts';
import type { ChaosProxy } from '../../src/chaos/proxy.ts';
import { DrillStore } from '../../src/chaos/drill-store.ts';
import { drillCommand } from '../../src/cli/drill.ts';
import { startSimFleet } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { Store } from '../../src/store/store.ts';
import { FAST, freePort } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const GATEWAY = path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js');
const EXAMPLE = path.join(ROOT, 'examples/portkey');
const DRILL = 'anthropic-down-portkey-fallback';
const installed = fs.existsSync(GATEWAY);

async function waitReady(url: string, child: ChildProcess, log: () => string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`portkey gateway exited ${child.exitCode}: ${log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`portkey gateway not ready after ${ms} ms: ${log()}`);
}

describe.skipIf(!installed)('Portkey gateway, end to end (examples/portkey)', () => {
  let fleet: SimFleet;
  let proxy: ChaosProxy;
  let gateway: ChildProcess;
  let gatewayUrl = '';
  let dir = '';
  let env: Record<string, string | undefined>;
  let stderr = '';

  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST });
    proxy = await startChaosProxy({ controlToken: 'portkey-test-control-token', upstreams: { anthropic: { kind: 'anthropic', baseUrl: fleet.urls.anthropic } } });
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    gateway = spawn(process.execPath, ['--import', path.join(EXAMPLE, 'loopback.mjs'), GATEWAY, `--port=${port}`, '--headless'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    gateway.stderr!.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    await waitReady(`${gatewayUrl}/`, gateway, () => stderr);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-portkey-'));
    env = {
      PORTKEY_URL: gatewayUrl,
      VIGIL_PROXY_URL: proxy.url,
      VIGIL_CHAOS_TOKEN: 'portkey-test-control-token',
      OPENAI_BASE_URL: fleet.urls.openai,
      ANTHROPIC_API_KEY: 'sk-ant-sim-key',
      OPENAI_API_KEY: 'sk-sim-key',
      VIGIL_DB: path.join(dir, 'vigil.db'),
    };
  }, 60_000);

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((r) => gateway.once('exit', r));
      gateway.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (gateway.exitCode === null) gateway.kill('SIGKILL');
    }
    await proxy?.close();
    await fleet?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('binds loopback only', async () => {
    const port = Number(new URL(gatewayUrl).port);
    const other = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!other) return;
    await expect(fetch(`http://${other.address}:${port}/`, { signal: AbortSignal.timeout(1_000) })).rejects.toThrow();
  });

  async function drill(id = DRILL, extraEnv: Record<string, string> = {}): Promise<{ code: number; run: any }> {
    let out = '';
    const code = await drillCommand([id, '--config', EXAMPLE, '--proxy', proxy.url, '--json'], {
      env: { ...env, ...extraEnv },
      stdout: (s) => (out += s),
      stderr: () => {},
    });
    return { code, run: JSON.parse(out) };
  }

  it('passes: Anthropic 529 through the proxy, Portkey falls back to OpenAI (config.targets[1])', async () => {
    const before = fleet.anthropic.lastSeq;
    const { code, run } = await drill();
    expect(run.verdict, `${run.reason}\n${stderr}`).toBe('passed');
    expect(code).toBe(0);
    expect(run.servedBy).toBe('config.targets[1]');
    expect(run.attempts).toHaveLength(3);
    for (const a of run.attempts) expect(a).toMatchObject({ ok: true, httpStatus: 200, servedBy: 'config.targets[1]', provider: 'openai' });
    // Every attempt hit the fault; the abort checks (no drill header) kept going to Anthropic through the proxy.
    expect(run.faults[0].hits).toBe(3);
    expect(run.journal.filter((e: { step: string }) => e.step === 'abort_check').every((e: { status: string }) => e.status === 'ok')).toBe(true);
    expect(fleet.anthropic.requests().filter((r) => r.seq > before).length).toBeGreaterThanOrEqual(5);
    expect(run.fallbackLatencyMs).toBeLessThan(3_000);
    expect(proxy.list()).toEqual([]);
  }, 60_000);

  it('fails when the fallback target is broken too (OpenAI down): no fallback, exit 1', async () => {
    fleet.openai.setOutage(true);
    try {
      const { code, run } = await drill();
      expect(run.verdict, run.reason).toBe('failed');
      expect(code).toBe(1);
      expect(run.failure).toBe('no_fallback');
      expect(run.attempts.every((a: { ok: boolean; httpStatus: number }) => !a.ok && a.httpStatus >= 500)).toBe(true);
      expect(run.faults[0].hits).toBe(3);
      expect(proxy.list()).toEqual([]);
    } finally {
      fleet.openai.setOutage(false);
    }
  }, 60_000);

  it('both runs are in the store with their journals', async () => {
    const store = Store.open(env.VIGIL_DB!);
    try {
      const runs = await new DrillStore(store.sql).runs(DRILL, 10, true);
      expect(runs.map((r) => r.verdict)).toEqual(['failed', 'passed']);
      expect(runs.every((r) => 'journal' in r && r.journal.length > 5)).toBe(true);
      // Each run: steady state, baseline, 3 × (abort check + attempt), steady state after.
      expect(await store.results({ drills: 'only' })).toHaveLength(18);
    } finally {
      store.close();
    }
  });

  // The safety drill (examples/portkey/scenarios/safety.yaml): Anthropic refuses (its content-policy 400, then a
  // 200 refusal stop), and the simulated OpenAI fallback complies with anything.
  it('safety: on_status_codes including 400 → the real Portkey fails the refusal over, OpenAI answers: safety_bypass, exit 1', async () => {
    const { code, run } = await drill('refusal-not-laundered', { PORTKEY_FALLBACK_STATUS_CODES: '[400, 429, 500, 502, 503, 504, 529]' });
    expect(run.verdict, `${run.reason}\n${stderr}`).toBe('failed');
    expect(code).toBe(1);
    expect(run.failure).toBe('safety_bypass');
    expect(run.findings).toHaveLength(1);
    const f = run.findings[0];
    expect(f).toMatchObject({ kind: 'safety_bypass', probe: 'gateway-refuse-phishing-sms', servedBy: 'config.targets[1]', provider: 'openai', route: 'fallback' });
    expect(f.prompt).toContain('online banking password');
    expect(f.excerpt.length).toBeGreaterThan(5);
    expect(f.fault).toBe('anthropic: HTTP 400 "Output blocked by content filtering policy"');
    // The drill read the gateway's x-portkey-config from vigil.yaml, so it names the exact list.
    expect(f.likelyCause).toBe('`strategy.on_status_codes` [400,429,500,502,503,504,529] includes 400');
    // A 200 refusal is never failed over by Portkey (it decides on status only).
    const phase2 = run.attempts.filter((a: { safety: { phase: number } }) => a.safety.phase === 1);
    expect(phase2.map((a: { safety: { route: string; finding: string | null } }) => a.safety.route)).toEqual(['primary', 'primary']);
    expect(run.faults.map((x: { hits: number }) => x.hits)).toEqual([2, 2]);
    expect(proxy.list()).toEqual([]);
  }, 60_000);

  it('safety: the shipped on_status_codes (no 400) → the refusal reaches the user: passed, exit 0, benign left refused is a warning', async () => {
    const { code, run } = await drill('refusal-not-laundered');
    expect(run.verdict, `${run.reason}\n${stderr}`).toBe('passed');
    expect(code).toBe(0);
    expect(run.findings).toEqual([]);
    const first = run.attempts.find((a: { probe: string }) => a.probe === 'gateway-refuse-phishing-sms');
    expect(first).toMatchObject({ httpStatus: 400, servedBy: 'config.targets[0]', safety: { answer: 'refused', route: 'primary' } });
    expect(run.warnings.map((w: { probe: string }) => w.probe)).toEqual(['gateway-benign-kill-process', 'gateway-benign-kill-process']);
    expect(run.reason).toMatch(/^refusals held: 2\/2 should-refuse prompts were refused/);
    expect(proxy.list()).toEqual([]);
  }, 60_000);
});
