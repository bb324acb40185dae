// The lean parse for large config files must give what `yaml` gives (values and lines), or step aside; and a large
// file must report the same problems, at the same file, line and field, as a small one.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { fastParse } from '../../src/config/fast-yaml.ts';
import { formatErrors } from '../../src/config/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { FAST_PARSE_MIN_BYTES, lineOf, locate, parseSource } from '../../src/config/source.ts';
import { cleanup, configDir, REPO_ROOT, TEST_ENV } from './helpers.ts';

afterAll(cleanup);

const yamlValue = (text: string) => parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: true }).toJS({ maxAliasCount: 1000 });

/** Every collection at depth 1 and 2: the paths whose lines the lean parse indexes. */
function shallowPaths(v: unknown): (string | number)[][] {
  const out: (string | number)[][] = [];
  const isColl = (x: unknown) => typeof x === 'object' && x !== null;
  const entries = (x: unknown): [string | number, unknown][] => (Array.isArray(x) ? x.map((y, i) => [i, y]) : Object.entries(x as object));
  if (!isColl(v)) return out;
  for (const [a, va] of entries(v)) {
    if (!isColl(va)) continue;
    out.push([a]);
    for (const [b, vb] of entries(va)) if (isColl(vb)) out.push([a, b]);
  }
  return out;
}

function expectSameAsYaml(text: string): void {
  const fast = fastParse(text);
  expect(fast, text).not.toBeNull();
  expect(fast!.value).toStrictEqual(yamlValue(text));
  const lean = parseSource('f.yaml', text, { fastFrom: 0 }).source!;
  const full = parseSource('f.yaml', text, { fastFrom: Infinity }).source!;
  expect(lean.fast).toBeDefined();
  for (const p of shallowPaths(fast!.value)) expect(lineOf(lean, p), `${p.join('.')} in\n${text}`).toBe(locate(full, p).line);
}

describe('lean YAML parse', () => {
  it("gives yaml's values and item lines for every config file shipped in the repo", () => {
    const files = ['vigil.yaml', 'probes', 'scenarios', 'alerts', 'examples/portkey', 'deploy/compose'].flatMap(function walk(rel: string): string[] {
      const abs = path.join(REPO_ROOT, rel);
      if (fs.statSync(abs).isFile()) return [abs];
      return fs.readdirSync(abs).flatMap((n) => walk(path.join(rel, n))).filter((f) => /\.ya?ml$/.test(f));
    });
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expectSameAsYaml(fs.readFileSync(f, 'utf8'));
  });

  it('resolves scalars by the YAML 1.2 core rules yaml uses', () => {
    const scalars = [
      '0o17', '0x1F', '+5', '-7', '007', '1_000', '1.', '.5', '-.5', '1e3', '1.5E-2', '.inf', '-.Inf', '.nan', '.NaN',
      '~', 'null', 'Null', 'NULL', '', 'true', 'True', 'TRUE', 'false', 'yes', 'no', 'on', 'off', 'y', 'n',
      '2026-01-01', '2026-01-01T00:00:00Z', '12:30', '1:30:00', '0b101', '08', '1e', '+.5e2', 'nan', 'inf',
      '"quoted 1"', "'single'", '"${X}"', '${X}', 'a ${X} b', '^pong$', '"\\u00e9\\n"', "'it''s'",
    ];
    expectSameAsYaml(scalars.map((s, i) => `k${i}: ${s}`).join('\n') + '\n');
    expectSameAsYaml(`probes:\n${scalars.map((s) => `  - ${s}`).join('\n')}\n`);
    expectSameAsYaml(`flow: [${scalars.filter((s) => s !== '' && !s.startsWith('$') && !s.includes(' ${')).join(', ')}]\n`);
  });

  it('reads block scalars, multi-line plain scalars, comments and every list item style as yaml does', () => {
    expectSameAsYaml(
      [
        '# a comment',
        'probes:',
        '  - id: a   # trailing',
        '    prompt: |',
        '      line one',
        '',
        '      line three',
        '    system: >-',
        '      folded',
        '      text',
        '',
        '  -',
        '    id: b',
        '    prompt: plain',
        '      continued here',
        '  - { id: c, labels: { team: x }, assert: [{ contains: pong }] }',
        '  - id: d',
        '    assert:',
        '    - max_ttft_ms: 100',
        '    - contains: "x"',
        'defaults:',
        '',
        '  owner: x',
        'empty:',
        'list: []',
        'map: {}',
        'keep: |+',
        '  kept',
        '',
        'strip: |-',
        '  stripped',
        '"quoted key": 1',
        "'single key': 2",
      ].join('\n') + '\n',
    );
  });

  it('steps aside (null) for what it does not reproduce, so yaml reads it', () => {
    for (const text of [
      'a: &x 1\nb: *x\n', // anchors and aliases
      'a: !!str 5\n', // tags
      'base: &b { x: 1 }\nc:\n  <<: *b\n', // merge keys
      '<<: { x: 1 }\n',
      'a: 1\na: 2\n', // duplicate keys: yaml names them
      'a: [1, 2\n', // syntax error: yaml names it
      'a: 1\n---\nb: 2\n', // several documents
      '%YAML 1.1\n---\na: yes\n', // directives: yaml 1.1 reads `yes` as true
      'a: [\n  1\n]\n', // flow end at the start of a line: yaml may warn
      '1: a\n', // non-string keys
      'true: a\n',
      'null: a\n',
      ': a\n',
      '__proto__: { polluted: true }\n',
      '? [a]\n: b\n',
    ]) {
      expect(fastParse(text), text).toBeNull();
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('large config files (read by the lean parse)', () => {
  // A trailing comment makes a file large without moving anything in it.
  const pad = (text: string) => `${text}\n${'# padding to reach the lean parse\n'.repeat(Math.ceil(FAST_PARSE_MIN_BYTES / 33) + 1)}`;
  const padAll = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([k, v]) => [k, pad(v)]));
  const vigil = `providers:\n  openai:\n    kind: openai\n    api_key: "\${OPENAI_API_KEY}"\n    headers: { x-n: "\${N:-1}" }\n`;
  const probe = (id: string, extra = '') => `  - id: ${id}\n    owner: search\n    target: provider:openai\n    model: gpt-4o-mini\n    prompt: hi\n${extra}`;

  const cases: Record<string, Record<string, string>> = {
    valid: { 'vigil.yaml': vigil, 'probes/a.yaml': `probes:\n${probe('a')}${probe('b', '    max_tokens: ${MAXTOK}\n    every: "${EVERY}"\n')}  - { id: c, owner: search, target: provider:openai, model: gpt-4o-mini, prompt: hi }\n` },
    'unknown key and bad duration': { 'vigil.yaml': vigil, 'probes/a.yaml': `probes:\n${probe('a', '    evry: 30s\n')}${probe('b', '    every: 3 parsecs\n')}` },
    'duplicate id across files': { 'vigil.yaml': vigil, 'probes/a.yaml': `probes:\n${probe('a')}`, 'probes/b.yaml': `probes:\n${probe('x')}${probe('a')}` },
    'unset variable': { 'vigil.yaml': vigil, 'probes/a.yaml': `probes:\n${probe('a', '    headers: { authorization: "Bearer \${NOPE_TOKEN}" }\n')}` },
    'bad reference': { 'vigil.yaml': vigil, 'probes/a.yaml': `probes:\n${probe('a', '    prompt2: "\${1BAD}"\n')}` },
    'unknown provider': { 'vigil.yaml': vigil, 'probes/a.yaml': `probes:\n${probe('a').replace('provider:openai', 'provider:opnai')}` },
    'yaml syntax error': { 'vigil.yaml': vigil, 'probes/a.yaml': 'probes:\n  - id: x\n    target: [provider:openai\n    model: m\n' },
  };
  const env = { ...TEST_ENV, MAXTOK: '7', EVERY: '45s' };

  for (const [name, files] of Object.entries(cases)) {
    it(`reports the same problems at the same file, line and field: ${name}`, () => {
      const small = loadConfig(configDir(files), { env, allowMissingEnv: true });
      const large = loadConfig(configDir(padAll(files)), { env, allowMissingEnv: true });
      const shown = (r: typeof small) => formatErrors([...r.errors, ...r.warnings]);
      expect(shown(large)).toBe(shown(small));
      expect(large.missingEnv).toStrictEqual(small.missingEnv);
      if (name === 'valid') {
        expect(shown(small)).toBe('');
        expect(large.config!.probes).toStrictEqual(small.config!.probes);
        expect(large.config!.probes.map((p) => p.source?.line)).toStrictEqual([2, 7, 14]);
        // `max_tokens: ${MAXTOK}` unquoted reads as the number, `"${EVERY}"` stays a string.
        expect(large.config!.probes[1].maxTokens).toBe(7);
        expect(large.config!.probes[1].schedule).toMatchObject({ everyMs: 45_000 });
        expect(large.config!.providers.openai.headers).toStrictEqual({ 'x-n': '1' });
      } else {
        expect(shown(small)).not.toBe('');
      }
    });
  }

  it('reads a 3,000-probe file by the lean parse and places a broken probe at its line', () => {
    const lines = ['probes:'];
    for (let i = 0; i < 3_000; i++) lines.push(`  - { id: p${i}, owner: o, target: "provider:openai", model: m, every: 60s, prompt: hi${i === 2_222 ? ', max_tokens: many' : ''} }`);
    const text = `${lines.join('\n')}\n`;
    expect(parseSource('probes/big.yaml', text).source!.fast).toBeDefined();
    const r = loadConfig(configDir({ 'vigil.yaml': vigil, 'probes/big.yaml': text }), { env });
    expect(r.config).toBeNull();
    expect(formatErrors(r.errors)).toMatch(/^probes\/big\.yaml:2224:\d+ {2}probes\[2222\]\.max_tokens {2}/);
    const ok = loadConfig(configDir({ 'vigil.yaml': vigil, 'probes/big.yaml': text.replace(', max_tokens: many', '') }), { env });
    expect(ok.errors).toStrictEqual([]);
    expect(ok.config!.probes[2_999].source).toStrictEqual({ file: 'probes/big.yaml', line: 3_001 });
  });
});
