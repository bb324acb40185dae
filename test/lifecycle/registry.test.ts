// The shipped retirement table against its source extract, the registry's merge rules, model matching,
// and the vigil.yaml shapes (webhooks, consumers, deprecations) with their errors.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { formatErrors } from '../../src/config/errors.ts';
import { redactConfig } from '../../src/config/redact.ts';
import { KNOWN_RETIREMENTS } from '../../src/lifecycle/known-retirements.ts';
import { buildInventory, consumersFromConfig, usersOf, usesModel } from '../../src/lifecycle/inventory.ts';
import type { ModelUser } from '../../src/lifecycle/types.ts';
import { globMatch, isSnapshotOf, satisfiedBy } from '../../src/lifecycle/match.ts';
import { deprecationsFromConfig, effective, shippedDeprecations } from '../../src/lifecycle/registry.ts';
import { webhookSources } from '../../src/webhooks/config.ts';
import { parseNotice } from '../../src/webhooks/notice.ts';
import { geminiRetirement } from '../../src/webhooks/model-lists.ts';
import { cleanup, configDir, MINIMAL_VIGIL, TEST_ENV } from '../config/helpers.ts';
import { HAVE_DATA, endpoint, probe, readData } from '../webhooks/helpers.ts';

afterAll(cleanup);

describe('shipped retirement table', () => {
  it('names a source URL and the date it was read for every row; provider-page rows were read on 2026-12-04', () => {
    for (const k of KNOWN_RETIREMENTS) {
      expect(k.source).toMatch(/^https:\/\//);
      expect(k.url).toMatch(/^https:\/\//);
      expect(k.shutdownAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(k.noted, k.model).toBe(k.source.includes('BerriAI/litellm') ? '2026-07-24' : '2026-12-04');
    }
    const ids = KNOWN_RETIREMENTS.map((k) => `${k.provider}:${k.model}`);
    expect(new Set(ids).size, 'one row per model').toBe(ids.length);
  });

  it('takes vendor dates over LiteLLM where they disagree, and names the replacement the provider names', () => {
    const deps = effective(shippedDeprecations());
    const by = (m: string) => deps.find((d) => d.model === m)!;
    expect(by('claude-opus-4-20250514')).toMatchObject({ shutdownAt: '2026-06-15', replacement: 'claude-opus-4-8', disagreement: false });
    expect(by('claude-3-opus-20240229')).toMatchObject({ shutdownAt: '2026-01-05', disagreement: false });
    expect(by('gpt-4o-mini-2024-07-18')).toMatchObject({ shutdownAt: '2027-01-14', replacement: 'gpt-6-luna', provider: 'openai' });
    expect(by('gemini-2.5-flash')).toMatchObject({ shutdownAt: '2026-12-01', replacement: 'gemini-3.5-flash-lite' });
  });

  it.skipIf(!HAVE_DATA)('has every LiteLLM-sourced row exactly as in the extract (no invented dates)', () => {
    const extract = readData<{ rows: { model: string; litellm_provider: string; deprecation_date: string }[] }>('litellm_deprecation_dates.json');
    const lite = KNOWN_RETIREMENTS.filter((k) => k.source.includes('BerriAI/litellm'));
    expect(lite.length).toBeGreaterThan(0);
    for (const k of lite) {
      const prefixed = k.provider === 'gemini' ? `gemini/${k.model}` : k.model;
      const row = extract.rows.find((r) => r.model === prefixed && r.litellm_provider === k.provider);
      expect([k.model, row?.deprecation_date]).toEqual([k.model, k.shutdownAt]);
    }
  });
});

describe('registry merge', () => {
  it('takes the earliest date, and the replacement and link from the most trusted origin', () => {
    const [d] = effective([
      { model: 'models/gemini-2.0-flash', provider: 'gemini', shutdownAt: '2026-06-01', replacement: null, url: 'https://a', origin: 'shipped:x' },
      { model: 'gemini-2.0-flash', provider: null, shutdownAt: '2026-07-01', replacement: 'gemini-2.5-flash', url: 'https://b', origin: 'config' },
    ]);
    expect(d).toEqual({
      model: 'gemini-2.0-flash',
      provider: 'gemini',
      shutdownAt: '2026-06-01',
      replacement: 'gemini-2.5-flash',
      url: 'https://b',
      dates: { config: '2026-07-01', 'shipped:x': '2026-06-01' },
      disagreement: true,
    });
  });
});

describe('model matching', () => {
  it('treats dated snapshots as satisfying an alias, and nothing else', () => {
    expect(isSnapshotOf('claude-haiku-4-5', 'claude-haiku-4-5-20251001')).toBe(true);
    expect(isSnapshotOf('claude-3-5-haiku-latest', 'claude-3-5-haiku-20241022')).toBe(true);
    expect(isSnapshotOf('gpt-4o-mini', 'gpt-4o-mini-2024-07-18')).toBe(true);
    expect(isSnapshotOf('gemini-2.0-flash', 'gemini-2.0-flash-001')).toBe(true);
    expect(isSnapshotOf('gpt-4o', 'gpt-4o-mini-2024-07-18')).toBe(false);
    expect(isSnapshotOf('gpt-4o', 'gpt-4o-audio-preview')).toBe(false);
    expect(satisfiedBy('gpt-4o-mini', new Set(['gpt-4o-mini', 'gpt-4o-mini-2024-07-18']))).toBe('gpt-4o-mini');
    expect(satisfiedBy('models/gemini-2.0-flash', new Set(['gemini-2.0-flash-001', 'gemini-2.0-flash-002']))).toBe('gemini-2.0-flash-002');
    expect(satisfiedBy('claude-x', new Set(['claude-y']))).toBeNull();
    expect(globMatch('claude-*', 'claude-sonnet-4-5')).toBe(true);
    expect(globMatch('claude-*', 'xclaude-')).toBe(false);
    expect(globMatch('a.b', 'axb')).toBe(false);
  });

  it('finds users by exact id, served snapshot, -latest alias and consumer pattern, per provider kind', () => {
    const users = buildInventory({
      probes: [
        probe({ id: 'p-alias', owner: 'a', target: 'provider:anthropic', model: 'claude-3-5-haiku-latest' }),
        probe({ id: 'p-served', owner: 'b', target: 'provider:openai', model: 'gpt-4o' }),
        probe({ id: 'p-gw', owner: 'c', target: 'gateway', model: 'gpt-4o-2024-05-13' }),
      ],
      endpoints: {
        'provider:anthropic': endpoint('anthropic', 'anthropic', 'http://127.0.0.1:1'),
        'provider:openai': endpoint('openai', 'openai', 'http://127.0.0.1:1'),
        gateway: endpoint('gateway', 'gateway', 'http://127.0.0.1:1'),
      },
      consumers: consumersFromConfig([{ value: { id: 'svc', owner: 'd', models: ['claude-3-5-*'], provider: 'anthropic' }, source: { file: 'vigil.yaml', line: 1 } }]),
      served: new Map([['p-served', 'gpt-4o-2024-05-13']]),
    });
    expect(usersOf(users, { model: 'claude-3-5-haiku-20241022', provider: 'anthropic' }).map((u) => u.id)).toEqual(['p-alias', 'svc']);
    expect(usersOf(users, { model: 'gpt-4o-2024-05-13', provider: 'openai' }).map((u) => u.id)).toEqual(['p-served', 'p-gw']);
    // A different provider's retirement of the same id does not reach the direct OpenAI probe.
    expect(usersOf(users, { model: 'gpt-4o-2024-05-13', provider: 'anthropic' }).map((u) => u.id)).toEqual(['p-gw']);
  });

  it('the indexed look-up gives what testing every user gives, in the same order (random inventories)', () => {
    const ids = ['gpt-4o', 'gpt-4o-2024-05-13', 'models/gemini-2.0-flash-001', 'gemini-2.0-flash-001', 'openai/gpt-4o', 'claude-3-5-haiku-latest', 'claude-3-5-haiku-20241022', 'claude-3-5-*', 'gpt-*'];
    const kinds = ['openai', 'anthropic', 'gemini', null];
    let seed = 7;
    const pick = <T,>(xs: readonly T[]): T => xs[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % xs.length];
    for (let round = 0; round < 50; round++) {
      const users: ModelUser[] = Array.from({ length: 40 }, (_, i) => ({
        kind: pick(['probe', 'consumer'] as const),
        id: `u${i}`,
        owner: pick(['a', 'b']),
        model: pick(ids),
        providerKind: pick(kinds),
        providerName: null,
        served: pick([null, ...ids]),
      }));
      for (const model of ids.filter((m) => !m.includes('*'))) {
        for (const provider of kinds) {
          const brute = users.filter((u) => usesModel(u, model, provider));
          expect(usersOf(users, { model, provider })).toEqual(brute);
        }
      }
    }
  });
});

describe('notices and in-band lifecycle', () => {
  it('parses the documented notice, a list of them, and rejects bad dates', () => {
    expect(parseNotice({ model: 'm', shutdown_at: '2026-10-23T15:00:00-08:00', url: 'https://x' }, 'openai')).toEqual({
      ok: true,
      notices: [{ model: 'm', provider: 'openai', shutdownAt: '2026-10-23', replacement: null, url: 'https://x' }],
    });
    expect(parseNotice({ notices: [{ model: 'a', shutdown_at: '2026-01-01' }, { model: 'b', shutdown_at: '2026-02-01', provider: 'gemini' }] }, null)).toMatchObject({ ok: true, notices: [{ model: 'a' }, { model: 'b', provider: 'gemini' }] });
    expect(parseNotice({ model: 'm', shutdown_at: '2026-02-31' }, null)).toMatchObject({ ok: false });
    expect(parseNotice({ model: 'm', shutdown_at: 'next week' }, null)).toMatchObject({ ok: false });
    expect(parseNotice({ shutdown_at: '2026-01-01' }, null)).toMatchObject({ ok: false });
  });

  it.skipIf(!HAVE_DATA)('reads Gemini modelStatus retirementTime', () => {
    const reply = readData<{ modelStatus: unknown }>('gemini_generate_content_model_status.json');
    expect(geminiRetirement(reply.modelStatus)).toEqual({ stage: 'LEGACY', retireAt: '2026-06-17' });
    expect(geminiRetirement(undefined)).toBeNull();
  });
});

describe('vigil.yaml shapes', () => {
  const vigil = (extra: string) => `${MINIMAL_VIGIL}${extra}`;
  const env = { ...TEST_ENV, OPENAI_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', STATUS_TOKEN: 'tok-0123456789abcdef' };

  it('loads webhooks, consumers and deprecations, and masks the secrets', () => {
    const r = loadConfig(
      configDir({
        'vigil.yaml': vigil(`webhooks:
  openai:
    kind: standard-webhooks
    secret: "\${OPENAI_WEBHOOK_SECRET}"
    tolerance: 10m
  claude-status:
    kind: statuspage
    token: "\${STATUS_TOKEN}"
    provider: anthropic
    page_id: tymt9n04zgry
    components:
      "Claude API": { models: ["claude-*"] }
  notices:
    kind: generic
    secret: literal-notice-secret-123
consumers:
  - { id: search-rerank, owner: search-team, models: [gpt-4o-mini], provider: openai }
deprecations:
  - { model: gpt-4o-2024-05-13, shutdown_at: "2026-10-23", replacement: gpt-4.1, url: "https://developers.openai.com/api/docs/deprecations" }
`),
      }),
      { env },
    );
    expect(formatErrors(r.errors)).toBe('');
    const sources = webhookSources(r.config!.webhooks);
    expect(sources.get('openai')).toMatchObject({ kind: 'standard-webhooks', toleranceMs: 600_000, secrets: [env.OPENAI_WEBHOOK_SECRET], maxBody: 262144 });
    expect(sources.get('claude-status')).toMatchObject({ kind: 'statuspage', pageId: 'tymt9n04zgry', components: { 'Claude API': { provider: null, models: ['claude-*'] } } });
    expect(deprecationsFromConfig(r.config!.deprecations)).toEqual([
      { model: 'gpt-4o-2024-05-13', provider: null, shutdownAt: '2026-10-23', replacement: 'gpt-4.1', url: 'https://developers.openai.com/api/docs/deprecations', origin: 'config' },
    ]);
    const printed = JSON.stringify(redactConfig(r.config!));
    for (const secret of [env.OPENAI_WEBHOOK_SECRET, env.STATUS_TOKEN, 'literal-notice-secret-123']) expect(printed).not.toContain(secret);
  });

  it('reports each mistake at its line with the reason', () => {
    const r = loadConfig(
      configDir({
        'vigil.yaml': vigil(`webhooks:
  a:
    kind: statuspage
    token: tooShort1
    secret: x
  b:
    kind: standard-webhooks
  c:
    kind: generic
    secret: s
    page_id: x
    tolrance: 5m
  d:
    kind: standard-webhooks
    secret: "not base64!"
consumers:
  - { id: x, owner: y, models: [] }
deprecations:
  - { model: m, shutdown_at: "2026-02-31" }
  - { model: m, shutdown_at: 2026-10-23, replacment: n }
`),
      }),
      { env },
    );
    expect(formatErrors(r.errors)).toBe(
      [
        'vigil.yaml:8:12  webhooks.a.token  token is too short; hint: use at least 16 random characters, e.g. `openssl rand -hex 16`',
        'vigil.yaml:9:13  webhooks.a.secret  `secret` does not apply to kind statuspage',
        'vigil.yaml:11:5  webhooks.b.secret  missing required field `secret`; hint: the "whsec_…" signing secret, e.g. "${OPENAI_WEBHOOK_SECRET}"',
        'vigil.yaml:15:14  webhooks.c.page_id  `page_id` does not apply to kind generic',
        'vigil.yaml:16:5  webhooks.c.tolrance  unknown key `tolrance`; hint: did you mean `tolerance`?',
        'vigil.yaml:19:13  webhooks.d.secret  not a Standard Webhooks secret; hint: expected "whsec_" followed by base64, as shown by the sender',
        'vigil.yaml:21:32  consumers[0].models  needs at least 1 item',
        'vigil.yaml:23:30  deprecations[0].shutdown_at  expected a date like "2026-10-23", got "2026-02-31"; hint: write the date as YYYY-MM-DD (UTC); quote it',
        'vigil.yaml:24:42  deprecations[1].replacment  unknown key `replacment`; hint: did you mean `replacement`?',
      ].join('\n'),
    );
  });
});
