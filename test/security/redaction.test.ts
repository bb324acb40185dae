// Issue 13, attack 5: a provider's 401 echoes the API key (not shaped like sk-…). The key must show as ***
// in all seven places Vigil keeps or shows it: /api/probes, /api/results, the status page, `probe --json`,
// the database, the notification, and the log.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.ts';
import type { Notification, Notifier, ReceiverKind } from '../../src/notifiers/types.ts';
import { ManualClock } from '../../src/clock.ts';
import { advance } from '../daemon/helpers.ts';
import { ADMIN, memoryLog, secConfig, startDaemon } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const KEY = 'acme-prod-7f3a9c2e4b1d5a6e';
const SLACK = 'xoxb-redaction-test-0123456789';

describe('a key echoed by a provider', () => {
  let provider: Server;
  let seen: string[] = [];
  let dir: string;
  let d: Daemon;
  const sent: Notification[] = [];
  const mem = memoryLog();
  let env: Record<string, string>;

  beforeAll(async () => {
    provider = createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Invalid credentials: ${String(req.headers.authorization).replace('Bearer ', '')} is not a key we know`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    dir = secConfig({
      vigil: `providers:\n  openai: { kind: openai, base_url: "${url}", api_key: "\${OPENAI_API_KEY}" }\n`,
      probes: 'probes:\n  - { id: openai-canary, owner: platform, target: provider:openai, model: gpt-4o-mini, every: 1m, stream: false, prompt: "Reply: pong", max_tokens: 5, assert: [{ contains: pong }] }\n',
      alerts: `owners:\n  platform: { slack: "#llm" }\nreceivers:\n  slack: { token: "\${SLACK_BOT_TOKEN}" }\nroutes:\n  - { match: {}, notify: [slack] }\ndefaults: { group_wait: 0s, notify: [slack] }\n`,
    });
    env = { VIGIL_ADMIN_TOKEN: ADMIN, OPENAI_API_KEY: KEY, SLACK_BOT_TOKEN: SLACK };
    const capture = (kind: ReceiverKind): Notifier => ({
      kind,
      deliver: async (n) => {
        sent.push(n);
        return { ok: true, retryable: false };
      },
    });
    const clock = new ManualClock(Date.now());
    d = await startDaemon(dir, env, { clock, log: mem.log, notifiers: { slack: capture('slack'), pagerduty: capture('pagerduty'), console: capture('console') } });
    // Scheduled runs on the injected clock: a final (confirmed) auth failure is a warning to the owner on Slack.
    for (let i = 0; i < 40 && sent.length === 0; i++) {
      await advance(clock, d, 5_000, 5_000);
      await new Promise((r) => setTimeout(r, 20));
    }
  }, 30_000);

  afterAll(async () => {
    await d?.stop();
    await new Promise((r) => provider?.close(r));
  });

  it('reached the provider, which echoed it (so this test can fail)', () => {
    expect(seen[0]).toBe(`Bearer ${KEY}`);
  });

  it('is *** in /api/probes and /api/results', async () => {
    const probes = await (await fetch(`${d.url}/api/probes`)).text();
    expect(probes).toContain('Invalid credentials: *** is not a key');
    expect(probes).not.toContain(KEY);
    const results = await (await fetch(`${d.url}/api/results?probe=openai-canary`)).text();
    expect(results).toContain('***');
    expect(results).not.toContain(KEY);
  });

  it('is *** on the status page', async () => {
    for (const path of ['/', '/status/incidents', '/status/live/overview']) {
      const page = await (await fetch(d.url + path)).text();
      expect(page, path).not.toContain(KEY);
    }
  });

  it('is *** in the notification sent', () => {
    expect(sent.length).toBeGreaterThan(0);
    const text = JSON.stringify(sent);
    expect(text).toContain('***');
    expect(text).not.toContain(KEY);
  });

  it('is *** in the log', () => {
    expect(mem.text()).toContain('Invalid credentials: ***');
    expect(mem.text()).not.toContain(KEY);
  });

  it('is not in the database (results, incidents, outbox)', async () => {
    await d.stop();
    const bytes = ['vigil.db', 'vigil.db-wal'].filter((f) => existsSync(join(dir, f))).map((f) => readFileSync(join(dir, f)).toString('latin1'));
    expect(bytes.join('')).toContain('Invalid credentials');
    expect(bytes.join('')).not.toContain(KEY);
  });

  it('is *** in `vigil probe --json`', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'src/main.ts'), 'probe', 'openai-canary', '--json', '--config', dir], { env: { ...process.env, ...env } }).catch((e: { stdout: string }) => e);
    expect(stdout).toContain('Invalid credentials: ***');
    expect(stdout).not.toContain(KEY);
  }, 30_000);
});
