// The CLI as a user runs it: `vigil probe` against the simulator, `vigil validate` on good and broken config.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import type { ProbeResult } from '../../src/domain.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/main.ts');
const run = promisify(execFile);

async function vigil(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('vigil probe against vigil sim', () => {
  let fleet: SimFleet;
  let env: Record<string, string>;
  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: { latency: { ttfbMs: 5, ttftMs: 30, perTokenMs: 2, jitter: 0, diurnal: null } } });
    env = simEnv(fleet.urls);
  });
  afterAll(() => fleet.close());

  it.each([
    ['openai-canary', 'openai', /^gpt-4o-mini-\d{4}-\d{2}-\d{2}$/],
    ['anthropic-canary', 'anthropic', /^claude-haiku-4-5/],
    ['gemini-canary', 'gemini', /^gemini-2\.5-flash/],
    ['gateway-canary', 'gateway', /./],
  ])('%s → JSON result with served model, timings and verdicts', async (id, provider, served) => {
    const { code, stdout, stderr } = await vigil(['probe', id, '--config', ROOT, '--json'], env);
    expect(code, stderr).toBe(0);
    const r = JSON.parse(stdout) as ProbeResult;
    expect(r.probeId).toBe(id);
    expect(r.provider).toBe(provider);
    expect(r.outcome).toBe('ok');
    expect(r.servedModel).toMatch(served);
    expect(r.timings.ttftMs).toBeGreaterThanOrEqual(25);
    expect(r.timings.totalMs).toBeGreaterThanOrEqual(r.timings.ttftMs!);
    expect(r.tokensOut).toBeGreaterThan(0);
    expect(r.assertions.find((a) => a.assertion.startsWith('contains'))?.passed).toBe(true);
    if (provider === 'gateway') expect(r.gateway?.servedBy).toBeTruthy();
    expect(stdout).not.toContain(env.OPENAI_API_KEY);
  });

  it('prints a readable result and exits 1 when the provider fails', async () => {
    fleet.anthropic.patch({ outage: true });
    try {
      const { code, stdout } = await vigil(['probe', 'anthropic-canary', '--config', ROOT], env);
      expect(code).toBe(1);
      expect(stdout).toMatch(/^anthropic-canary: FAILED \(overloaded\)/);
      expect(stdout).toMatch(/http\s+529/);
    } finally {
      fleet.anthropic.patch({ outage: false });
    }
  });

  it('suggests the closest probe for a mistyped id instead of listing them all', async () => {
    const { code, stderr } = await vigil(['probe', 'openai-canry', '--config', ROOT], env);
    expect(code).toBe(2);
    expect(stderr).toContain('no probe "openai-canry"; did you mean "openai-canary"?');
    expect(stderr).not.toContain('gemini-canary');
  });
});

describe('vigil validate', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('exits 0 on the shipped config and prints the projected monthly cost per probe', async () => {
    const { code, stdout } = await vigil(['validate', '--config', ROOT], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/openai-canary\s+provider:openai\s+gpt-4o-mini\s+every 1m\s+43,830/);
    expect(stdout).toMatch(/TOTAL \(\d+ probes\)/);
    expect(stdout).toContain('config OK');
  });

  it('exits non-zero with file:line:column on a broken probe file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-validate-'));
    dirs.push(dir);
    cpSync(join(ROOT, 'vigil.yaml'), join(dir, 'vigil.yaml'));
    cpSync(join(ROOT, 'probes'), join(dir, 'probes'), { recursive: true });
    writeFileSync(
      join(dir, 'probes', 'broken.yaml'),
      'probes:\n  - id: broken\n    owner: x\n    target: provider:openai\n    model: gpt-4o-mini\n    evry: 60s\n    prompt: hi\n',
    );
    const { code, stdout } = await vigil(['validate', '--config', dir], {});
    expect(code).toBe(1);
    expect(stdout).toContain('probes/broken.yaml:6:5');
    expect(stdout).toContain('did you mean `every`');
  });
});
