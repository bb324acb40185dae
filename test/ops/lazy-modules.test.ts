// What the daemon and its probe threads load at start: packages a default config never calls stay out (each
// thread holds its own copy of every module it imports), and undici is loaded by its parts, not its index.
// A fresh Node process imports the daemon's command and the probe thread's module and lists the CommonJS
// packages in its require cache; then a schema assertion loads ajv on first use.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Agent as IndexAgent, buildConnector as indexBuildConnector } from 'undici';
import { Agent, buildConnector } from '../../src/http/undici.ts';
import { compileSchema } from '../../src/classify/assertions.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpClient } from '../../src/http/client.ts';
import { fetchListSource } from '../../src/webhooks/model-lists.ts';
import type { ModelListSource } from '../../src/webhooks/model-lists.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Packages (and whether their index) in the require cache of a fresh process after `script` ran. */
function loadedAfter(script: string): string[] {
  const code = `
    import { createRequire } from 'node:module';
    import { pathToFileURL } from 'node:url';
    const at = (f) => pathToFileURL(${JSON.stringify(ROOT)} + '/' + f).href;
    ${script}
    const keys = Object.keys(createRequire(import.meta.url).cache);
    const out = new Set();
    for (const k of keys) {
      const m = k.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\/(.*)$/);
      if (m) out.add(m[2] === 'index.js' ? m[1] + ' (index)' : m[1]);
    }
    console.log(JSON.stringify([...out]));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

describe('modules loaded at start', () => {
  it('the daemon and a probe thread load neither ajv, the AWS signer, the SaaS SDKs, pg nor undici\'s index', { timeout: 60_000 }, () => {
    const loaded = loadedAfter(`await import(at('src/cli/run.ts')); await import(at('src/probes/worker.ts'));`);
    expect(loaded).toContain('undici'); // its parts
    for (const absent of ['undici (index)', 'ajv', '@smithy/signature-v4', '@pagerduty/pdjs', '@slack/web-api', 'pg']) expect(loaded).not.toContain(absent);
  });

  it('ajv loads with the first JSON schema', { timeout: 60_000 }, () => {
    const loaded = loadedAfter(`
      const { compileSchema } = await import(at('src/classify/assertions.ts'));
      compileSchema({ type: 'object' });
      compileSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' });`);
    expect(loaded).toContain('ajv');
  });

  it("undici's parts are the very classes its index exports", () => {
    expect(Agent).toBe(IndexAgent);
    expect(buildConnector).toBe(indexBuildConnector);
  });

  it('a lazily built validator still validates, per draft', () => {
    const v07 = compileSchema({ type: 'object', required: ['a'] });
    expect(v07({ a: 1 })).toBe(true);
    expect(v07({})).toBe(false);
    const v2020 = compileSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', prefixItems: [{ type: 'number' }], items: false });
    expect(v2020([1])).toBe(true);
    expect(v2020([1, 2])).toBe(false);
  });

  it('a Bedrock list loads its signer when first fetched and is signed with SigV4 at the injected time', { timeout: 30_000 }, async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ modelSummaries: [{ modelId: 'example.model-v1:0', modelLifecycle: { status: 'ACTIVE' } }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const http = createHttpClient();
    try {
      const src: ModelListSource = {
        name: 'bedrock', kind: 'bedrock', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: null, token: null,
        region: 'us-east-1', accessKeyId: 'AKIDEXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: null,
        provider: 'bedrock', everyMs: null, headers: {},
      };
      const models = await fetchListSource(http, src, undefined, Date.UTC(2026, 11, 5, 12, 0, 0));
      expect(models.map((m) => m.id)).toEqual(['example.model-v1:0']);
      expect(seen[0]['x-amz-date']).toBe('20261205T120000Z');
      expect(String(seen[0].authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261205\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    } finally {
      await http.close();
      server.close();
    }
  });
});
