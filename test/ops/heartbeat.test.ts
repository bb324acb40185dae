// The dead man's switch against a loopback receiver: pings while Vigil is healthy, silence within an interval
// when it is not (full disk, stalled event loop) or gone (stopped, kill -9); the URL's token never shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
// @ts-expect-error a plain-JS fixture shared with child processes (--import)
import { arm, disarm } from './fixtures/disk-full.mjs';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { DEAD_ENV, opsConfig, startVigil } from './helpers.ts';

const TOKEN = 'hb-3f9c2e71-token-0a8d';
const dirs: string[] = [];
let server: Server;
let base = '';
let status = 200;
const pings: { at: number; method: string; path: string; ua: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    pings.push({ at: Date.now(), method: req.method ?? '', path: req.url ?? '', ua: String(req.headers['user-agent']) });
    req.resume();
    res.writeHead(status).end('OK');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  disarm();
  await new Promise((r) => server.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const HEARTBEAT = `heartbeat: { url: "\${HEARTBEAT_URL}", method: POST, every: 1s, timeout: 2s }`;

function config(): string {
  const dir = opsConfig(HEARTBEAT);
  dirs.push(dir);
  return dir;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('heartbeat', () => {
  it('pings while healthy, is silent on a full disk and after a stalled loop, and resumes; the token never shows', async () => {
    const logs: string[] = [];
    const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }), json: true });
    const env = { ...DEAD_ENV, HEARTBEAT_URL: `${base}/ping/${TOKEN}` };
    const d = await Daemon.start({ configDir: config(), env, log, listen: { port: 0 }, loopStallMs: 400, spillRetryMs: 200 });
    try {
      const n0 = pings.length;
      await until('two pings', () => pings.length >= n0 + 2);
      expect(pings.at(-1)).toMatchObject({ method: 'POST', path: `/ping/${TOKEN}`, ua: 'vigil-heartbeat' });
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      const host = new URL(base).host;
      const last = new RegExp(`^vigil_heartbeat_last_success_timestamp_seconds\\{host="${host.replace('.', '\\.')}"\\} (\\d+(\\.\\d+)?)$`, 'm').exec(metrics);
      expect(Number(last?.[1])).toBeGreaterThan(Date.now() / 1000 - 10);
      expect(metrics).toMatch(new RegExp(`^vigil_heartbeat_interval_seconds\\{host="[^"]+"\\} 1$`, 'm'));
      expect(metrics).not.toContain(TOKEN);

      // Full disk: once the store's test write fails, the pings stop within an interval.
      arm();
      await until('heartbeat withheld', () => logs.join('').includes('heartbeat withheld'));
      const stoppedAt = Date.now();
      const n1 = pings.length;
      await sleep(2_500);
      expect(pings.filter((p) => p.at > stoppedAt + 1_100)).toEqual([]);
      expect(pings.length - n1).toBeLessThanOrEqual(1);
      expect(await (await fetch(`${d.url}/metrics`)).text()).toMatch(/^vigil_heartbeats_total\{[^}]*result="skipped"[^}]*\} [1-9]/m);

      // Room again: pings resume.
      disarm();
      const n2 = pings.length;
      await until('pings again after the disk has room', () => pings.length > n2, 15_000);

      // A stalled event loop (a runaway job): nothing for the next interval, though the loop runs again.
      const until2 = performance.now() + 900;
      while (performance.now() < until2) {
        // blocked
      }
      const afterStall = Date.now();
      await sleep(2_500);
      expect(pings.filter((p) => p.at > afterStall + 200)).toEqual([]);

      const all = logs.join('');
      expect(all).not.toContain(TOKEN);
      expect(all).toContain('heartbeat sent');
    } finally {
      disarm();
      await d.stop();
    }
    // Stopped: silence.
    const n3 = pings.length;
    await sleep(2_000);
    expect(pings.length).toBe(n3);
  }, 90_000);

  it('a receiver answering 500 counts as failed and does not move the last success', async () => {
    const logs: string[] = [];
    const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }), json: true });
    status = 500;
    const d = await Daemon.start({ configDir: config(), env: { ...DEAD_ENV, HEARTBEAT_URL: `${base}/ping/${TOKEN}` }, log, listen: { port: 0 } });
    try {
      const n0 = pings.length;
      await until('two attempts', () => pings.length >= n0 + 2);
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      expect(metrics).toMatch(/^vigil_heartbeat_last_success_timestamp_seconds\{[^}]*\} 0$/m);
      expect(metrics).toMatch(/^vigil_heartbeats_total\{[^}]*result="failed"[^}]*\} [1-9]/m);
      expect(logs.join('')).toContain('HTTP 500');
    } finally {
      status = 200;
      await d.stop();
    }
  }, 30_000);

  it('kill -9 of the real daemon: the pings stop', async () => {
    const v = startVigil(['run', '--config', config(), '--port', '0', '--log-format', 'json'], { env: { ...DEAD_ENV, HEARTBEAT_URL: `${base}/ping/${TOKEN}` } });
    try {
      await v.waitFor(/vigil running/, 90_000);
      const n0 = pings.length;
      await until('a ping from the child', () => pings.length > n0);
      v.kill('SIGKILL');
      await v.exited;
      const n1 = pings.length;
      await sleep(2_500);
      expect(pings.length).toBe(n1);
      expect(v.stderr()).not.toContain(TOKEN);
    } finally {
      v.kill('SIGKILL');
    }
  }, 120_000);

  it("the Watchdog (alerts defaults.watchdog) fires for Vigil's owner and is re-sent every repeat_interval through the engine and outbox", async () => {
    const dir = opsConfig();
    dirs.push(dir);
    mkdirSync(join(dir, 'alerts'), { recursive: true });
    const routing = (watchdog: boolean) => `owners:
  platform: { slack: "#oncall" }
  vigil-team: { slack: "#vigil" }
routes:
  - match: { detector: watchdog }
    notify: [console]
defaults:
  vigil_owner: vigil-team
  watchdog: ${watchdog}
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 2s
`;
    writeFileSync(join(dir, 'alerts', 'routing.yaml'), routing(true));
    const logs: string[] = [];
    const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }), json: true });
    const d = await Daemon.start({ configDir: dir, env: DEAD_ENV, log, listen: { port: 0 }, incidentTickMs: 200 });
    const watchdog = async () => (await d.incidents.listIncidents({ limit: 50 })).filter((i) => i.detector === 'watchdog');
    const deliveries = async () => {
      const [w] = await watchdog();
      return w ? w.notifications.filter((n) => n.receiver.endsWith('console') && n.status === 'sent') : [];
    };
    try {
      await until('the Watchdog delivered', async () => (await deliveries()).length >= 1);
      const [w] = await watchdog();
      expect(w).toMatchObject({ state: 'firing', severity: 'info', labels: { owner: 'vigil-team', alertname: 'Watchdog' } });
      expect(w.summary).toMatch(/^Watchdog: always firing/);
      await until('the Watchdog re-sent after repeat_interval', async () => (await deliveries()).length >= 2, 20_000);
      expect(await watchdog()).toHaveLength(1);
    } finally {
      await d.stop();
    }

    // Turned off across a restart: the next start resolves the Watchdog the earlier process raised (and tells
    // the route so), then raises nothing.
    writeFileSync(join(dir, 'alerts', 'routing.yaml'), routing(false));
    const d2 = await Daemon.start({ configDir: dir, env: DEAD_ENV, log, listen: { port: 0 }, incidentTickMs: 200 });
    try {
      await until('the old Watchdog resolved', async () => (await watchdog2()).every((i) => i.state === 'resolved'), 20_000);
      const all = await watchdog2();
      expect(all).toHaveLength(1);
      expect(all[0].resolvedAt).not.toBeNull();
      await until('the resolve delivered', async () => all.length === 1 && (await watchdog2())[0].notifications.some((n) => n.action === 'resolve' && n.status === 'sent'), 20_000);
      const n = (await watchdog2())[0].notifications.length;
      await sleep(1_500);
      expect(await watchdog2()).toHaveLength(1);
      expect((await watchdog2())[0].notifications.length).toBe(n);
    } finally {
      await d2.stop();
    }
    async function watchdog2() {
      return (await d2.incidents.listIncidents({ limit: 50 })).filter((i) => i.detector === 'watchdog');
    }
  }, 90_000);
});
