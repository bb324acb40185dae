// Lifecycle from every surface: Azure OpenAI (data plane and ARM), Bedrock `modelLifecycle`, Mistral
// `deprecation`, OpenRouter `expiration_date` and Gemini `modelStatus`, each parsed from the real payloads in
// ../shared/data/lifecycle (skipped when absent), then polled from vigil.yaml `model_lists:` against a loopback
// server that checks each surface's auth (api-key, Bearer, AWS SigV4) and feeds the deprecation registry.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Signal } from '../../src/domain.ts';
import { createHttpClient } from '../../src/http/client.ts';
import { Lifecycle } from '../../src/lifecycle/index.ts';
import { LifecycleParseError, dayOf, geminiModelStatus, parseAzureArm, parseAzureDataPlane, parseBedrock, parseMistral, parseOpenRouter } from '../../src/lifecycle/sources.ts';
import { parseGeminiResponse } from '../../src/providers/gemini.ts';
import { Store } from '../../src/store/store.ts';
import { cleanup, configDir } from '../config/helpers.ts';
import { HAVE_DATA, readData, readDataRaw, removeTempDirs, tempDbPath } from '../webhooks/helpers.ts';

afterAll(() => {
  cleanup();
  removeTempDirs();
});

describe('lifecycle field parsers (inline shapes)', () => {
  it('reads unix seconds, milliseconds and ISO dates as UTC days, and refuses nonsense', () => {
    expect(dayOf(1709284527)).toBe('2024-03-01');
    expect(dayOf(1709284527000)).toBe('2024-03-01');
    expect(dayOf('2026-01-31T12:00:00Z')).toBe('2026-01-31');
    expect(dayOf('2026-01-31T23:30:00-02:00')).toBe('2026-02-01');
    expect(dayOf('2026-02-31')).toBeNull();
    expect(dayOf('soon')).toBeNull();
    expect(dayOf(-5)).toBeNull();
    expect(dayOf(null)).toBeNull();
  });

  it('names dated Azure ARM versions like the ids users configure, falling back to the earliest SKU date', () => {
    const rows = parseAzureArm({
      value: [
        { model: { name: 'gpt-4o', version: '2024-05-13', lifecycleStatus: 'Deprecating', deprecation: { inference: '2026-12-09T00:00:00Z' } } },
        { model: { name: 'gpt-4o-mini', version: '2024-07-18', skus: [{ deprecationDate: '2027-05-01T00:00:00Z' }, { deprecationDate: '2027-04-14T00:00:00Z' }] } },
        { model: { version: '1' } },
        'junk',
      ],
    });
    expect(rows).toEqual([
      { id: 'gpt-4o-2024-05-13', shutdownDate: '2026-12-09', state: 'Deprecating', replacement: null },
      { id: 'gpt-4o-mini-2024-07-18', shutdownDate: '2027-04-14', state: null, replacement: null },
    ]);
  });

  it('a page without its list is an error, never an empty list', () => {
    expect(() => parseAzureDataPlane({ value: [] })).toThrow(LifecycleParseError);
    expect(() => parseBedrock({ data: [] })).toThrow(/modelSummaries/);
    expect(() => parseOpenRouter([])).toThrow(LifecycleParseError);
    expect(parseMistral({ data: [{ id: '' }, { object: 'model' }] })).toEqual([]);
  });

  it('Gemini modelStatus from a reply or on its own; other shapes are null', () => {
    expect(geminiModelStatus({ modelStatus: { modelStage: 'DEPRECATED', retirementTime: '2027-02-01T00:00:00Z' } })).toEqual({ stage: 'DEPRECATED', retireAt: '2027-02-01', message: null });
    expect(geminiModelStatus({ modelStage: 'STABLE' })).toEqual({ stage: 'STABLE', retireAt: null, message: null });
    expect(geminiModelStatus({ candidates: [] })).toBeNull();
  });
});

describe.skipIf(!HAVE_DATA)(`lifecycle payloads from ../shared/data/lifecycle${HAVE_DATA ? '' : ' (absent: skipped)'}`, () => {
  it('Azure OpenAI data plane: deprecation.inference (unix s) and lifecycle_status, fine-tunes included', () => {
    expect(parseAzureDataPlane(readData('azure_openai_dataplane_models_list.json'))).toEqual([
      { id: 'curie', shutdownDate: '2024-03-01', state: 'generally-available', replacement: null },
      { id: 'curie.ft-72a2792ef7d24ba7b82c7fe4a37e379f', shutdownDate: '2024-03-01', state: 'generally-available', replacement: null },
    ]);
  });

  it('Azure ARM: model.deprecation.inference (ISO) and lifecycleStatus', () => {
    expect(parseAzureArm(readData('azure_arm_location_models_list.json'))).toEqual([{ id: 'ada', shutdownDate: '2024-01-01', state: 'Preview', replacement: null }]);
  });

  it('Bedrock: modelLifecycle.endOfLifeTime and status', () => {
    expect(parseBedrock(readData('bedrock_list_foundation_models.json'))).toEqual([{ id: 'example.model-v1:0', shutdownDate: '2026-07-01', state: 'LEGACY', replacement: null }]);
  });

  it('Mistral: deprecation and deprecation_replacement_model, for the id and each alias', () => {
    const rows = parseMistral(readData('mistral_models_list.json'));
    expect(rows.map((r) => r.id)).toEqual(['codestral-2501', 'codestral-2412', 'codestral-2411-rc5']);
    for (const r of rows) expect(r).toMatchObject({ shutdownDate: '2026-01-31', replacement: 'codestral-latest', state: 'deprecated' });
  });

  it('OpenRouter: expiration_date (null here: no retirement announced)', () => {
    expect(parseOpenRouter(readData('openrouter_models_list.json'))).toEqual([{ id: 'openai/gpt-4', shutdownDate: null, state: null, replacement: null }]);
  });

  it('Gemini: modelStatus of a generateContent reply reaches the probe result', () => {
    const norm = parseGeminiResponse(200, {}, readDataRaw('gemini_generate_content_model_status.json'));
    expect(norm.errorClass).toBeNull();
    expect(norm.modelStatus).toEqual({ stage: 'LEGACY', retireAt: '2026-06-17', message: 'illustrative message' });
  });
});

/** A loopback stand-in for the five list endpoints: serves the shared payloads, records what each request carried. */
async function listServer(): Promise<{ url: string; seen: { path: string; headers: http.IncomingHttpHeaders }[]; close(): Promise<void> }> {
  const seen: { path: string; headers: http.IncomingHttpHeaders }[] = [];
  const files: Record<string, string> = {
    '/openai/models': 'azure_openai_dataplane_models_list.json',
    '/arm/locations/eastus/models': 'azure_arm_location_models_list.json',
    '/foundation-models': 'bedrock_list_foundation_models.json',
    '/v1/models': 'mistral_models_list.json',
    '/api/v1/models': 'openrouter_models_list.json',
  };
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    seen.push({ path, headers: req.headers });
    const file = files[path];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(readDataRaw(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise((r) => server.close(() => r())) };
}

describe.skipIf(!HAVE_DATA)('model_lists: polled from vigil.yaml into the deprecation registry', () => {
  it('polls every kind with its own auth, records dates and replacements, and counts down for consumers', async () => {
    const srv = await listServer();
    const client = createHttpClient();
    const clock = new ManualClock(Date.parse('2025-12-20T09:00:00Z'));
    const dir = configDir({
      'vigil.yaml': `model_lists:
  azure-east: { kind: azure-openai, url: "${srv.url}", api_key: "\${AZURE_OPENAI_API_KEY}" }
  azure-arm: { kind: azure-arm, url: "${srv.url}/arm/locations/eastus/models?api-version=2024-10-01", token: "\${AZURE_ARM_TOKEN}" }
  bedrock: { kind: bedrock, url: "${srv.url}", region: us-east-1, access_key_id: AKIDEXAMPLE, secret: "\${AWS_SECRET_ACCESS_KEY}", session_token: "\${AWS_SESSION_TOKEN}" }
  mistral: { kind: mistral, url: "${srv.url}", api_key: "\${MISTRAL_API_KEY}", every: 12h }
  openrouter: { kind: openrouter, url: "${srv.url}" }
consumers:
  - { id: autocomplete, owner: ide-team, models: [codestral-2412], provider: mistral }
`,
    });
    const env = { AZURE_OPENAI_API_KEY: 'az-key-123456', AZURE_ARM_TOKEN: 'arm-token-123456', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG', AWS_SESSION_TOKEN: 'sess-123456', MISTRAL_API_KEY: 'mi-key-123456' };
    const { config, errors } = loadConfig(dir, { env });
    expect(errors).toEqual([]);
    const store = Store.open(tempDbPath(), { clock });
    const signals: Signal[] = [];
    const lc = new Lifecycle({ sql: store.sql, clock, http: client, config: () => config!, sink: (s) => signals.push(s) });
    try {
      await lc.start();
      const { polls } = await lc.tick();
      expect(polls?.map((p) => [p.provider, p.ok, p.models])).toEqual([
        ['azure-east', true, 2],
        ['azure-arm', true, 1],
        ['bedrock', true, 1],
        ['mistral', true, 3],
        ['openrouter', true, 1],
      ]);
      const h = (path: string) => srv.seen.find((s) => s.path === path)!.headers;
      expect(h('/openai/models')['api-key']).toBe('az-key-123456');
      expect(h('/arm/locations/eastus/models').authorization).toBe('Bearer arm-token-123456');
      expect(h('/v1/models').authorization).toBe('Bearer mi-key-123456');
      expect(h('/api/v1/models').authorization).toBeUndefined();
      const sig = h('/foundation-models');
      expect(sig.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20251220\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
      expect(sig['x-amz-date']).toBe('20251220T090000Z'); // signed at the injected clock's time
      expect(sig['x-amz-security-token']).toBe('sess-123456');
      // Dated rows reach the registry from each list, with the provider's replacement.
      const dates = Object.fromEntries((await lc.registry.rows()).filter((r) => r.origin.startsWith('api:')).map((r) => [`${r.origin} ${r.model}`, [r.shutdownAt, r.provider, r.replacement]]));
      expect(dates).toMatchObject({
        'api:azure-east curie': ['2024-03-01', 'azure', null],
        'api:azure-arm ada': ['2024-01-01', 'azure', null],
        'api:bedrock example.model-v1:0': ['2026-07-01', 'bedrock', null],
        'api:mistral codestral-2412': ['2026-01-31', 'mistral', 'codestral-latest'],
      });
      // The consumer of the Mistral alias is 42 days out: the 90-day notice names the replacement.
      expect(signals.map((s) => [s.key, s.severity])).toContainEqual(['codestral-2412@ide-team:T-90d', 'info']);
      expect(signals.find((s) => s.key === 'codestral-2412@ide-team:T-90d')!.summary).toContain('move to codestral-latest');
      expect(await lc.table()).toMatch(/codestral-2412 +retiring +2026-01-31 +retires in 42 days +ide-team +codestral-latest/);
      // Each list keeps its own interval: six hours later only the 6-hourly ones are due, not Mistral (12 h).
      await clock.advance(6 * 3_600_000);
      expect((await lc.tick()).polls?.map((p) => p.provider)).toEqual(['azure-east', 'azure-arm', 'bedrock', 'openrouter']);
      // A past date shows as retired.
      clock.set(Date.parse('2026-02-02T00:00:00Z'));
      expect((await lc.rows()).find((r) => r.model === 'codestral-2412')).toMatchObject({ state: 'retired', daysLeft: -2 });
    } finally {
      store.close();
      await client.close();
      await srv.close();
    }
  });

  it('reports a missing credential as a config error naming the field', () => {
    const dir = configDir({ 'vigil.yaml': 'model_lists:\n  b: { kind: bedrock, region: us-east-1 }\n' });
    const { errors } = loadConfig(dir, { env: {} });
    expect(errors.map((e) => `${e.path} ${e.message}`).join("\n")).toMatch(/model_lists\.b\.access_key_id bedrock needs `access_key_id`/);
  });
});
