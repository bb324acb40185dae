// `npm run demo` on a machine with no network and no keys: /metrics has series for every shipped probe.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('vigil demo', () => {
  let child: ChildProcess | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-demo-'));
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('serves /metrics with a probe_success series for every shipped probe once started, says what history it holds, logs for people, and stops cleanly on SIGTERM', async () => {
    const shipped = loadConfig(ROOT, { allowMissingEnv: true, env: {} }).config!.probes.map((p) => p.id);
    expect(shipped.length).toBeGreaterThanOrEqual(4);
    const started = Date.now();
    const env: Record<string, string | undefined> = { ...process.env, VIGIL_DB: join(tmp, 'demo.db'), VIGIL_LOG_LEVEL: 'warn' };
    for (const k of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GATEWAY_API_KEY']) delete env[k];
    child = spawn(process.execPath, [join(ROOT, 'src/main.ts'), 'demo', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => ((out += d), (stdout += d)));
    child.stderr!.on('data', (d) => ((out += d), (stderr += d)));
    let metricsUrl = '';
    let text = '';
    // A bound, not a speed target (bench/ holds those): seeding a month shares 2 cores with other test files.
    while (Date.now() - started < 150_000) {
      await new Promise((r) => setTimeout(r, 200));
      metricsUrl ||= /metrics\s+(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out)?.[1] ?? '';
      if (!metricsUrl) continue;
      text = await (await fetch(metricsUrl)).text();
      if (shipped.every((id) => text.includes(`probe_success{probe="${id}"`))) break;
    }
    for (const id of shipped) expect(text, out).toContain(`probe_success{probe="${id}"`);
    for (const provider of ['openai', 'anthropic', 'gemini', 'gateway']) expect(text).toContain(`provider="${provider}"`);
    // The month the status page shows, counted from the store.
    expect(stdout).toMatch(/ history {5}[\d,]+ results over the past 30 days, \d+ incidents; seeded in \d+\.\d s\n/);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child!.once('exit', r));
    expect(code).toBe(0);
    // Its log shares a terminal with that text, so it is for people even on a pipe: no JSON line, one line per event.
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l, stderr).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (DEBUG|INFO|WARN|ERROR): /);
  }, 180_000);
});
