// Exactly-once delivery across `kill -9` mid-send, through the real daemon (`vigil run` in a child process) on
// loopback: the Slack stand-in carries out a post (the message exists, as in Slack) and never answers; the test
// kills the daemon right then and starts it again on the same files. The retried delivery finds the message by
// its marker instead of posting a second "FIRING critical"; later the resolve updates that one message. A second
// kill lands on the resolve's thread reply: after the restart the reply is not repeated. PagerDuty dedups by key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { hasOpenssl, startFakePagerDuty, startFakeSlack } from '../notifiers/fake-servers.ts';
import type { FakePagerDuty, FakeSlack, SlackCall } from '../notifiers/fake-servers.ts';
import { alertEnv } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node'); // the real binary behind the symlink: SIGKILL reaches the daemon itself
const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };

function writeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-crash-send-'));
  writeFileSync(
    join(dir, 'vigil.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: { path: ./vigil.db }
scheduler: { confirm_failures: 1, jitter: false, shutdown_grace: 1s }
providers:
  openai: { kind: openai, base_url: "\${OPENAI_BASE_URL}", api_key: "\${OPENAI_API_KEY}" }
`,
  );
  mkdirSync(join(dir, 'probes'));
  writeFileSync(
    join(dir, 'probes', 'openai.yaml'),
    `probes:
  - id: openai-canary
    owner: platform
    target: provider:openai
    model: gpt-4o-mini
    every: 2s
    prompt: "Reply with the single word: pong"
    max_tokens: 5
    assert: [{ contains: pong }]
`,
  );
  mkdirSync(join(dir, 'alerts'));
  writeFileSync(
    join(dir, 'alerts', 'routing.yaml'),
    `owners:
  platform: { slack: "#llm-oncall", pagerduty: "\${PD_PLATFORM_ROUTING_KEY}" }
receivers:
  slack: { token: "\${SLACK_BOT_TOKEN}", api_url: "\${SLACK_API_URL}" }
  pagerduty: { server: "\${PD_SERVER}" }
routes:
  - match: { severity: critical }
    notify: [slack, pagerduty]
defaults:
  group_wait: 1s
  group_interval: 1s
  availability: { failure_threshold: 1, success_threshold: 2, for: 0s }
`,
  );
  writeFileSync(join(dir, 'ca.pem'), '');
  return dir;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!hasOpenssl())('kill -9 mid-send through the daemon', () => {
  let fleet: SimFleet;
  let pd: FakePagerDuty;
  let slack: FakeSlack;
  let dir: string;
  let child: ChildProcess | null = null;
  let output = '';

  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST });
    pd = await startFakePagerDuty();
    // The daemon runs on the real clock: message ts must be real time for conversations.history's `oldest`.
    slack = await startFakeSlack({ realTime: true });
    dir = writeDir();
    writeFileSync(join(dir, 'ca.pem'), pd.ca);
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fleet?.close();
    await pd?.close();
    await slack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function start(): ChildProcess {
    const env = { ...process.env, ...simEnv(fleet.urls), ...alertEnv(pd.server, slack.apiUrl), NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'), VIGIL_LOG_LEVEL: 'warn' };
    const c = spawn(NODE, [join(ROOT, 'src/main.ts'), 'run', '--config', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d) => (output += d));
    c.stderr!.on('data', (d) => (output += d));
    child = c;
    return c;
  }

  async function kill9(c: ChildProcess): Promise<void> {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
    expect(c.signalCode).toBe('SIGKILL');
  }

  const topLevelPost = (c: SlackCall) => c.method === 'chat.postMessage' && !c.fields.thread_ts;
  const threadReply = (c: SlackCall) => c.method === 'chat.postMessage' && !!c.fields.thread_ts;
  const pdKeys = () => new Set(pd.events.map((e) => e.dedup_key));

  it('neither a trigger nor a thread reply killed mid-send is posted twice; the resolve updates the one message', async () => {
    fleet.openai.patch({ outage: true });
    // 1. Killed while Slack was posting the first page.
    const heldTrigger = slack.holdNext(topLevelPost);
    let c = start();
    await Promise.race([heldTrigger, new Promise((_, rej) => c.once('exit', () => rej(new Error(`daemon exited: ${output}`))))]);
    expect(slack.messages.size).toBe(1); // Slack has it; the daemon never heard back
    await kill9(c);

    // 2. Restarted: the row left `sending` is retried, finds the message by its marker, and takes it.
    c = start();
    await waitFor('the retried trigger to look the message up', () => slack.calls.some((x) => x.method === 'conversations.history'));
    await waitFor('the page', () => pd.events.some((e) => e.event_action === 'trigger'));
    // Firing for a while: still one message, one PagerDuty incident.
    await new Promise((r) => setTimeout(r, 3000));
    expect([...slack.messages.values()].filter((m) => /FIRING critical/.test(m.text))).toHaveLength(1);
    expect(slack.messages.size).toBe(1);
    expect(slack.calls.filter(topLevelPost)).toHaveLength(1);
    expect(pdKeys().size).toBe(1);

    // 3. Recovery; killed while Slack was posting the resolve's thread reply (after the chat.update).
    const heldReply = slack.holdNext(threadReply);
    fleet.openai.patch({ outage: false });
    await heldReply;
    const [ts, msg] = [...slack.messages][0];
    expect(msg.replies).toHaveLength(1);
    await kill9(c);

    // 4. Restarted: the resolve is retried, the message updated again (idempotent), the reply not repeated.
    c = start();
    await waitFor('the retried resolve to look in the thread', () => slack.calls.some((x) => x.method === 'conversations.replies'));
    await waitFor('the PagerDuty resolve', () => pd.events.some((e) => e.event_action === 'resolve'));
    await new Promise((r) => setTimeout(r, 3000));
    expect(slack.messages.size).toBe(1);
    expect(slack.messages.get(ts)!.text).toMatch(/RESOLVED/);
    expect(slack.messages.get(ts)!.replies).toHaveLength(1);
    expect(slack.messages.get(ts)!.replies[0]).toMatch(/^:white_check_mark: RESOLVED after /);
    expect(slack.calls.filter(threadReply)).toHaveLength(1);
    expect(pdKeys().size).toBe(1);
    expect(pd.events.at(-1)!.event_action).toBe('resolve');

    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 150_000);
});
