// Fault validation, blast-radius matching, ratio, TTL on an injected clock, max_hits, clear and the HTTP control API.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { FaultLimitError, FaultTable, FaultValidationError, SCOPE_HEADER, compileMatch, globToRegExp, matches, parseFault } from '../../src/chaos/faults.ts';
import { DRILL_HEADER } from '../../src/chaos/gateway-native.ts';
import type { RequestFacts } from '../../src/chaos/faults.ts';
import type { ChaosEvent } from '../../src/chaos/proxy.ts';
import { startRig } from './helpers.ts';
import type { Rig } from './helpers.ts';

// Response bodies in these tests are JSON of known shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const j = async (r: Response | Promise<Response>): Promise<any> => (await r).json();

/** Every fault is scoped to a drill run; table tests use this one. */
const D = { match: { headers: { 'x-vigil-drill': 'd' } } };

const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  upstream: 'anthropic',
  path: '/v1/messages',
  headers: { 'x-vigil-drill': 'd' },
  model: 'claude-sonnet-4-5',
  stream: false,
  ...over,
});

describe('fault schema', () => {
  it('accepts a full fault and applies defaults', () => {
    const f = parseFault({ upstream: 'anthropic', kind: 'http_status', status: 529, match: { headers: { 'x-vigil-drill': 'd1' } }, ttl: '2m' });
    expect(f).toMatchObject({ ratio: 1, delay_ms: 0, ttl: '2m' });
  });

  it.each([
    [{ kind: 'http_status', status: 529 }, /upstream/],
    [{ upstream: 'a', kind: 'teleport' }, /kind/],
    [{ upstream: 'a', kind: 'http_status', status: 200 }, /status/],
    [{ upstream: 'a', kind: 'latency', delay_ms: 10, ratio: 1.5 }, /ratio/],
    [{ upstream: 'a', kind: 'latency', delay_ms: 10, ttl: 'soon' }, /ttl/],
    [{ upstream: 'a', kind: 'reset', match: { modle: 'x' } }, /match/],
    [{ upstream: 'a', kind: 'throttle' }, /tokens_per_sec/],
  ])('rejects %j', (input, issue) => {
    expect(() => parseFault(input)).toThrow(FaultValidationError);
    try {
      parseFault(input);
    } catch (err) {
      expect((err as FaultValidationError).issues.join('\n')).toMatch(issue);
    }
  });

  it('refuses a TTL beyond the maximum', () => {
    const t = new FaultTable({ now: () => 0, maxTtlMs: 60_000 });
    expect(() => t.add({ upstream: 'a', kind: 'reset', ttl: '2m', ...D })).toThrow(/maximum/);
    expect(t.size).toBe(0);
  });

  it('the scope header is the drill header', () => {
    expect(SCOPE_HEADER).toBe(DRILL_HEADER);
  });

  it.each([
    ['no match at all', {}],
    ['a match without the drill header', { match: { model: 'claude-*', headers: { 'x-other': 'd1' } } }],
    ['a drill header any value matches', { match: { headers: { 'x-vigil-drill': '*' } } }],
    ['a drill header of wildcards only', { match: { headers: { 'X-Vigil-Drill': '?*?' } } }],
  ])('refuses an unscoped fault: %s', (_name, over) => {
    const t = new FaultTable({ now: () => 0 });
    expect(() => t.add({ upstream: 'anthropic', kind: 'http_status', status: 529, ...over })).toThrow(/x-vigil-drill: required/);
    expect(t.size).toBe(0);
  });

  it('caps live faults (429 with when to retry) and never silently replaces a live id (409)', () => {
    const clock = new ManualClock();
    const t = new FaultTable({ now: () => clock.now(), maxFaults: 2 });
    t.add({ id: 'a', upstream: 'anthropic', kind: 'reset', ttl: '30s', ...D });
    expect(() => t.add({ id: 'a', upstream: 'anthropic', kind: 'empty', ...D })).toThrow(expect.objectContaining({ status: 409 }));
    t.add({ id: 'b', upstream: 'anthropic', kind: 'reset', ttl: '2m', ...D });
    let err: unknown;
    try {
      t.add({ id: 'c', upstream: 'anthropic', kind: 'reset', ...D });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FaultLimitError);
    expect(err).toMatchObject({ status: 429, retryAfterSec: 30 });
    // Room again once one expires.
    clock.set(clock.now() + 30_000);
    expect(t.add({ id: 'c', upstream: 'anthropic', kind: 'reset', ...D }).id).toBe('c');
  });
});

describe('matching (pure)', () => {
  it('globs', () => {
    expect(globToRegExp('claude-*').test('claude-sonnet-4-5')).toBe(true);
    expect(globToRegExp('claude-*').test('gpt-4o')).toBe(false);
    expect(globToRegExp('gpt-4o').test('gpt-4o-mini')).toBe(false);
    expect(globToRegExp('*:streamGenerateContent').test('/v1beta/models/g:streamGenerateContent')).toBe(true);
    expect(globToRegExp('*:streamGenerateContent').test('/v1beta/models/g:generateContent')).toBe(false);
    expect(globToRegExp('a.b?').test('a.bc')).toBe(true);
    expect(globToRegExp('a.b?').test('axbc')).toBe(false);
  });

  it('every condition must hold', () => {
    const spec = parseFault({
      upstream: 'anthropic',
      kind: 'http_status',
      status: 529,
      match: { model: 'claude-*', headers: { 'X-Vigil-Drill': 'weekly-*' }, path: '/v1/messages', stream: false },
    });
    const m = compileMatch(spec.match);
    const hdr = { 'x-vigil-drill': 'weekly-3' };
    expect(matches(spec, m, facts({ headers: hdr }))).toBe(true);
    expect(matches(spec, m, facts())).toBe(false); // no drill header
    expect(matches(spec, m, facts({ headers: { 'x-vigil-drill': 'other' } }))).toBe(false);
    expect(matches(spec, m, facts({ headers: hdr, upstream: 'openai' }))).toBe(false);
    expect(matches(spec, m, facts({ headers: hdr, model: 'gpt-4o' }))).toBe(false);
    expect(matches(spec, m, facts({ headers: hdr, model: null }))).toBe(false);
    expect(matches(spec, m, facts({ headers: hdr, path: '/v1/models' }))).toBe(false);
    expect(matches(spec, m, facts({ headers: hdr, stream: true }))).toBe(false);
  });

  it('stream-only kinds never match a non-stream request', () => {
    const spec = parseFault({ upstream: 'anthropic', kind: 'throttle', tokens_per_sec: 5 });
    expect(matches(spec, compileMatch(spec.match), facts({ stream: false }))).toBe(false);
    expect(matches(spec, compileMatch(spec.match), facts({ stream: true }))).toBe(true);
  });
});

describe('fault table', () => {
  it('TTL: an expired fault never applies, and is swept', () => {
    const clock = new ManualClock();
    const removed: string[] = [];
    const t = new FaultTable({ now: () => clock.now(), onRemoved: (f, why) => removed.push(`${f.id}:${why}`) });
    t.add({ id: 'a', upstream: 'anthropic', kind: 'reset', ttl: '30s', ...D });
    expect(t.pick(facts())?.id).toBe('a');
    clock.set(clock.now() + 29_999);
    expect(t.pick(facts())?.id).toBe('a');
    clock.set(clock.now() + 1);
    expect(t.pick(facts())).toBeNull();
    expect(removed).toEqual(['a:expired']);
    t.add({ id: 'b', upstream: 'anthropic', kind: 'reset', ttl: 1000, ...D });
    clock.set(clock.now() + 1000);
    expect(t.list()).toEqual([]); // swept without any request
    expect(removed).toEqual(['a:expired', 'b:expired']);
  });

  it('the default TTL applies when none is given', () => {
    const clock = new ManualClock();
    const t = new FaultTable({ now: () => clock.now(), defaultTtlMs: 5_000 });
    const f = t.add({ upstream: 'anthropic', kind: 'reset', ...D });
    expect(f.expiresAt - f.createdAt).toBe(5_000);
  });

  it('ratio: 0 never, 1 always, 0.3 about 30 % and reproducible for a seed', () => {
    const run = (ratio: number, seed: number) => {
      const t = new FaultTable({ now: () => 0, seed });
      t.add({ upstream: 'anthropic', kind: 'reset', ratio, ...D });
      return Array.from({ length: 1000 }, (): number => (t.pick(facts()) ? 1 : 0));
    };
    expect(run(0, 1).reduce((a, b) => a + b, 0)).toBe(0);
    expect(run(1, 1).reduce((a, b) => a + b, 0)).toBe(1000);
    const a = run(0.3, 42);
    const hits = a.reduce((x, y) => x + y, 0);
    expect(hits).toBeGreaterThan(240);
    expect(hits).toBeLessThan(360);
    expect(run(0.3, 42)).toEqual(a);
    expect(run(0.3, 43)).not.toEqual(a);
  });

  it('counts seen and hits; max_hits drops the fault once spent; the oldest matching fault wins', () => {
    const t = new FaultTable({ now: () => 0 });
    t.add({ id: 'first', upstream: 'anthropic', kind: 'reset', max_hits: 2, ...D });
    t.add({ id: 'second', upstream: 'anthropic', kind: 'empty', ...D });
    expect(t.pick(facts())?.id).toBe('first');
    expect(t.pick(facts())?.id).toBe('first');
    expect(t.pick(facts())?.id).toBe('second');
    expect(t.list().map((f) => f.id)).toEqual(['second']);
    expect(t.get('second')).toMatchObject({ seen: 1, hits: 1 });
  });

  it('a cleared id can be injected again; clear(id) and clear()', () => {
    const t = new FaultTable({ now: () => 0 });
    t.add({ id: 'x', upstream: 'anthropic', kind: 'reset', ...D });
    expect(t.clear('x')).toBe(1);
    t.add({ id: 'x', upstream: 'anthropic', kind: 'empty', ...D });
    t.add({ id: 'y', upstream: 'openai', kind: 'empty', ...D });
    expect(t.list().map((f) => `${f.id}:${f.spec.kind}`)).toEqual(['x:empty', 'y:empty']);
    expect(t.clear('nope')).toBe(0);
    expect(t.clear('x')).toBe(1);
    expect(t.clear()).toBe(1);
    expect(t.size).toBe(0);
  });
});

describe('proxy: scoping, TTL and control surface', () => {
  let rig: Rig;
  const clock = new ManualClock();
  const events: ChaosEvent[] = [];

  beforeAll(async () => {
    rig = await startRig({ clock, controlToken: 'ctl-secret', onEvent: (e) => events.push(e) });
  });
  afterAll(async () => {
    await rig.close();
  });
  afterEach(() => {
    rig.proxy.clear();
    events.length = 0;
  });

  const DH = { 'x-vigil-drill': 'd' };
  const anthropic = (headers: Record<string, string> = {}, model = 'claude-sonnet-4-5') =>
    fetch(`${rig.proxy.upstreamUrl('anthropic')}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', ...headers },
      body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: 'user', content: 'Reply with the single word: pong' }] }),
    });

  const control = (method: string, path = '', body?: unknown, token: string | null = 'ctl-secret') =>
    fetch(`${rig.proxy.url}/proxy/_faults${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('non-matching traffic is untouched and reaches the upstream; matching traffic gets the fault', async () => {
    rig.proxy.inject({ upstream: 'anthropic', kind: 'http_status', status: 529, match: { headers: { 'x-vigil-drill': 'd1' }, model: 'claude-sonnet-*' } });
    const before = rig.fleet.anthropic.lastSeq;
    const plain = await anthropic();
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-vigil-fault')).toBeNull();
    expect((await j(plain)).content[0].text).toContain('pong');
    const otherModel = await anthropic({ 'x-vigil-drill': 'd1' }, 'claude-haiku-4-5');
    expect(otherModel.status).toBe(200);
    await otherModel.text();
    const hit = await anthropic({ 'x-vigil-drill': 'd1' });
    expect(hit.status).toBe(529);
    expect(hit.headers.get('x-vigil-fault')).toBe(rig.proxy.list()[0].id);
    expect(await j(hit)).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    // The faulted request never reached the simulator; the two untouched ones did.
    expect(rig.fleet.anthropic.lastSeq - before).toBe(2);
    expect(rig.proxy.list()[0]).toMatchObject({ seen: 1, hits: 1 });
    expect(events.filter((e) => e.type === 'applied')).toHaveLength(1);
  });

  it('a fault for one upstream does not touch another', async () => {
    rig.proxy.inject({ upstream: 'openai', kind: 'reset', ...D });
    const r = await anthropic(DH);
    expect(r.status).toBe(200);
    await r.text();
  });

  it('a scoped fault never touches traffic without the drill header, nor another drill', async () => {
    rig.proxy.inject({ upstream: 'anthropic', kind: 'http_status', status: 529, ...D });
    for (const h of [{}, { 'x-vigil-drill': 'other-run' }, { 'x-vigil-drill': '' }] as Record<string, string>[]) {
      const r = await anthropic(h);
      expect(r.status, JSON.stringify(h)).toBe(200);
      await r.text();
    }
    expect((await anthropic(DH)).status).toBe(529);
  });

  it('TTL on the injected clock: expired faults stop applying and leave the list', async () => {
    rig.proxy.inject({ id: 'short', upstream: 'anthropic', kind: 'http_status', status: 429, ttl: '30s', ...D });
    expect((await anthropic(DH)).status).toBe(429);
    clock.set(clock.now() + 30_000);
    const after = await anthropic(DH);
    expect(after.status).toBe(200);
    await after.text();
    expect(rig.proxy.list()).toEqual([]);
    expect(events.some((e) => e.type === 'expired' && e.fault.id === 'short')).toBe(true);
  });

  it('clear(id) and clear() through the typed API', async () => {
    const a = rig.proxy.inject({ upstream: 'anthropic', kind: 'empty', ...D });
    rig.proxy.inject({ upstream: 'anthropic', kind: 'reset', match: { headers: { 'x-vigil-drill': 'd', 'x-never': '*' } } });
    expect(rig.proxy.clear(a)).toBe(1);
    const r = await anthropic(DH);
    expect(r.status).toBe(200);
    expect((await j(r)).content[0].text).toContain('pong');
    expect(rig.proxy.clear()).toBe(1);
    expect(rig.proxy.list()).toEqual([]);
  });

  it('HTTP control: token, inject, validation, list, get, delete', async () => {
    const POST_529 = { upstream: 'anthropic', kind: 'http_status', status: 529, ttl: '1m', ...D };
    for (const token of [null, 'wrong', 'ctl-secre', 'ctl-secret2']) {
      for (const [m, p, b] of [['GET', ''], ['POST', '', POST_529], ['DELETE', ''], ['GET', '/x'], ['DELETE', '/x']] as const) {
        const r = await control(m, p, b, token);
        expect(r.status, `${m} ${p} with ${token}`).toBe(401);
      }
    }
    expect((await fetch(`${rig.proxy.url}/proxy/_status`)).status).toBe(401);
    expect(rig.proxy.list()).toEqual([]);

    const bad = await control('POST', '', { upstream: 'anthropic', kind: 'http_status', status: 700, ttl: '1m', ...D });
    expect(bad.status).toBe(400);
    expect((await j(bad)).issues.join(' ')).toMatch(/status/);
    expect((await control('POST', '', '{not json')).status).toBe(400);
    const noTtl = await control('POST', '', { upstream: 'anthropic', kind: 'http_status', status: 529, ...D });
    expect(noTtl.status).toBe(400);
    expect((await j(noTtl)).issues.join(' ')).toMatch(/ttl: required/);
    const unscoped = await control('POST', '', { upstream: 'anthropic', kind: 'http_status', status: 529, ttl: '1m' });
    expect(unscoped.status).toBe(400);
    expect((await j(unscoped)).issues.join(' ')).toMatch(/x-vigil-drill: required/);
    const tooLong = await control('POST', '', { ...POST_529, ttl: '11m' });
    expect(tooLong.status).toBe(400);
    expect(rig.proxy.list()).toEqual([]);

    const created = await control('POST', '', { id: 'drill-1', upstream: 'anthropic', kind: 'http_status', status: 529, ttl: '2m', note: 'weekly drill', ...D });
    expect(created.status).toBe(201);
    const c = await j(created);
    expect(c.id).toBe('drill-1');
    expect(Date.parse(c.expires_at) - clock.now()).toBe(120_000);

    const list = await j(control('GET'));
    expect(list.faults.map((f: { id: string }) => f.id)).toEqual(['drill-1']);
    expect((await control('GET', '/drill-1')).status).toBe(200);
    expect((await control('GET', '/%E0%A4%A')).status).toBe(400);
    expect((await anthropic(DH)).status).toBe(529);
    const again = await control('POST', '', { id: 'drill-1', ...POST_529 });
    expect(again.status).toBe(409);

    expect((await control('DELETE', '/drill-1')).status).toBe(200);
    expect((await control('DELETE', '/drill-1')).status).toBe(404);
    const r = await anthropic(DH);
    expect(r.status).toBe(200);
    await r.text();

    await control('POST', '', { upstream: 'anthropic', kind: 'reset', ttl: 60_000, ...D });
    await control('POST', '', { upstream: 'openai', kind: 'reset', ttl: 60_000, ...D });
    expect(await j(control('DELETE'))).toEqual({ cleared: 2 });
    expect(rig.proxy.list()).toEqual([]);

    const status = await j(fetch(`${rig.proxy.url}/proxy/_status`, { headers: { authorization: 'Bearer ctl-secret' } }));
    expect(status).toMatchObject({ pid: process.pid, faults: 0 });
    expect((await fetch(`${rig.proxy.url}/proxy/_health`)).status).toBe(200);
  });

  it('HTTP control: the cap on live faults is a 429 with Retry-After', async () => {
    const capped = await startRig({ clock, controlToken: 'ctl-secret', maxFaults: 3 });
    try {
      const post = (i: number) =>
        fetch(`${capped.proxy.url}/proxy/_faults`, {
          method: 'POST',
          headers: { authorization: 'Bearer ctl-secret', 'content-type': 'application/json' },
          body: JSON.stringify({ id: `f${i}`, upstream: 'anthropic', kind: 'reset', ttl: '90s', ...D }),
        });
      for (let i = 0; i < 3; i++) expect((await post(i)).status).toBe(201);
      const full = await post(3);
      expect(full.status).toBe(429);
      expect(full.headers.get('retry-after')).toBe('90');
      expect(capped.proxy.list()).toHaveLength(3);
    } finally {
      await capped.close();
    }
  });

  it('without a configured token the control API refuses everything; the typed API still works', async () => {
    const open = await startRig({ clock });
    try {
      const r = await fetch(`${open.proxy.url}/proxy/_faults`, {
        method: 'POST',
        headers: { authorization: 'Bearer anything', 'content-type': 'application/json' },
        body: JSON.stringify({ upstream: 'anthropic', kind: 'reset', ttl: '1m', ...D }),
      });
      expect(r.status).toBe(401);
      expect((await j(r)).error).toMatch(/no control token/);
      expect(open.proxy.list()).toEqual([]);
      open.proxy.inject({ upstream: 'anthropic', kind: 'reset', ...D });
      expect(open.proxy.list()).toHaveLength(1);
    } finally {
      await open.close();
    }
  });

  it('faults live in memory only: a new proxy starts with none', async () => {
    rig.proxy.inject({ upstream: 'anthropic', kind: 'reset', ...D });
    const other = await startRig({ clock });
    try {
      expect(other.proxy.list()).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
