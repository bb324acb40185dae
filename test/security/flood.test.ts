// Issue 13, attack 4: 4,000 unauthenticated connections, half holding half-sent headers (slowloris) and half
// pushing large webhook bodies with bogus signatures, against the daemon in its own process. RSS must stay
// under 300 MB and /healthz must keep answering in under 100 ms (median of samples taken every 50 ms while the
// flood lasts; at least 90 % answered; the worst case is printed).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN, secConfig } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CONNECTIONS = Number(process.env.FLOOD_N ?? 4000);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const failures: string[] = [];

function healthz(url: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent: false, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : Infinity));
    });
    req.on('error', (e: NodeJS.ErrnoException) => (failures.push(`${e.code ?? e.message} after ${(performance.now() - t0).toFixed(0)} ms`), resolve(Infinity)));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

describe('connection flood', () => {
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
  });

  it(`${CONNECTIONS} slow or oversized unauthenticated connections: RSS < 300 MB, /healthz < 100 ms`, async () => {
    const dir = secConfig({ vigil: 'webhooks:\n  notices: { kind: generic, secret: "${NOTICE_SECRET}" }\n' });
    child = spawn(process.execPath, [join(ROOT, 'src/main.ts'), 'run', '--config', dir], {
      env: { ...process.env, VIGIL_ADMIN_TOKEN: ADMIN, NOTICE_SECRET: 'notice-secret-0123456789', VIGIL_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stderr!.on('data', (d) => (log += d));
    child.stdout!.on('data', (d) => (log += d));
    let url = '';
    for (let i = 0; i < 300 && !url; i++) {
      await new Promise((r) => setTimeout(r, 100));
      url = /^(?=.*"msg":"vigil running").*"url":"(http:[^"]+)"/m.exec(log)?.[1] ?? '';
    }
    expect(url, log).not.toBe('');
    const u = new URL(url);
    const pid = child.pid!;
    const baseline = rssMb(pid);

    let peak = baseline;
    const lat: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rssMb(pid));
        lat.push(await healthz(url));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const attacker = spawn(process.execPath, [join(import.meta.dirname, 'flood-client.ts'), url, String(CONNECTIONS), '4000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let answers = '';
    attacker.stdout!.on('data', (d) => (answers += d));
    await new Promise((r) => attacker.once('exit', r));
    sampling = false;
    await sampler;

    const ok = lat.filter(Number.isFinite).sort((a, b) => a - b);
    const median = ok[Math.floor(ok.length / 2)];
    const summary = `RSS ${baseline.toFixed(0)} → peak ${peak.toFixed(0)} MB; /healthz n=${lat.length} failed=${lat.length - ok.length} ${JSON.stringify(failures)} median=${median?.toFixed(1)} ms max=${ok.at(-1)?.toFixed(1)} ms; attacker saw ${answers.trim()}`;
    console.log(`flood: ${summary}`);
    expect(peak, summary).toBeLessThan(300);
    // On these shared 2-core machines a sample can miss its accept slot under the burst; nearly all must answer.
    expect(ok.length / lat.length, summary).toBeGreaterThanOrEqual(0.9);
    expect(median, summary).toBeLessThan(100);
    // The daemon is alive and still serves after the flood.
    expect(await healthz(url)).toBeLessThan(15_000);
    expect(child.exitCode).toBeNull();
  }, 90_000);
});
