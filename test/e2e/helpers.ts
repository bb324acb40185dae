// Helpers for end-to-end tests: a config dir whose alerts/ point at loopback PagerDuty and Slack stand-ins,
// a settle that also waits for deliveries in flight, and a TCP relay that can take "PagerDuty" down.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ManualClock } from '../../src/clock.ts';
import type { Daemon } from '../../src/daemon.ts';
import { writeConfig } from '../daemon/helpers.ts';

export const ROUTING_KEY = 'R0UTINGKEYe2e0123456789abcdefABC';
export const SLACK_TOKEN = 'xoxb-e2e-loopback';
export const PUBLIC_URL = 'http://vigil.example.test:9464';

/**
 * test/daemon's config (one probe per provider plus the gateway, owner `platform`, every minute, one
 * confirmation re-probe) plus alerts/ with the shipped routing: critical → PagerDuty and Slack, with the
 * API hosts taken from env (PD_SERVER, SLACK_API_URL) as an operator would set them.
 */
export function writeE2eConfig(extraVigil?: string): string {
  const dir = writeConfig({ every: '1m', confirm: 1, ...(extraVigil ? { extraVigil } : {}) });
  const vigil = join(dir, 'vigil.yaml');
  writeFileSync(vigil, readFileSync(vigil, 'utf8').replace('server: { host: 127.0.0.1, port: 0 }', `server: { host: 127.0.0.1, port: 0, public_url: "${PUBLIC_URL}" }`));
  mkdirSync(join(dir, 'alerts'));
  writeFileSync(
    join(dir, 'alerts', 'routing.yaml'),
    `owners:
  platform:
    slack: "#llm-oncall"
    pagerduty: "\${PD_PLATFORM_ROUTING_KEY}"
    runbook: https://runbooks.example.com/llm-providers
receivers:
  slack: { token: "\${SLACK_BOT_TOKEN}", api_url: "\${SLACK_API_URL}" }
  pagerduty: { server: "\${PD_SERVER}" }
routes:
  - match: { severity: critical }
    notify: [pagerduty, slack]
  - match: { severity: warning }
    notify: [slack]
defaults:
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  availability: { failure_threshold: 1, success_threshold: 2, for: 0s }
`,
  );
  return dir;
}

export function alertEnv(pdServer: string, slackApiUrl: string): Record<string, string> {
  return { PD_PLATFORM_ROUTING_KEY: ROUTING_KEY, PD_SERVER: pdServer, SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slackApiUrl };
}

/**
 * Real-time wait until no probe is running or queued, no notification is being delivered and the incident
 * loop has nothing asked of it (a page queued by a result wakes it, and it must go out before the clock moves).
 */
export async function settleAll(d: Daemon, timeoutMs = 15_000): Promise<void> {
  const sending = d.store.db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE status = 'sending'`);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = d.scheduler.stats();
    if (s.inFlight === 0 && s.queued === 0 && (sending.get() as { n: number }).n === 0 && d.incidents.idle) return;
    if (Date.now() > end) throw new Error(`daemon did not settle: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Advance a ManualClock in steps (1 s by default), letting probes and deliveries finish after each. */
export async function run(clock: ManualClock, d: Daemon, totalMs: number, stepMs = 1_000): Promise<void> {
  for (let t = 0; t < totalMs; t += stepMs) {
    await clock.advance(Math.min(stepMs, totalMs - t));
    await settleAll(d);
  }
}

/** Advance until `done()` holds (checked after every step) or `maxMs` of clock time passed. Returns the clock time. */
export async function runUntil(clock: ManualClock, d: Daemon, done: () => boolean | Promise<boolean>, maxMs: number, stepMs = 1_000): Promise<number> {
  const end = clock.now() + maxMs;
  while (!(await done())) {
    if (clock.now() >= end) throw new Error(`condition not met within ${maxMs / 1000} s of clock time`);
    await clock.advance(stepMs);
    await settleAll(d);
  }
  return clock.now();
}

export type RelayMode = 'up' | 'http500' | 'refused';

export interface Relay {
  /** host:port to give the client instead of the upstream's. */
  server: string;
  /** Connections forwarded so far. */
  connections: number;
  setMode(mode: RelayMode): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of an HTTPS stand-in (TLS passes through, so the upstream's certificate is still
 * what the client verifies). `http500`: every connection first queues one canned 500 on the upstream
 * (pdjs opens one connection per request); `refused`: the port stops listening, so connects are refused.
 */
export async function startRelay(upstreamHostPort: string, onHttp500: () => void): Promise<Relay> {
  const [uhost, uport] = [upstreamHostPort.slice(0, upstreamHostPort.lastIndexOf(':')), Number(upstreamHostPort.slice(upstreamHostPort.lastIndexOf(':') + 1))];
  let mode: RelayMode = 'up';
  const sockets = new Set<net.Socket>();
  const relay: Relay = {
    server: '',
    connections: 0,
    setMode: async (m) => {
      if (m === mode) return;
      if (m === 'refused') {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => srv.close(() => r()));
      }
      if (mode === 'refused') await listen(port);
      mode = m;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      if (mode !== 'refused') await new Promise<void>((r) => srv.close(() => r()));
    },
  };
  const srv = net.createServer((client) => {
    relay.connections++;
    if (mode === 'http500') onHttp500();
    const up = net.connect(uport, uhost);
    sockets.add(client).add(up);
    const drop = () => {
      client.destroy();
      up.destroy();
      sockets.delete(client);
      sockets.delete(up);
    };
    client.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
    client.pipe(up).pipe(client);
  });
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(p, '127.0.0.1', () => {
        srv.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (srv.address() as AddressInfo).port;
  relay.server = `127.0.0.1:${port}`;
  return relay;
}
