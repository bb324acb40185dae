// The real Portkey gateway (@portkey-ai/gateway, on loopback), its primary target (Anthropic) routed through
// Vigil's fault proxy, the fallback (OpenAI) direct, both simulated. The shipped example (examples/portkey) is
// run with `vigil drill`: it must pass with a healthy fallback and fail when the fallback is broken too.
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
    proxy = await startChaosProxy({ upstreams: { anthropic: { kind: 'anthropic', baseUrl: fleet.urls.anthropic } } });
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

  async function drill(): Promise<{ code: number; run: any }> {
    let out = '';
    const code = await drillCommand([DRILL, '--config', EXAMPLE, '--proxy', proxy.url, '--json'], {
      env,
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
      const runs = new DrillStore(store.db).runs(DRILL, 10, true);
      expect(runs.map((r) => r.verdict)).toEqual(['failed', 'passed']);
      expect(runs.every((r) => 'journal' in r && r.journal.length > 5)).toBe(true);
      // Each run: steady state, baseline, 3 × (abort check + attempt), steady state after.
      expect(await store.results({ drills: 'only' })).toHaveLength(18);
    } finally {
      store.close();
    }
  });
});
