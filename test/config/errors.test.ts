// Config errors are part of the UI: their text and positions are pinned literally.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { formatErrors } from '../../src/config/errors.ts';
import { validateCommand } from '../../src/config/validate-cli.ts';
import { cleanup, configDir, sink, TEST_ENV } from './helpers.ts';

afterAll(cleanup);

/** Errors and warnings as `vigil validate` prints them. */
function problems(files: Record<string, string>, env: Record<string, string> = TEST_ENV): string {
  const r = loadConfig(configDir(files), { env });
  return formatErrors([...r.errors, ...r.warnings]);
}

const probe = (extra: string) => `probes:
  - id: a
    owner: search
    target: provider:openai
    model: gpt-4o-mini
    prompt: hi
${extra}`;

describe('config errors', () => {
  it('reports malformed YAML at the position yaml gives', () => {
    expect(problems({ 'probes/a.yaml': 'probes:\n  - id: x\n    target: [provider:openai\n    model: m\n' })).toBe(
      'probes/a.yaml:4:5  YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]; ' +
        'hint: check the indentation and quoting around this spot; quote values that contain ": " or start with "{", "[", "*", "&" or "@"',
    );
    // One root cause, not a cascade: `${` is a flow-mapping indicator when unquoted inside `{ }`.
    expect(problems({ 'vigil.yaml': 'server: { port: ${PORT} }\n' }, { PORT: '1' })).toBe(
      'vigil.yaml:1:18  YAML syntax error: Unexpected flow-map-start at node end (and 2 more YAML errors after it); ' +
        'hint: inside { } or [ ], quote a reference: "${VAR}"',
    );
    expect(problems({ 'probes/a.yaml': 'probes:\n  - id: x\n    id: y\n' })).toBe(
      'probes/a.yaml:3:5  YAML syntax error: Map keys must be unique; hint: each key may appear once per mapping; remove or rename one',
    );
  });

  it('names unknown keys at the key, with a did-you-mean', () => {
    expect(problems({ 'probes/a.yaml': probe('    evry: 30s\n    assert:\n      - ttft_ms: 2000\n') })).toBe(
      [
        'probes/a.yaml:7:5  probes[0].evry  unknown key `evry`; hint: did you mean `every`?',
        'probes/a.yaml:9:9  probes[0].assert[0].ttft_ms  unknown key `ttft_ms`; hint: did you mean `max_ttft_ms`?',
      ].join('\n'),
    );
    expect(problems({ 'vigil.yaml': 'server: { prot: 9464 }\n' })).toBe(
      'vigil.yaml:1:11  server.prot  unknown key `prot`; hint: did you mean `port`?',
    );
  });

  it("names an unknown vigil_owner (Vigil's own alerts would reach nobody), with a did-you-mean", () => {
    const alerts = 'owners:\n  platform: { slack: "#oncall" }\ndefaults:\n  vigil_owner: platfrom\n';
    expect(problems({ 'alerts/a.yaml': alerts })).toBe(
      'alerts/a.yaml:4:16  defaults.vigil_owner  owner `platfrom` has no entry under `owners` in alerts/; hint: did you mean `platform`?',
    );
    expect(problems({ 'alerts/a.yaml': alerts.replace('platfrom', 'platform') })).toBe('');
  });

  it('names an unknown gateway.owner (gateway-only failures would reach nobody), with a did-you-mean', () => {
    const alerts = 'owners:\n  gateway-team: { slack: "#gw" }\n';
    const vigil = 'gateway: { base_url: "http://127.0.0.1:4000", owner: gateway-teem }\n';
    expect(problems({ 'vigil.yaml': vigil, 'alerts/a.yaml': alerts })).toBe(
      'vigil.yaml:1:54  gateway.owner  owner `gateway-teem` has no entry under `owners` in alerts/; hint: did you mean `gateway-team`?',
    );
    expect(problems({ 'vigil.yaml': vigil.replace('teem', 'team'), 'alerts/a.yaml': alerts })).toBe('');
  });

  it('lists the known keys when nothing is close', () => {
    expect(problems({ 'vigil.yaml': 'scheduler: { zzzzzzzz: 1 }\n' })).toBe(
      'vigil.yaml:1:14  scheduler.zzzzzzzz  unknown key `zzzzzzzz`; hint: known keys here: confirm_failures, concurrency_per_provider, jitter, shutdown_grace, probe_threads',
    );
  });

  it('reports wrong types with what was found', () => {
    expect(problems({ 'probes/a.yaml': probe('    max_tokens: "five"\n    stream: yes\n    kind: canery\n    labels: { tier: 1 }\n') })).toBe(
      [
        'probes/a.yaml:7:17  probes[0].max_tokens  expected a number, got "five"',
        'probes/a.yaml:8:13  probes[0].stream  expected true or false, got "yes"',
        'probes/a.yaml:9:11  probes[0].kind  expected one of "canary", "benign", "should_refuse", got "canery"; hint: did you mean `canary`?',
        'probes/a.yaml:10:21  probes[0].labels.tier  expected a string, got the number 1; hint: quote it: "1"',
      ].join('\n'),
    );
  });

  it('requires durations as strings with units', () => {
    expect(problems({ 'probes/a.yaml': probe('    every: 60\n    timeout: { total: 30 sec }\n') })).toBe(
      [
        'probes/a.yaml:7:12  probes[0].every  expected a duration like "60s", got the number 60; hint: write a number with a unit: "250ms", "30s", "5m", "1h" or "14d"',
        'probes/a.yaml:8:23  probes[0].timeout.total  expected a duration like "60s", got "30 sec"; hint: write a number with a unit: "250ms", "30s", "5m", "1h" or "14d"',
      ].join('\n'),
    );
    expect(problems({ 'probes/a.yaml': probe('    every: 500ms\n') })).toBe('probes/a.yaml:7:12  probes[0].every  must be at least 1s');
  });

  it('names a missing variable and where it is used, and never prints secret values', () => {
    const secret = TEST_ENV.OPENAI_API_KEY;
    const files = {
      'vigil.yaml': [
        'providers:',
        '  openai: { kind: openai, api_key: "${OPENAI_API_KEY}" }',
        'gateway:',
        '  base_url: http://127.0.0.1:4000',
        '  api_key: "${GATEWAY_API_KEY}"',
        '  headers: { authorization: "Bearer ${OPENAI_API_KEY}" }',
        'server: { port: "${OPENAI_API_KEY}" }',
        '',
      ].join('\n'),
      // The secret lands in fields whose errors quote the value: it must still not appear.
      'probes/a.yaml': probe('    max_tokens: "${OPENAI_API_KEY}"\n    every: "${OPENAI_API_KEY}"\n'),
    };
    const text = problems(files);
    expect(text).toBe(
      [
        'vigil.yaml:5:12  gateway.api_key  environment variable GATEWAY_API_KEY is not set; hint: export GATEWAY_API_KEY=…, or give a default with ${GATEWAY_API_KEY:-value}',
        'vigil.yaml:7:17  server.port  expected a number, got "***"',
        'probes/a.yaml:7:17  probes[0].max_tokens  expected a number, got "***"',
        'probes/a.yaml:8:12  probes[0].every  expected a duration like "60s", got "***"; hint: write a number with a unit: "250ms", "30s", "5m", "1h" or "14d"',
      ].join('\n'),
    );
    expect(text).not.toContain(secret);
    expect(text).not.toContain('TOPSECRET');

    const out = sink();
    expect(validateCommand(configDir(files), TEST_ENV, out)).toBe(1);
    expect(out.text()).toContain('GATEWAY_API_KEY is not set');
    expect(out.text()).not.toContain('TOPSECRET');
  });

  it('reports duplicate probe ids across files, naming both places', () => {
    const one = 'probes:\n  - id: canary\n    owner: t\n    target: provider:openai\n    model: gpt-4o-mini\n    prompt: hi\n';
    expect(problems({ 'probes/a.yaml': one, 'probes/b.yaml': `# second file\n${one}` })).toBe(
      'probes/b.yaml:3:9  probes[0].id  duplicate probe id `canary`, first defined at probes/a.yaml:2:9; hint: probe ids must be unique across all files; rename one',
    );
  });

  it('rejects a target that names an unknown provider, or a gateway that is not configured', () => {
    const files = {
      'probes/a.yaml': 'probes:\n  - id: a\n    owner: t\n    target: provider:openia\n    model: gpt-4o-mini\n    prompt: hi\n' +
        '  - id: b\n    owner: t\n    target: gateway\n    model: gpt-4o-mini\n    prompt: hi\n',
    };
    expect(problems(files)).toBe(
      [
        'probes/a.yaml:4:13  probes[0].target  unknown provider `openia`; hint: did you mean `openai`? vigil.yaml providers: openai',
        'probes/a.yaml:9:13  probes[1].target  target is `gateway` but vigil.yaml has no `gateway` section; hint: add gateway: { flavour, base_url, api_key } to vigil.yaml',
      ].join('\n'),
    );
  });

  it('reports every error in every file at once, each at its line:column', () => {
    const files = {
      'vigil.yaml': 'providers:\n  openai: { kind: openia, api_key: x }\ndefaults: { every: 1 minute }\n',
      'probes/a.yaml': [
        'probes:',
        '  - id: Bad Id',
        '    target: provider:openai',
        '    model: gpt-4o-mini',
        '    every: 10s',
        '    cron: "61 * * * *"',
        '    timezone: Mars/Base',
        '    assert:',
        '      - { contains: a, regex: b }',
        '      - regex: "("',
        '      - json: false',
        '',
      ].join('\n'),
      'probes/b.yaml': 'probes:\n  - id: ok\n    owner: t\n    target: provider:anthropic\n    model: claude-haiku-4-5\n    prompt: hi\n',
      'scenarios/s.yaml': 'drill: []\n',
      'alerts/a.yaml': 'owner: {}\nroutes: {}\n',
    };
    const r = loadConfig(configDir(files), { env: TEST_ENV });
    expect(r.config).toBeNull();
    expect(formatErrors(r.errors)).toBe(
      [
        'vigil.yaml:2:19  providers.openai.kind  expected one of "openai", "anthropic", "gemini", got "openia"; hint: did you mean `openai`?',
        'vigil.yaml:3:20  defaults.every  expected a duration like "60s", got "1 minute"; hint: write a number with a unit: "250ms", "30s", "5m", "1h" or "14d"',
        'alerts/a.yaml:1:1  owner  unknown key `owner`; hint: did you mean `owners`?',
        'alerts/a.yaml:2:9  routes  expected a list, got a mapping',
        'probes/a.yaml:2:5  probes[0]  missing `prompt` or `messages`; hint: e.g. prompt: "Reply with the single word: pong"',
        "probes/a.yaml:2:5  probes[0].owner  missing required field `owner`; hint: name the team that gets this probe's alerts, or set defaults.owner in vigil.yaml",
        'probes/a.yaml:2:9  probes[0].id  not a valid probe id: "Bad Id"; hint: ids are lower-case letters, digits, "-" and "_", starting with a letter or digit, e.g. openai-canary',
        'probes/a.yaml:6:5  probes[0].cron  set either `every` or `cron`, not both; hint: remove one of them',
        'probes/a.yaml:6:11  probes[0].cron  invalid cron expression: 61 is a invalid expression for minute; hint: five fields "minute hour day-of-month month day-of-week" (or six with seconds first), e.g. "*/5 * * * *"',
        'probes/a.yaml:7:15  probes[0].timezone  unknown time zone "Mars/Base"; hint: use an IANA name such as "UTC", "Europe/Berlin" or "America/New_York"',
        'probes/a.yaml:9:9  probes[0].assert[0]  one assertion per list item, found contains and regex; hint: split them into separate `- ` items',
        'probes/a.yaml:10:16  probes[0].assert[1].regex  invalid regular expression: /(/: Unterminated group',
        'probes/a.yaml:11:15  probes[0].assert[2].json  `json` takes the value true; hint: write `json: true`; leave the assertion out otherwise',
        'probes/b.yaml:4:13  probes[0].target  unknown provider `anthropic`; hint: vigil.yaml providers: openai',
        'scenarios/s.yaml:1:1  drill  unknown key `drill`; hint: did you mean `drills`?',
      ].join('\n'),
    );
  });

  it('checks combinations that only exist once defaults are applied', () => {
    const files = {
      'vigil.yaml': MINIMAL_WITH('defaults: { timeout: { total: 10s } }\n'),
      'probes/a.yaml': probe('    timeout: { first_byte: 20s }\n    system: be brief\n    messages: [{ role: user, content: hi }]\n'),
    };
    expect(problems(files)).toBe(
      [
        'probes/a.yaml:7:28  probes[0].timeout.first_byte  timeout.first_byte (20s) is longer than timeout.total (10s); hint: the total timeout covers the whole call, so it must be the longest',
        'probes/a.yaml:8:5  probes[0].system  `system` only goes with `prompt`; hint: put a { role: system } message first in `messages` instead',
        'probes/a.yaml:9:5  probes[0].messages  set either `prompt` or `messages`, not both',
      ].join('\n'),
    );
  });

  it('warns about a model without a price, without failing', () => {
    const r = loadConfig(configDir({ 'probes/a.yaml': probe('').replace('gpt-4o-mini', 'my-finetune') }), { env: TEST_ENV });
    expect(r.errors).toEqual([]);
    expect(r.config).not.toBeNull();
    expect(formatErrors(r.warnings)).toBe(
      'probes/a.yaml:5:12  probes[0].model  warning: no price for model `my-finetune`; its cost is not estimated; ' +
        'hint: add it to vigil.yaml: pricing: { "my-finetune": { input_per_mtok: …, output_per_mtok: … } }',
    );
  });

  it('reports a missing vigil.yaml', () => {
    const r = loadConfig(configDir({ 'vigil.yaml': '' }).replace(/$/, '/nonexistent'), { env: TEST_ENV });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].message).toMatch(/^not found in /);
  });
});

function MINIMAL_WITH(extra: string): string {
  return `providers:\n  openai: { kind: openai, api_key: "\${OPENAI_API_KEY}" }\n${extra}`;
}
