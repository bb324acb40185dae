// Scenario files: schema errors at file:line:column, mapping to DrillSpec, cross-file checks; and the pure verdicts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { drillSchema } from '../../src/config/schema.ts';
import { parseSource } from '../../src/config/source.ts';
import { drillChecks, drillsOf, parseLatencyBound } from '../../src/chaos/scenario.ts';
import { conclude, judgeAttempt, steadyStateBreach } from '../../src/chaos/judge.ts';
import type { DrillExpect } from '../../src/chaos/scenario.ts';
import type { ProbeResult } from '../../src/domain.ts';
import { makeResult } from '../fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function configDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-scenarios-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const VIGIL = 'gateway: { flavour: litellm, base_url: "http://127.0.0.1:4000", api_key: k }\n';
const PROBE = `probes:
  - { id: gateway-canary, owner: platform, target: gateway, model: gpt-4o-mini, prompt: "Reply with the single word: pong" }
`;

describe('scenarios/*.yaml', () => {
  it('maps a drill (DESIGN.md shape) to a DrillSpec with defaults', () => {
    const dir = configDir({
      'vigil.yaml': VIGIL,
      'probes/p.yaml': PROBE,
      'scenarios/s.yaml': `drills:
  - id: primary-down-fallback
    owner: platform
    schedule: "0 10 * * 2"
    target: gateway
    faults:
      - { upstream: anthropic, kind: http_status, status: 529, ratio: 1.0, ttl: 2m }
    steady_state: [{ probe: gateway-canary, outcome: ok }]
    probes: [gateway-canary]
    expect: { served_by: "config.targets[1]", outcome: ok, extra_latency_ms: "< 3000", assertions: pass }
    abort: { max_duration: 90s }
`,
    });
    const { config, errors } = loadConfig(dir, { env: {} });
    expect(errors).toEqual([]);
    const { drills, problems } = drillsOf(config!);
    expect(problems).toEqual([]);
    expect(drills).toHaveLength(1);
    expect(drills[0]).toMatchObject({
      id: 'primary-down-fallback',
      owner: 'platform',
      schedule: { cron: '0 10 * * 2', timezone: 'UTC' },
      scope: 'drill',
      repeat: 3,
      intervalMs: 1000,
      expect: { servedBy: ['config.targets[1]'], outcome: 'ok', extraLatency: { op: '<', ms: 3000 }, assertions: 'pass' },
      abort: { steadyState: [], maxDurationMs: 90_000 },
      severity: 'warning',
      source: { file: 'scenarios/s.yaml', line: 2 },
    });
    expect(drills[0].faults[0]).toMatchObject({ upstream: 'anthropic', kind: 'http_status', status: 529, ratio: 1, ttl: '2m' });
  });

  it('reports mistakes at file:line:column with hints', () => {
    const dir = configDir({
      'vigil.yaml': VIGIL,
      'probes/p.yaml': PROBE,
      'scenarios/s.yaml': `drills:
  - id: bad
    schedule: "0 10 * * 2"
    manual: true
    faults:
      - { upstream: anthropic, kind: http_status, status: 529, ttl: 30m }
    probes: [gateway-canary]
    expect: { served_bye: x, extra_latency_ms: "3000" }
  - id: no-schedule
    faults: []
    probes: [gateway-canary]
`,
    });
    const { errors } = loadConfig(dir, { env: {} });
    const lines = errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.path} ${e.message}${e.hint ? ` | ${e.hint}` : ''}`);
    expect(lines).toEqual([
      'scenarios/s.yaml:4:13 drills[0].manual `manual` and `schedule` together | a drill is either scheduled or manual; drop one',
      'scenarios/s.yaml:6:69 drills[0].faults[0].ttl ttl is longer than 10m | the proxy refuses faults that could outlive a drill by that much',
      'scenarios/s.yaml:8:15 drills[0].expect.served_bye unknown key `served_bye` | did you mean `served_by`?',
      'scenarios/s.yaml:8:48 drills[0].expect.extra_latency_ms expected a bound like "< 3000", got "3000" | milliseconds after "<" or "<=", e.g. extra_latency_ms: "< 3000"',
      'scenarios/s.yaml:9:5 drills[1] missing `schedule` or `manual: true` | e.g. schedule: "0 10 * * 2" (Tuesdays 10:00 UTC) or manual: true',
      'scenarios/s.yaml:10:13 drills[1].faults a drill needs at least one fault | e.g. - { upstream: anthropic, kind: http_status, status: 529, ttl: 2m }, or native: litellm_mock_fallbacks',
    ]);
  });

  it('drillChecks: unknown probes and a target mismatch, at their position', () => {
    const text = `drills:
  - id: d
    manual: true
    target: provider:openai
    faults: [{ upstream: anthropic, kind: reset }]
    steady_state: [{ probe: gateway-canry }]
    probes: [gateway-canary]
`;
    const { source } = parseSource('scenarios/d.yaml', text);
    const raw = (source!.doc.toJS() as { drills: unknown[] }).drills[0];
    const probeSrc = parseSource('probes/p.yaml', PROBE).source!;
    const probeRaw = (probeSrc.doc.toJS() as { probes: Record<string, unknown>[] }).probes[0];
    const errors = drillChecks({
      vigil: null,
      probes: [{ src: probeSrc, path: ['probes', 0], raw: probeRaw, data: { ...probeRaw, kind: 'canary' } as never }],
      drills: [{ src: source!, path: ['drills', 0], raw, data: drillSchema.parse(raw) }],
    });
    expect(errors.map((e) => `${e.line}:${e.column} ${e.message}${e.hint ? ` | ${e.hint}` : ''}`)).toEqual([
      '7:14 probe `gateway-canary` has target gateway, the drill says provider:openai',
      '6:29 unknown probe `gateway-canry` | did you mean `gateway-canary`?',
    ]);
  });

  it('the shipped scenarios and the Portkey example load cleanly', () => {
    const env = { OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k', GEMINI_API_KEY: 'k', GATEWAY_API_KEY: 'k', SLACK_BOT_TOKEN: 'x', PD_PLATFORM_ROUTING_KEY: 'x', PD_SEARCH_ROUTING_KEY: 'x' };
    for (const dir of ['.', 'examples/portkey']) {
      const { config, errors } = loadConfig(path.resolve(dir), { env, allowMissingEnv: true });
      expect(errors.filter((e) => e.file.startsWith('scenarios') || e.file.startsWith('probes')), dir).toEqual([]);
      if (!config) continue;
      const { drills, problems } = drillsOf(config);
      expect(problems, dir).toEqual([]);
      expect(drills.length, dir).toBeGreaterThan(0);
    }
  });
});

// ---- pure verdicts ----

function result(over: Partial<ProbeResult> = {}, gw: Partial<NonNullable<ProbeResult['gateway']>> = {}): ProbeResult {
  return makeResult({
    probeId: 'gateway-canary',
    startedAt: 0,
    target: 'gateway',
    provider: 'gateway',
    requestedModel: 'm',
    servedModel: 'gpt-4o-mini-2024-07-18',
    timings: { connectMs: 0, tlsMs: null, ttfbMs: 100, ttftMs: 150, totalMs: 200, outputTokensPerSec: null },
    tokensIn: 1,
    gateway: { servedBy: 'config.targets[1]', provider: 'openai', attemptedFallbacks: null, retryAttempts: 0, raw: {}, ...gw },
    ...over,
  });
}

const EXPECT: DrillExpect = { servedBy: ['config.targets[1]'], model: 'gpt-4o-mini*', provider: 'openai', outcome: 'ok', extraLatency: parseLatencyBound('< 500'), assertions: 'pass' };

describe('judge', () => {
  it('classifies each attempt', () => {
    expect(judgeAttempt(result(), EXPECT, 1)).toMatchObject({ ok: true, failure: null, latencyMs: 150 });
    expect(judgeAttempt(result({ outcome: 'failed', errorClass: 'overloaded', httpStatus: 529 }), EXPECT, 1)).toMatchObject({ failure: 'no_fallback' });
    expect(judgeAttempt(result({}, { servedBy: 'config.targets[0]' }), EXPECT, 1)).toMatchObject({ failure: 'wrong_target' });
    expect(judgeAttempt(result({}, { provider: 'anthropic' }), EXPECT, 1)).toMatchObject({ failure: 'wrong_target' });
    expect(judgeAttempt(result({ servedModel: 'claude-sonnet-4-5' }), EXPECT, 1)).toMatchObject({ failure: 'wrong_target' });
    // Portkey's truncated "success": a 200 stream cut mid-way is a bad answer, never a pass.
    expect(judgeAttempt(result({ outcome: 'failed', errorClass: 'malformed' }), EXPECT, 1)).toMatchObject({ failure: 'bad_answer' });
    expect(judgeAttempt(result({ outcome: 'failed', errorClass: 'assertion', errorMessage: 'contains "pong": text was "ping"' }), EXPECT, 1)).toMatchObject({ failure: 'bad_answer' });
    expect(judgeAttempt(result({ outcome: 'failed', errorClass: 'assertion' }), { ...EXPECT, assertions: 'ignore' }, 1)).toMatchObject({ ok: true });
    expect(judgeAttempt(result({ outcome: 'degraded', errorMessage: 'slow' }), EXPECT, 1)).toMatchObject({ failure: 'bad_answer' });
    expect(judgeAttempt(result({ outcome: 'degraded' }), { ...EXPECT, outcome: 'ok_or_degraded' }, 1)).toMatchObject({ ok: true });
    expect(judgeAttempt(result({}, { servedBy: null }), EXPECT, 1).detail).toContain('did not say which target served');
  });

  it('concludes with the latency budget: median during the fault minus the baseline', () => {
    const attempts = [120, 150, 900].map((t, i) => judgeAttempt(result({ timings: { ...result().timings, ttftMs: t } }), EXPECT, i + 1));
    expect(conclude(attempts, EXPECT, 100)).toMatchObject({ verdict: 'passed', fallbackLatencyMs: 50, servedBy: 'config.targets[1]' });
    const slow = conclude(attempts, EXPECT, -500);
    expect(slow).toMatchObject({ verdict: 'failed', failure: 'too_slow', fallbackLatencyMs: 650 });
    expect(conclude(attempts, { ...EXPECT, extraLatency: parseLatencyBound('<= 50') }, 100).verdict).toBe('passed');
    expect(conclude([], EXPECT, 100)).toMatchObject({ verdict: 'failed', failure: 'no_fallback' });
  });

  it('steady state: outcome and, when asked, the serving target', () => {
    expect(steadyStateBreach({ probe: 'p', outcome: 'ok', servedBy: null }, result())).toBeNull();
    expect(steadyStateBreach({ probe: 'p', outcome: 'ok', servedBy: null }, result({ outcome: 'degraded' }))).toContain('p was degraded');
    expect(steadyStateBreach({ probe: 'p', outcome: 'ok_or_degraded', servedBy: null }, result({ outcome: 'degraded' }))).toBeNull();
    expect(steadyStateBreach({ probe: 'p', outcome: 'ok', servedBy: 'config.targets[0]' }, result())).toBe('p was served by config.targets[1], expected config.targets[0]');
  });
});
