// The example config in the repository root is what users copy and what the demo runs: it must load,
// cover every provider, and keep its secrets out of every printable form.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { loadConfig } from '../../src/config/load.ts';
import { formatErrors } from '../../src/config/errors.ts';
import { redactConfig } from '../../src/config/redact.ts';
import { configJsonSchema, fileJsonSchema } from '../../src/config/json-schema.ts';
import { validateCommand } from '../../src/config/validate-cli.ts';
import { REPO_ROOT, sink } from './helpers.ts';

const SECRETS = {
  OPENAI_API_KEY: 'sk-openai-SECRET-1111',
  ANTHROPIC_API_KEY: 'sk-ant-SECRET-2222',
  GEMINI_API_KEY: 'gem-SECRET-3333',
  GATEWAY_API_KEY: 'gw-SECRET-4444',
};
// What the demo sets: every provider pointed at the simulator.
const DEMO_ENV = {
  ...SECRETS,
  OPENAI_BASE_URL: 'http://127.0.0.1:41001',
  ANTHROPIC_BASE_URL: 'http://127.0.0.1:41002',
  GEMINI_BASE_URL: 'http://127.0.0.1:41003',
  GATEWAY_BASE_URL: 'http://127.0.0.1:41004',
};

describe('shipped config', () => {
  it('loads without errors or warnings', () => {
    const r = loadConfig(REPO_ROOT, { env: SECRETS });
    expect(formatErrors([...r.errors, ...r.warnings])).toBe('');
    expect(r.config).not.toBeNull();
  });

  it('has a streaming and a non-streaming canary per provider and a gateway canary, on the real models', () => {
    const { config } = loadConfig(REPO_ROOT, { env: SECRETS });
    const probes = config!.probes;
    // The canaries; the safety probe sets (kind benign / should_refuse) have their own tests.
    const byTarget = (t: string) => probes.filter((p) => p.target === t && p.kind === 'canary');
    for (const [target, model] of [
      ['provider:openai', 'gpt-4o-mini'],
      ['provider:anthropic', 'claude-haiku-4-5'],
      ['provider:gemini', 'gemini-2.5-flash'],
    ]) {
      const ps = byTarget(target);
      expect(ps.map((p) => p.stream).sort(), target).toEqual([false, true]);
      expect(new Set(ps.map((p) => p.model)), target).toEqual(new Set([model]));
    }
    expect(byTarget('gateway')).toHaveLength(1);
    for (const p of probes) {
      expect(config!.endpoints[p.target], p.id).toBeDefined();
      expect(p.assertions.length, p.id).toBeGreaterThan(0);
    }
  });

  it('maps to the domain types', () => {
    const { config } = loadConfig(REPO_ROOT, { env: DEMO_ENV });
    const canary = config!.probes.find((p) => p.id === 'openai-canary')!;
    expect(canary).toMatchObject({
      owner: 'platform',
      target: 'provider:openai',
      model: 'gpt-4o-mini',
      kind: 'canary',
      stream: true,
      maxTokens: 5,
      temperature: 0,
      messages: [{ role: 'user', content: 'Reply with the single word: pong' }],
      schedule: { everyMs: 60_000, timezone: 'UTC' },
      timeouts: { connectMs: 5_000, firstByteMs: 20_000, totalMs: 30_000 },
      labels: { tier: 'gold' },
      assertions: [{ contains: 'pong' }, { refusal: 'forbidden' }, { max_ttft_ms: 5000 }],
      source: { file: 'probes/openai.yaml', line: 3 },
    });
    // Inherited defaults.
    const nostream = config!.probes.find((p) => p.id === 'anthropic-canary-nostream')!;
    expect(nostream.timeouts).toEqual({ connectMs: 5_000, firstByteMs: 30_000, totalMs: 60_000 });
    expect(config!.providers.openai).toEqual({
      name: 'openai',
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:41001',
      apiKey: SECRETS.OPENAI_API_KEY,
      headers: {},
    });
    expect(config!.providers.anthropic.apiVersion).toBe('2023-06-01');
    expect(config!.endpoints.gateway).toMatchObject({ kind: 'gateway', baseUrl: 'http://127.0.0.1:41004', apiKey: SECRETS.GATEWAY_API_KEY });
    expect(config!.gateway?.flavour).toBe('litellm');
    expect(config!.storage.path).toBe(path.join(REPO_ROOT, 'data/vigil.db'));
    expect(config!.scheduler).toEqual({ confirmFailures: 1, concurrencyPerProvider: 4, jitter: true, shutdownGraceMs: 10_000, probeThreads: 1 });
  });

  it('falls back to the public APIs when no base URL is set', () => {
    const { config } = loadConfig(REPO_ROOT, { env: SECRETS });
    expect(config!.providers.openai.baseUrl).toBe('https://api.openai.com');
    expect(config!.providers.gemini.baseUrl).toBe('https://generativelanguage.googleapis.com');
  });

  it('never shows secrets in its printable form', () => {
    const { config } = loadConfig(REPO_ROOT, { env: SECRETS });
    const printed = JSON.stringify(redactConfig(config!));
    for (const secret of Object.values(SECRETS)) expect(printed).not.toContain(secret);
    expect((redactConfig(config!) as any).providers.openai.apiKey).toBe('***');
    // Redaction copies: the live config keeps its keys.
    expect(config!.providers.openai.apiKey).toBe(SECRETS.OPENAI_API_KEY);
  });

  it('validates with exit 0 and prints the cost table', () => {
    const out = sink();
    expect(validateCommand(REPO_ROOT, SECRETS, out)).toBe(0);
    const text = out.text();
    expect(text).toMatch(/^PROBE\s+TARGET\s+MODEL\s+SCHEDULE\s+RUNS\/MONTH\s+EST\. \$\/RUN\s+EST\. \$\/MONTH$/m);
    expect(text).toMatch(/^openai-canary\s+provider:openai\s+gpt-4o-mini\s+every 1m\s+43,830\s+\$0\.0000052\s+\$0\.23$/m);
    const probes = loadConfig(REPO_ROOT, { env: SECRETS }).config!.probes.length;
    expect(text).toMatch(new RegExp(`^TOTAL \\(${probes} probes\\)\\s+[\\d,]+\\s+\\$\\d+\\.\\d\\d$`, 'm'));
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  });

  it('without keys, fails by default and passes with allowMissingEnv', () => {
    const strict = sink();
    expect(validateCommand(REPO_ROOT, {}, strict)).toBe(1);
    expect(strict.text()).toContain('vigil.yaml:40:14  providers.openai.api_key  environment variable OPENAI_API_KEY is not set');
    const lenient = sink();
    expect(validateCommand(REPO_ROOT, {}, lenient, { allowMissingEnv: true })).toBe(0);
    expect(lenient.text()).toContain('warning: environment variable OPENAI_API_KEY is not set');
  });
});

describe('JSON Schema export', () => {
  const compile = (schema: object) => new Ajv2020({ strict: false, allErrors: true }).compile(schema);
  const files = (dir: string) => fs.readdirSync(path.join(REPO_ROOT, dir)).map((f) => path.join(dir, f));
  const cases = [
    ['vigil', ['vigil.yaml']],
    ['probes', files('probes')],
    ['scenarios', files('scenarios')],
    ['alerts', files('alerts')],
  ] as const;

  it.each(cases)('%s schema accepts the shipped files (schema and loader agree)', (kind, rels) => {
    const validate = compile(fileJsonSchema(kind));
    expect(rels.length).toBeGreaterThan(0);
    for (const rel of rels) {
      const data = parse(fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8')) ?? {};
      expect(validate(data) ? [] : validate.errors, rel).toEqual([]);
    }
  });

  it('rejects what the loader rejects: unknown keys, unit-less durations, two assertion keys', () => {
    const validate = compile(configJsonSchema().probes);
    const ok = { probes: [{ id: 'a', target: 'gateway', model: 'm', prompt: 'hi', every: '30s', assert: [{ contains: 'x' }] }] };
    expect(validate(ok)).toBe(true);
    const bad = [
      { probes: [{ ...ok.probes[0], evry: '30s' }] },
      { probes: [{ ...ok.probes[0], every: 30 }] },
      { probes: [{ ...ok.probes[0], every: '30 sec' }] },
      { probes: [{ ...ok.probes[0], assert: [{ contains: 'x', regex: 'y' }] }] },
      { probes: [{ ...ok.probes[0], target: 'openai' }] },
    ];
    for (const b of bad) expect(validate(b), JSON.stringify(b)).toBe(false);
    // As written, before interpolation: a reference may stand for any constrained value.
    expect(validate({ probes: [{ ...ok.probes[0], every: '${PROBE_EVERY:-30s}', max_tokens: '${MAX}' }] })).toBe(true);
  });

  it('describes fields for editors', () => {
    const s = configJsonSchema().vigil as any;
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.properties.defaults.properties.every.description).toMatch(/unit/);
    expect(s.properties.providers.additionalProperties.properties.api_key.description).toMatch(/Never printed/);
  });
});
