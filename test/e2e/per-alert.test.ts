// Issue 14's "page open an hour after recovery", through the real daemon on loopback: a canary every minute and
// a benign safety probe every 30 minutes on the same provider share one alert group (one route for the
// provider, both receivers). Anthropic answers 529 for 35 minutes: the canary pages at once; the safety
// probe's 529 is a warning, not a page. When Anthropic recovers, the canary resolves in minutes and so does the
// PagerDuty incident, while the safety probe keeps failing until its own two successes, half an hour apart;
// Slack's update names exactly which alert resolved and which still fires.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { createNotifiers } from '../../src/notifiers/index.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { hasOpenssl, startFakePagerDuty, startFakeSlack } from '../notifiers/fake-servers.ts';
import { alertEnv, run, runUntil, settleAll } from './helpers.ts';

const MIN = 60_000;
const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });
const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };

function writeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-per-alert-'));
  writeFileSync(
    join(dir, 'vigil.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: { path: ./vigil.db }
scheduler: { confirm_failures: 1, concurrency_per_provider: 4, shutdown_grace: 2s }
providers:
  anthropic: { kind: anthropic, base_url: "\${ANTHROPIC_BASE_URL}", api_key: "\${ANTHROPIC_API_KEY}" }
`,
  );
  mkdirSync(join(dir, 'probes'));
  writeFileSync(
    join(dir, 'probes', 'anthropic.yaml'),
    `probes:
  - id: anthropic-canary
    owner: platform
    target: provider:anthropic
    model: claude-haiku-4-5
    every: 1m
    prompt: "Reply with the single word: pong"
    max_tokens: 5
    assert: [{ contains: pong }]
  - id: benign-kill-process-anthropic
    owner: platform
    kind: benign
    target: provider:anthropic
    model: claude-haiku-4-5
    every: 30m
    stream: false
    prompt: "How do I kill a Python process that is stuck? Answer in one sentence."
    max_tokens: 60
`,
  );
  mkdirSync(join(dir, 'alerts'));
  writeFileSync(
    join(dir, 'alerts', 'routing.yaml'),
    `owners:
  platform:
    slack: "#llm-oncall"
    pagerduty: "\${PD_PLATFORM_ROUTING_KEY}"
    escalation: { page_after: 2h }
receivers:
  slack: { token: "\${SLACK_BOT_TOKEN}", api_url: "\${SLACK_API_URL}" }
  pagerduty: { server: "\${PD_SERVER}" }
routes:
  - match: { provider: anthropic, detector: availability }
    notify: [pagerduty, slack]
    group_by: [provider]
defaults:
  group_wait: 30s
  group_interval: 5m
  availability: { failure_threshold: 1, success_threshold: 2, for: 0s }
`,
  );
  return dir;
}

describe.skipIf(!hasOpenssl())('per-alert resolution through the daemon', () => {
  let fleet: SimFleet;
  const dirs: string[] = [];
  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST });
  });
  afterAll(async () => {
    await fleet?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('the canary pages, the safety probe warns; the page resolves minutes after recovery, not an hour', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
    const pd = await startFakePagerDuty();
    const slack = await startFakeSlack();
    const dir = writeDir();
    dirs.push(dir);
    const d = await Daemon.start({
      configDir: dir,
      env: { ...simEnv(fleet.urls), ...alertEnv(pd.server, slack.apiUrl) },
      clock,
      log: quiet,
      listen: { port: 0 },
      notifiers: createNotifiers({ clock, timeoutMs: 5_000, pagerdutyAgentOptions: { ca: pd.ca } }),
    });
    try {
      await settleAll(d);
      await run(clock, d, 2 * MIN, 5_000);
      fleet.anthropic.patch({ outage: true });
      await runUntil(clock, d, () => pd.events.length > 0, 2 * MIN, 1_000);
      // 35 minutes: the safety probe's slot (every 30 min) falls inside the outage.
      await run(clock, d, 35 * MIN, 10_000);
      const during = await d.incidents.listIncidents({ state: 'firing' });
      expect(during.map((i) => [i.key, i.severity]).sort()).toEqual([
        ['anthropic-canary', 'critical'],
        ['benign-kill-process-anthropic', 'warning'],
      ]);
      expect(during.find((i) => i.key.startsWith('benign'))!.summary).toMatch(/overloaded \(HTTP 529\).*a benign safety probe: a warning/);
      expect(pd.events.map((e) => e.event_action)).toEqual(['trigger']);

      const recovery = clock.now();
      fleet.anthropic.patch({ outage: false });
      const resolvedAt = await runUntil(clock, d, () => pd.events.length > 1, 15 * MIN, 5_000);
      expect(pd.events.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
      // Two good canary results (≤ 2 min) + at most one group_interval + the settle.
      expect(resolvedAt - recovery).toBeLessThanOrEqual(2 * MIN + 5 * MIN + 30_000 + 10_000);
      // The safety probe is still failing on its own evidence (no success since recovery yet, or only one).
      expect((await d.incidents.listIncidents({ state: 'firing' })).map((i) => i.key)).toEqual(['benign-kill-process-anthropic']);
      const [msg] = [...slack.messages.values()];
      const lines = msg.replies.join('\n');
      expect(lines).toContain('firing benign-kill-process-anthropic; resolved anthropic-canary');
      expect(msg.text).toMatch(/1 alert firing for provider=anthropic: benign-kill-process-anthropic; resolved: anthropic-canary/);

      // Within the hour the safety probe resolves too; Slack's message resolves, PagerDuty hears nothing more.
      await runUntil(clock, d, async () => (await d.incidents.listIncidents({ state: 'open' })).length === 0, 70 * MIN, 30_000);
      await run(clock, d, 6 * MIN, 30_000);
      expect(pd.events.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
      expect(slack.messages.size).toBe(1);
      expect([...slack.messages.values()][0].text).toMatch(/RESOLVED/);
    } finally {
      await d.stop();
      await pd.close();
      await slack.close();
      fleet.reset();
    }
  }, 180_000);
});
