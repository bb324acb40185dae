// The webhook intake over real loopback HTTP: each kind of bad request gets its 4xx and leaves every table
// as it was; good ones are stored, processed once, and turned into registry rows or signals.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signGeneric } from '../../src/webhooks/hmac.ts';
import { signStandard } from '../../src/webhooks/standard.ts';
import {
  GENERIC_SECRET,
  HAVE_DATA,
  STATUS_TOKEN,
  WHSEC,
  WHSEC_OLD,
  counts,
  post,
  readData,
  readDataRaw,
  removeTempDirs,
  sourcesMap,
  startIntake,
  tempDbPath,
} from './helpers.ts';
import type { IntakeHarness } from './helpers.ts';

let h: IntakeHarness;
beforeEach(async () => {
  h = await startIntake();
});
afterEach(async () => {
  await h.close();
});
afterAll(removeTempDirs);

const nowSec = () => Math.floor(h.clock.now() / 1000);
const event = (type = 'response.completed') => JSON.stringify({ id: 'evt_1', object: 'event', created_at: nowSec(), type, data: { id: 'resp_1' } });

describe('standard-webhooks source', () => {
  it('accepts a signed event, stores it, and acknowledges a replay without processing it again', async () => {
    const body = event();
    const headers = signStandard(WHSEC, 'wh_1', nowSec(), body);
    const first = await post(`${h.server.url}/webhooks/openai`, body, headers);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ status: 'processed', event_id: 'wh_1', outcome: 'ignored response.completed' });
    const before = counts(h.store);
    const again = await post(`${h.server.url}/webhooks/openai`, body, headers);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ status: 'duplicate', event_id: 'wh_1' });
    expect(counts(h.store)).toEqual(before);
    expect(await h.intake.events.countsByStatus()).toEqual({ processed: 1 });
  });

  it('accepts the previous secret during rotation', async () => {
    const body = event();
    const r = await post(`${h.server.url}/webhooks/openai`, body, signStandard(WHSEC_OLD, 'wh_rot', nowSec(), body));
    expect(r.status).toBe(200);
  });

  it('turns a model.deprecation event into a registry row', async () => {
    const body = JSON.stringify({ type: 'model.deprecation', data: { model: 'gpt-4o-2024-05-13', shutdown_at: '2026-10-23', replacement: 'gpt-4.1' } });
    const r = await post(`${h.server.url}/webhooks/openai`, body, signStandard(WHSEC, 'wh_dep', nowSec(), body));
    expect(r.status).toBe(200);
    expect((await h.registry.rows()).filter((d) => d.origin === 'webhook:openai')).toEqual([
      { model: 'gpt-4o-2024-05-13', provider: 'openai', shutdownAt: '2026-10-23', replacement: 'gpt-4.1', url: null, origin: 'webhook:openai' },
    ]);
  });

  it('rejects each bad request with its 4xx and reason, and changes nothing', async () => {
    // One accepted event first, so "nothing changed" is checked against a non-empty state.
    const seed = event();
    expect((await post(`${h.server.url}/webhooks/openai`, seed, signStandard(WHSEC, 'wh_seed', nowSec(), seed))).status).toBe(200);
    const before = counts(h.store);
    const body = event();
    const good = signStandard(WHSEC, 'wh_2', nowSec(), body);
    const forged = { ...good, 'webhook-signature': signStandard('whsec_' + Buffer.alloc(32, 7).toString('base64'), 'wh_2', nowSec(), body)['webhook-signature'] };
    const stale = signStandard(WHSEC, 'wh_2', nowSec() - 301, body);
    const future = signStandard(WHSEC, 'wh_2', nowSec() + 301, body);
    const notJson = 'not json {';
    const cases: [string, string | Buffer, Record<string, string>, number, string][] = [
      ['forged signature', body, forged, 401, 'invalid_signature'],
      ['stale timestamp', body, stale, 401, 'timestamp_out_of_tolerance'],
      ['future timestamp', body, future, 401, 'timestamp_out_of_tolerance'],
      ['missing headers', body, {}, 400, 'missing_headers'],
      ['tampered body', body.replace('resp_1', 'resp_2'), good, 401, 'invalid_signature'],
      ['wrong content type', body, { ...good, 'content-type': 'text/plain' }, 415, 'unsupported_media_type'],
      ['no content type', body, { ...good, 'content-type': '' }, 415, 'unsupported_media_type'],
      ['malformed JSON (signed)', notJson, signStandard(WHSEC, 'wh_3', nowSec(), notJson), 400, 'invalid_json'],
      ['oversized body', Buffer.alloc(300 * 1024, 0x20), signStandard(WHSEC, 'wh_4', nowSec(), Buffer.alloc(300 * 1024, 0x20)), 413, 'payload_too_large'],
      ['bad notice (signed)', '{"type":"model.deprecation","data":{"model":"x"}}', signStandard(WHSEC, 'wh_5', nowSec(), '{"type":"model.deprecation","data":{"model":"x"}}'), 422, 'invalid_payload'],
    ];
    for (const [what, b, hdrs, status, code] of cases) {
      const r = await post(`${h.server.url}/webhooks/openai`, b, hdrs, { keepAlive: status !== 413 });
      expect([what, r.status, r.json?.error]).toEqual([what, status, code]);
      expect(typeof r.json?.message).toBe('string');
      expect(r.body).not.toContain(WHSEC.slice(6, 20));
    }
    expect(counts(h.store)).toEqual(before);
    expect(h.signals).toEqual([]);
    for (const line of h.logs) expect(line).not.toContain(WHSEC.slice(6, 20));
  });

  it('answers 404 for an unknown source and for a token path on a signed source', async () => {
    expect((await post(`${h.server.url}/webhooks/nope`, '{}')).json).toMatchObject({ error: 'unknown_source' });
    expect((await post(`${h.server.url}/webhooks/openai/abc`, '{}')).status).toBe(404);
  });
});

describe('generic source', () => {
  const notice = JSON.stringify({ provider: 'openai', model: 'gpt-4o-2024-05-13', shutdown_at: '2026-10-23', replacement: 'gpt-4.1', url: 'https://developers.openai.com/api/docs/deprecations' });

  it('accepts a signed notice (plain and timestamped) and records the deprecation', async () => {
    const r = await post(`${h.server.url}/webhooks/notices`, notice, signGeneric(GENERIC_SECRET, notice, nowSec()));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'processed', outcome: 'deprecation gpt-4o-2024-05-13 2026-10-23' });
    expect((await h.registry.effective()).find((d) => d.model === 'gpt-4o-2024-05-13')).toMatchObject({ shutdownAt: '2026-10-23', replacement: 'gpt-4.1' });
    // The same notice again (here unstamped): a duplicate by content hash; an x-vigil-id names events explicitly.
    expect((await post(`${h.server.url}/webhooks/notices`, notice, signGeneric(GENERIC_SECRET, notice))).json).toMatchObject({ status: 'duplicate' });
    const withId = { ...signGeneric(GENERIC_SECRET, notice), 'x-vigil-id': 'mail-42' };
    expect((await post(`${h.server.url}/webhooks/notices`, notice, withId)).json).toMatchObject({ status: 'processed', event_id: 'id:mail-42' });
    expect((await post(`${h.server.url}/webhooks/notices`, notice, withId)).json).toMatchObject({ status: 'duplicate' });
  });

  it('rejects forged, stale, unsigned and invalid notices without changing state', async () => {
    const before = counts(h.store);
    const cases: [Record<string, string>, string, number, string][] = [
      [signGeneric('wrong-secret-abcdefgh', notice), notice, 401, 'invalid_signature'],
      [signGeneric(GENERIC_SECRET, notice, nowSec() - 600), notice, 401, 'timestamp_out_of_tolerance'],
      [{}, notice, 401, 'missing_signature'],
      [{ 'x-vigil-signature': 'md5=abc' }, notice, 400, 'invalid_headers'],
      [signGeneric(GENERIC_SECRET, '{"model":"m","shutdown_at":"soon"}'), '{"model":"m","shutdown_at":"soon"}', 422, 'invalid_payload'],
      [signGeneric(GENERIC_SECRET, '[1,2'), '[1,2', 400, 'invalid_json'],
    ];
    for (const [hdrs, b, status, code] of cases) {
      const r = await post(`${h.server.url}/webhooks/notices`, b, hdrs);
      expect([r.status, r.json?.error]).toEqual([status, code]);
    }
    expect(counts(h.store)).toEqual(before);
  });
});

describe.skipIf(!HAVE_DATA)('statuspage source (real Statuspage payloads)', () => {
  const url = () => `${h.server.url}/webhooks/claude-status/${STATUS_TOKEN}`;

  it('opens an informational signal from an incident and resolves it', async () => {
    const created = await post(url(), readDataRaw('statuspage_webhook_incident_created.json'));
    expect(created.status).toBe(200);
    expect(h.signals).toHaveLength(1);
    const open = h.signals[0];
    expect(open).toMatchObject({
      detector: 'provider_status',
      key: 'z3lct0r596n4',
      severity: 'info',
      status: 'firing',
      summary: 'Claude status says: Database query delays since 07:32 UTC (identified, impact none)',
      labels: { provider: 'anthropic', source: 'claude-status' },
    });
    expect(open.evidence).toMatchObject({
      status_page: 'Claude status',
      impact: 'none',
      components: 'Management Portal (example)',
      started_at: '2017-12-26T07:32:00.507Z',
      shortlink: 'http://stspg.io/646947c1e',
      models: 'claude-*',
    });
    expect(String(open.evidence.latest_update)).toMatch(/^We just encountered that database queries are timing out/);
    // Delivered twice (Statuspage retries): processed once.
    expect((await post(url(), readDataRaw('statuspage_webhook_incident_created.json'))).json).toMatchObject({ status: 'duplicate' });
    const resolved = await post(url(), readDataRaw('statuspage_webhook_incident_resolved.json'));
    expect(resolved.status).toBe(200);
    expect(h.signals).toHaveLength(2);
    expect(h.signals[1]).toMatchObject({ key: 'z3lct0r596n4', status: 'resolved', severity: 'info' });
    expect(h.signals[1].evidence.latest_update).toBe('The database issue is resolved.');
  });

  it('never reopens a resolved incident with an older update delivered late', async () => {
    await post(url(), readDataRaw('statuspage_webhook_incident_resolved.json'));
    expect(h.signals).toEqual([]); // resolved with nothing open: no signal
    const late = await post(url(), readDataRaw('statuspage_webhook_incident_created.json'));
    expect(late.json).toMatchObject({ status: 'processed', outcome: 'stale update of z3lct0r596n4 ignored' });
    expect(h.signals).toEqual([]);
  });

  it('signals a component status change', async () => {
    const h2 = await startIntake({ sources: sourcesMap({ sp: { kind: 'statuspage', token: STATUS_TOKEN, provider: 'anthropic', components: { 'Database component': { models: ['claude-*'] } } } }) });
    try {
      const r = await post(`${h2.server.url}/webhooks/sp/${STATUS_TOKEN}`, readDataRaw('statuspage_webhook_component_update.json'));
      expect(r.status).toBe(200);
      expect(h2.signals[0]).toMatchObject({
        key: 'component:sqm6pl84wzjc',
        status: 'firing',
        severity: 'info',
        summary: 'sp says: Database component under maintenance since 07:59 UTC (was operational)',
        labels: { provider: 'anthropic', component: 'Database component' },
      });
    } finally {
      await h2.close();
    }
  });

  it('rejects a missing or wrong token, another page, and junk, leaving state untouched', async () => {
    const body = readDataRaw('statuspage_webhook_incident_created.json');
    const before = counts(h.store);
    expect((await post(`${h.server.url}/webhooks/claude-status`, body)).json).toMatchObject({ error: 'missing_token' });
    expect((await post(`${h.server.url}/webhooks/claude-status/${STATUS_TOKEN}x`, body)).json).toMatchObject({ error: 'invalid_token' });
    expect((await post(`${h.server.url}/webhooks/claude-status/${STATUS_TOKEN.slice(0, -1)}`, body)).status).toBe(401);
    expect((await post(url(), '{"meta":{}}')).json).toMatchObject({ error: 'invalid_payload' });
    expect((await post(url(), body, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    const h2 = await startIntake({ sources: sourcesMap({ sp: { kind: 'statuspage', token: STATUS_TOKEN, page_id: 'tymt9n04zgry' } }) });
    try {
      expect((await post(`${h2.server.url}/webhooks/sp/${STATUS_TOKEN}`, body)).json).toMatchObject({ error: 'unknown_page' });
      expect(counts(h2.store).webhook_events).toBe(0);
    } finally {
      await h2.close();
    }
    expect(counts(h.store)).toEqual(before);
    expect(h.signals).toEqual([]);
    for (const line of h.logs) expect(line).not.toContain(STATUS_TOKEN);
  });

  it('ignores incidents on components that are not mapped', async () => {
    const h2 = await startIntake({ sources: sourcesMap({ sp: { kind: 'statuspage', token: STATUS_TOKEN, provider: 'anthropic', components: { 'Claude API': { models: ['claude-*'] } } } }) });
    try {
      const r = await post(`${h2.server.url}/webhooks/sp/${STATUS_TOKEN}`, readDataRaw('statuspage_webhook_incident_created.json'));
      expect(r.json).toMatchObject({ status: 'processed', outcome: 'ignored z3lct0r596n4: components not mapped' });
      expect(h2.signals).toEqual([]);
    } finally {
      await h2.close();
    }
  });
});

describe.skipIf(!HAVE_DATA)('stored before processing', () => {
  it('keeps an event whose processing failed and processes it after a restart', async () => {
    const dbPath = tempDbPath();
    const a = await startIntake({ dbPath });
    const body = readDataRaw('statuspage_webhook_incident_created.json');
    a.failProcessing(true);
    const r = await post(`${a.server.url}/webhooks/claude-status/${STATUS_TOKEN}`, body);
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ status: 'stored' });
    expect(await a.intake.events.countsByStatus()).toEqual({ failed: 1 });
    expect(a.signals).toEqual([]); // nothing signalled from a processing that rolled back
    a.failProcessing(false);
    expect(counts(a.store).status_incidents).toBe(0);
    await a.close();

    const b = await startIntake({ dbPath });
    try {
      expect(await b.intake.reprocessPending()).toEqual({ processed: 1, failed: 0 });
      expect(b.signals.map((s) => [s.key, s.status])).toEqual([['z3lct0r596n4', 'firing']]);
      expect(await b.intake.reprocessPending()).toEqual({ processed: 0, failed: 0 });
      // The sender retrying the same delivery now is a duplicate.
      expect((await post(`${b.server.url}/webhooks/claude-status/${STATUS_TOKEN}`, body)).json).toMatchObject({ status: 'duplicate' });
    } finally {
      await b.close();
    }
  });

  it('verifies the real OpenAI request end to end at its own time', async () => {
    const r = readData<{ headers: Record<string, string>; raw_body: string; test_secret: string; verify_at_unix_seconds: number }>('openai_webhook_signed_request.json');
    const h2 = await startIntake({ now: r.verify_at_unix_seconds * 1000 + 30_000, sources: sourcesMap({ openai: { kind: 'standard-webhooks', secret: r.test_secret } }) });
    try {
      const res = await post(`${h2.server.url}/webhooks/openai`, r.raw_body, r.headers);
      expect(res.json).toMatchObject({ status: 'processed', event_id: 'wh_685c059ae39c8190af8c71ed1022a24d', outcome: 'ignored response.completed' });
    } finally {
      await h2.close();
    }
  });
});
