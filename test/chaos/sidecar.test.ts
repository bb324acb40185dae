// The fault proxy as its own process (`vigil proxy`): started by the daemon (`chaos.process: spawn`), it keeps
// passing traffic when the daemon is killed with SIGKILL, and every fault still expires by its TTL inside it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimFleet } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { freePort } from '../drills/helpers.ts';
import { FAST } from './helpers.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/main.ts');
const TOKEN = 'sidecar-test-control-token';

let fleet: SimFleet;
let dir = '';
let port = 0;
const children: ChildProcess[] = [];

function writeConfig(chaosExtra: string): void {
  fs.writeFileSync(
    path.join(dir, 'vigil.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: { path: ./vigil.db }
providers:
  anthropic: { kind: anthropic, base_url: "\${ANTHROPIC_BASE_URL}", api_key: sk-ant-sim }
chaos:
  listen: { host: 127.0.0.1, port: ${port} }
${chaosExtra}  upstreams:
    anthropic: { kind: anthropic, base_url: "\${ANTHROPIC_BASE_URL}" }
`,
  );
}

function run(args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  let stderr = '';
  const child = spawn(process.execPath, [MAIN, ...args, '--config', dir], {
    env: { ...process.env, ANTHROPIC_BASE_URL: fleet.urls.anthropic, VIGIL_LOG_LEVEL: 'warn', VIGIL_CHAOS_TOKEN: undefined, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stderr: () => stderr, exited };
}

const base = () => `http://127.0.0.1:${port}`;
const auth = { authorization: `Bearer ${TOKEN}` };

/** The proxy a daemon spawned, once it answers (up to 30 s, or until the daemon exits). */
async function spawnedProxy(daemon: ReturnType<typeof run>): Promise<{ pid: number; faults: number }> {
  const deadline = Date.now() + 30_000;
  let st = await status();
  while (!st && Date.now() < deadline && daemon.child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
    st = await status();
  }
  expect(st, daemon.stderr()).not.toBeNull();
  return st!;
}

async function status(): Promise<{ pid: number; faults: number } | null> {
  try {
    const r = await fetch(`${base()}/proxy/_status`, { headers: auth, signal: AbortSignal.timeout(1_000) });
    return r.status === 200 ? ((await r.json()) as { pid: number; faults: number }) : null;
  } catch {
    return null;
  }
}

function ask(drill?: string): Promise<number> {
  return fetch(`${base()}/proxy/anthropic/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-sim', 'anthropic-version': '2023-06-01', ...(drill ? { 'x-vigil-drill': drill } : {}) },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'Reply with the single word: pong' }] }),
  }).then(async (r) => (await r.text(), r.status));
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

beforeAll(async () => {
  fleet = await startSimFleet({ behaviour: FAST });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sidecar-'));
  fs.mkdirSync(path.join(dir, 'probes'));
  fs.writeFileSync(
    path.join(dir, 'probes', 'p.yaml'),
    `probes:\n  - { id: anthropic-canary, owner: platform, target: "provider:anthropic", model: claude-sonnet-4-5, every: 1h, prompt: "Reply with the single word: pong" }\n`,
  );
  port = await freePort();
});

afterAll(async () => {
  const st = await status();
  if (st) killPid(st.pid);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fleet?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('vigil proxy', () => {
  it('refuses to start without a control token', async () => {
    writeConfig('');
    const p = run(['proxy']);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain('refusing to start without a control token');
  });

  it('spawned by the daemon: keeps passing traffic after kill -9 of the daemon, and the fault still expires by its TTL', async () => {
    writeConfig(`  control_token: ${TOKEN}\n`);
    const daemon = run(['run']);
    const st = await spawnedProxy(daemon);
    const proxyPid = st.pid;
    expect(proxyPid).not.toBe(daemon.child.pid);

    const ttlMs = 3_000;
    const injected = await fetch(`${base()}/proxy/_faults`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ upstream: 'anthropic', kind: 'http_status', status: 529, ttl: ttlMs, match: { headers: { 'x-vigil-drill': 'kill-test' } } }),
    });
    expect(injected.status).toBe(201);
    const expiresAt = Date.parse(((await injected.json()) as { expires_at: string }).expires_at);

    daemon.child.kill('SIGKILL');
    await daemon.exited;

    // The daemon is gone; the proxy is not: plain traffic passes, drill traffic still gets its fault.
    for (let i = 0; i < 5; i++) expect(await ask()).toBe(200);
    if (Date.now() < expiresAt - 500) expect(await ask('kill-test')).toBe(529);
    // And the fault leaves at its TTL, with nobody left to clear it.
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 50));
    expect(await ask('kill-test')).toBe(200);
    expect((await status())?.faults).toBe(0);
    expect(await ask()).toBe(200);
    expect((await status())?.pid).toBe(proxyPid);

    // A clean stop of the proxy itself (SIGTERM) closes it.
    process.kill(proxyPid, 'SIGTERM');
    const until = Date.now() + 10_000;
    while ((await status()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await status()).toBeNull();
  }, 60_000);

  it('a clean daemon stop stops the proxy it spawned', async () => {
    writeConfig(`  control_token: ${TOKEN}\n`);
    const daemon = run(['run']);
    await spawnedProxy(daemon);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(await status()).toBeNull();
  }, 60_000);
});
