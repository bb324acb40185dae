// Only the keys a command needs (issue 14 item 8) and links that work (item 9), against the real CLI and daemon on
// loopback: `probe X` needs X's provider only, `alerts test` only receivers, `run` starts with the probes whose keys
// are set and reports the rest as `disabled: missing ${VAR}` in the log, /api/probes, /metrics and the status page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import { loadRunConfig } from '../../src/config/run-load.ts';
import { validateCommand } from '../../src/config/validate-cli.ts';
import { createLogger } from '../../src/log.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startFakeSlack } from '../notifiers/fake-servers.ts';
import { startVigil } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const KEYS = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GATEWAY_API_KEY', 'SLACK_BOT_TOKEN', 'PD_PLATFORM_ROUTING_KEY', 'VIGIL_PUBLIC_URL', 'VIGIL_ADMIN_TOKEN'];
const lines: string[] = [];
const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }), json: true });

/** The environment without any key (as on a fresh machine), plus `extra`. */
function bare(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of KEYS) delete env[k];
  return { ...env, ...extra };
}

/** A copy of the shipped config (so tests can add alerts or change fields). */
function shippedCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-keys-'));
  for (const f of ['vigil.yaml', 'probes', 'scenarios', 'alerts']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  dirs.push(dir);
  return dir;
}

const dirs: string[] = [];
let fleet: SimFleet;
beforeAll(async () => {
  fleet = await startSimFleet({ behaviour: { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } } });
});
afterAll(async () => {
  await fleet.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The simulator's base URLs, and only OpenAI's key. */
function openaiOnly(): Record<string, string> {
  const env = simEnv(fleet.urls);
  return {
    OPENAI_BASE_URL: env.OPENAI_BASE_URL!,
    ANTHROPIC_BASE_URL: env.ANTHROPIC_BASE_URL!,
    GEMINI_BASE_URL: env.GEMINI_BASE_URL!,
    GATEWAY_BASE_URL: env.GATEWAY_BASE_URL!,
    OPENAI_API_KEY: env.OPENAI_API_KEY!,
  };
}

describe('only the keys a command needs', () => {
  it('`probe openai-canary` runs with only OPENAI_API_KEY set', async () => {
    const v = startVigil(['probe', 'openai-canary', '--config', shippedCopy()], { env: bare(openaiOnly()) });
    const exit = await v.exited;
    expect(exit.code, v.stderr()).toBe(0);
    expect(v.stdout()).toMatch(/^openai-canary: OK/);
    expect(v.stderr()).not.toMatch(/ANTHROPIC|GEMINI|GATEWAY/);
  }, 90_000);

  it('`probe openai-canary` without OPENAI_API_KEY names that variable and nothing else', async () => {
    const v = startVigil(['probe', 'openai-canary', '--config', shippedCopy()], { env: bare() });
    const exit = await v.exited;
    expect(exit.code).toBe(2);
    expect(v.stderr().trim()).toMatch(/^vigil probe: probe openai-canary needs \$\{OPENAI_API_KEY\} \(vigil\.yaml:\d+ providers\.openai\.api_key\), which is not set$/);
  }, 90_000);

  it('`alerts test` sends through Slack with no LLM key set', async () => {
    const slack = await startFakeSlack({ token: 'xoxb-keys-test' });
    try {
      const dir = shippedCopy();
      writeFileSync(
        join(dir, 'alerts', 'routing.yaml'),
        `owners:\n  platform: { slack: "#llm-oncall" }\nreceivers:\n  slack: { token: "\${SLACK_BOT_TOKEN}", api_url: "\${SLACK_API_URL}" }\nroutes: [{ match: { severity: critical }, notify: [slack] }]\n`,
      );
      const v = startVigil(['alerts', 'test', 'platform', '--config', dir], { env: bare({ SLACK_BOT_TOKEN: 'xoxb-keys-test', SLACK_API_URL: slack.apiUrl }) });
      const exit = await v.exited;
      expect(exit.code, v.stdout() + v.stderr()).toBe(0);
      expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage']);
      expect(v.stderr()).not.toMatch(/API_KEY/);

      // Without the receiver's own token it says which one, and nothing about providers.
      const w = startVigil(['alerts', 'test', 'platform', '--config', dir], { env: bare({ SLACK_API_URL: slack.apiUrl }) });
      expect((await w.exited).code).toBe(2);
      expect(w.stderr()).toMatch(/needs \$\{SLACK_BOT_TOKEN\} \(alerts\/routing\.yaml:\d+ receivers\.slack\.token\)/);
      expect(w.stderr()).not.toMatch(/API_KEY/);
    } finally {
      await slack.close();
    }
  }, 120_000);

  it('`run` with only OPENAI_API_KEY: OpenAI probes run, the rest are reported disabled in the API, metrics and status page', async () => {
    const dir = shippedCopy();
    const env = bare({ ...openaiOnly(), VIGIL_DB: join(dir, 'v.db'), VIGIL_CHAOS_PORT: '0' });
    const d = await Daemon.start({ configDir: dir, env, log, listen: { port: 0 } });
    try {
      expect(lines.join('')).toMatch(/disabled: missing \$\{ANTHROPIC_API_KEY\}: \d+ probes \(anthropic-canary, /);
      expect(lines.join('')).toMatch(/disabled: missing \$\{GATEWAY_API_KEY\}: \d+ probes \(.*\), \d+ drills \(primary-down-fallback, /);
      const scheduled = Object.keys(d.scheduler.stats().nextPlanned);
      expect(scheduled.length).toBeGreaterThan(0);
      expect(scheduled.every((id) => d.config.probes.find((p) => p.id === id)!.target === 'provider:openai')).toBe(true);
      const results = await d.runNow();
      expect(results.length).toBe(scheduled.length);
      expect(results.find((r) => r.probeId === 'openai-canary')?.outcome).toBe('ok');

      const api = (await (await fetch(`${d.url}/api/probes`)).json()) as { probes: { id: string; state?: string }[] };
      expect(api.probes.find((p) => p.id === 'anthropic-canary')!.state).toBe('disabled: missing ${ANTHROPIC_API_KEY}');
      expect(api.probes.find((p) => p.id === 'openai-canary')!.state).toBeUndefined();
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      expect(metrics).toContain('vigil_disabled{kind="probe",name="gemini-canary",missing="GEMINI_API_KEY"} 1');
      expect(metrics).not.toMatch(/vigil_disabled\{kind="probe",name="openai-canary"/);
      const page = await (await fetch(`${d.url}/`)).text();
      expect(page).toMatch(/data-status="disabled"/);
      expect(page).toContain('missing ${ANTHROPIC_API_KEY}');
    } finally {
      await d.stop();
    }
  }, 120_000);

  it('`run --strict-env` refuses to start and names every unset variable', async () => {
    const dir = shippedCopy();
    const v = startVigil(['run', '--config', dir, '--port', '0', '--strict-env'], { env: bare({ ...openaiOnly(), VIGIL_DB: join(dir, 'v.db') }) });
    const exit = await v.exited;
    expect(exit.code).toBe(2);
    for (const k of ['ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GATEWAY_API_KEY']) expect(v.stderr()).toContain(`environment variable ${k} is not set`);
    expect(v.stderr()).not.toContain('environment variable OPENAI_API_KEY');
  }, 90_000);

  it('a variable nothing can run without (the store path) is still fatal', () => {
    const dir = shippedCopy();
    const f = join(dir, 'vigil.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('path: "${VIGIL_DB:-./data/vigil.db}"', 'path: "${VIGIL_STORE_PATH}"'));
    const r = loadRunConfig(dir, bare(openaiOnly()));
    expect(r.config).toBeNull();
    expect(r.errors.map((e) => `${e.path}: ${e.message}`)).toEqual(['storage.path: environment variable VIGIL_STORE_PATH is not set']);
  });

  it("the container's configuration (0.0.0.0, an admin token, only OPENAI_API_KEY) loads", () => {
    const r = loadRunConfig(shippedCopy(), bare({ OPENAI_API_KEY: 'sk-x', VIGIL_HOST: '0.0.0.0', VIGIL_ADMIN_TOKEN: 'a'.repeat(32) }));
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.config!.disabled!.probes).length).toBeGreaterThan(0);
  });
});

describe('links that work', () => {
  it('without public_url, notification links use the address the daemon really listens on (--port 0 included)', async () => {
    const dir = shippedCopy();
    const clock = new ManualClock(Date.UTC(2026, 2, 2, 10));
    const d = await Daemon.start({ configDir: dir, env: bare({ ...openaiOnly(), VIGIL_DB: join(dir, 'v.db'), VIGIL_CHAOS_PORT: '0' }), clock, log, listen: { port: 0 } });
    try {
      expect(d.config.server.publicUrl).toBe(d.url);
      expect(d.url).not.toContain(':9464');
      await d.incidents.ingest({ detector: 'test', key: 'links', severity: 'warning', status: 'firing', summary: 'link check', evidence: {}, labels: { owner: 'platform' }, at: clock.now() }, { forMs: 0 });
      await clock.advance(60_000); // past group_wait
      await d.incidents.evaluate();
      // No Slack token and no routing key: the owner's notification goes to the console, links and all.
      const row = d.store.db.prepare(`SELECT payload FROM outbox ORDER BY id DESC LIMIT 1`).get() as { payload: string };
      const links = (JSON.parse(row.payload) as { links: { href: string }[] }).links;
      expect(links[0].href.startsWith(`${d.url}/api/incidents/`)).toBe(true);
    } finally {
      await d.stop();
    }
  }, 90_000);

  it('validate warns when receivers are external and public_url is loopback, and not otherwise', () => {
    const run = (env: Record<string, string>) => {
      let out = '';
      validateCommand(dir, bare(env), { write: (s: string) => (out += s) }, { allowMissingEnv: true });
      return out;
    };
    const dir = shippedCopy();
    expect(run({ SLACK_BOT_TOKEN: 'xoxb-1' })).toMatch(/server\.public_url {2}warning: links in Slack notifications would point at http:\/\/127\.0\.0\.1:9464/);
    expect(run({ PD_PLATFORM_ROUTING_KEY: 'R'.repeat(32) })).toMatch(/links in PagerDuty notifications/);
    expect(run({ SLACK_BOT_TOKEN: 'xoxb-1', VIGIL_PUBLIC_URL: 'https://vigil.example.com' })).not.toContain('server.public_url');
    expect(run({})).not.toContain('server.public_url');
  });
});
