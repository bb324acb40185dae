import { afterAll, describe, expect, it } from 'vitest';
import { interpolateString, isSecretEnvName } from '../../src/config/interpolate.ts';
import { loadConfig } from '../../src/config/load.ts';
import { formatErrors } from '../../src/config/errors.ts';
import { isSecretField, redactConfig, redactString } from '../../src/config/redact.ts';
import { cleanup, configDir } from './helpers.ts';

afterAll(cleanup);

describe('interpolateString', () => {
  const env = { HOST: 'example.test', EMPTY: '', API_TOKEN: 'tok-abcdef' };

  it('substitutes ${VAR} and ${VAR:-default}', () => {
    expect(interpolateString('https://${HOST}/v1', env).value).toBe('https://example.test/v1');
    expect(interpolateString('${MISSING:-fallback}', env).value).toBe('fallback');
    // Like the shell's `:-`, an empty variable takes the default too.
    expect(interpolateString('${EMPTY:-fallback}', env).value).toBe('fallback');
    expect(interpolateString('${EMPTY}', env)).toMatchObject({ value: '', problems: [] });
    expect(interpolateString('${MISSING:-}', env)).toMatchObject({ value: '', problems: [] });
  });

  it('keeps $$ as a literal $ and leaves a lone $ alone', () => {
    expect(interpolateString('cost $$5 and $${HOST}', env).value).toBe('cost $5 and ${HOST}');
    expect(interpolateString('^pong$', env).value).toBe('^pong$');
  });

  it('names a missing variable', () => {
    expect(interpolateString('a ${NOPE} b', env).problems).toEqual([
      { message: 'environment variable NOPE is not set', hint: 'export NOPE=…, or give a default with ${NOPE:-value}' },
    ]);
  });

  it('rejects malformed references', () => {
    expect(interpolateString('${1BAD}', env).problems[0].message).toBe('`${1BAD}` is not a valid variable reference');
    expect(interpolateString('x ${OPEN', env).problems[0].message).toBe('unterminated `${` in value');
  });

  it('marks values of secret-looking variables', () => {
    expect(interpolateString('Bearer ${API_TOKEN}', env).secretValues).toEqual(['tok-abcdef']);
    expect(interpolateString('${HOST}', env).secretValues).toEqual([]);
    expect(['OPENAI_API_KEY', 'PD_ROUTING_KEY', 'SLACK_BOT_TOKEN', 'DB_PASSWORD', 'WEBHOOK_SECRET'].every(isSecretEnvName)).toBe(true);
    expect(isSecretEnvName('OPENAI_BASE_URL')).toBe(false);
  });
});

describe('interpolation in the loader', () => {
  it('types a plain ${VAR} as the value reads, and keeps quoted values strings', () => {
    const dir = configDir({ 'vigil.yaml': 'server:\n  port: ${PORT}\n  host: "${HOST}"\nscheduler:\n  jitter: ${JITTER}\n' });
    const { config, errors } = loadConfig(dir, { env: { PORT: '9999', HOST: '127.0.0.2', JITTER: 'false' } });
    expect(formatErrors(errors)).toBe('');
    expect(config!.server).toMatchObject({ port: 9999, host: '127.0.0.2' });
    expect(config!.scheduler.jitter).toBe(false);
    // Quoted, the same reference stays a string, and a string is not a port.
    const quoted = loadConfig(configDir({ 'vigil.yaml': 'server:\n  port: "${PORT}"\n' }), { env: { PORT: '9999' } });
    expect(formatErrors(quoted.errors)).toBe('vigil.yaml:2:9  server.port  expected a number, got "9999"');
  });

  it('interpolates through YAML anchors once, at the anchor', () => {
    const dir = configDir({
      'vigil.yaml': 'providers:\n  a: &p { kind: openai, api_key: "${K_API_KEY}" }\n  b: *p\n',
    });
    const { config } = loadConfig(dir, { env: { K_API_KEY: 'sk-anchored-secret' } });
    expect(config!.providers.b.apiKey).toBe('sk-anchored-secret');
  });

  it('redacts secret fields and values that came from secret variables, wherever they ended up', () => {
    const dir = configDir({
      'vigil.yaml': [
        'providers:',
        '  openai:',
        '    kind: openai',
        '    api_key: literal-key-in-file',
        '    headers: { x-org: "${ORG_TOKEN}-suffix", authorization: "Bearer plain" }',
        '',
      ].join('\n'),
    });
    const { config } = loadConfig(dir, { env: { ORG_TOKEN: 'org-secret-value' } });
    const printed = JSON.stringify(redactConfig(config!));
    expect(printed).not.toContain('literal-key-in-file');
    expect(printed).not.toContain('org-secret-value');
    expect(printed).not.toContain('Bearer plain');
    expect((redactConfig(config!) as any).providers.openai.headers).toEqual({ 'x-org': '***-suffix', authorization: '***' });
  });

  it('knows which field names are secret', () => {
    for (const k of ['api_key', 'apiKey', 'routing_key', 'routingKey', 'secret', 'webhook_secret', 'token', 'bot_token', 'password', 'x-api-key', 'Authorization']) {
      expect(isSecretField(k), k).toBe(true);
    }
    for (const k of ['maxTokens', 'max_tokens', 'tokensIn', 'input_per_mtok', 'dedupKey', 'key']) expect(isSecretField(k), k).toBe(false);
    expect(redactString('key=abcd1234 and abcd1234', ['abcd1234'])).toBe('key=*** and ***');
  });
});
