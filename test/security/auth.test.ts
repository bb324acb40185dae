// Issue 13, attack 3, against the real daemon on loopback: anonymous changes, token roles and rotation, what
// is public, DNS rebinding through the Host header, separate listeners, and an exposed API without a token.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { formatErrors } from '../../src/config/errors.ts';
import { Daemon } from '../../src/daemon.ts';
import { silenceCommand } from '../../src/cli/silence.ts';
import { ADMIN, ADMIN_PREVIOUS, AUTH_YAML, READ, TOKEN_ENV, bearer, evilSilence, raw, secConfig, startDaemon } from './helpers.ts';

const daemons: Daemon[] = [];
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
});

async function daemon(dir = secConfig(), env: Record<string, string | undefined> = TOKEN_ENV): Promise<Daemon> {
  const d = await startDaemon(dir, env);
  daemons.push(d);
  return d;
}

const postSilence = (url: string, headers: Record<string, string> = {}, body: unknown = evilSilence) =>
  fetch(`${url}/api/silences`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const liveSilences = async (url: string) => ((await (await fetch(`${url}/api/silences`)).json()) as { silences: { active: boolean }[] }).silences.filter((s) => s.active);

describe('authentication and roles', () => {
  it('an anonymous silence is 401 and changes nothing; a read token is 403; admin tokens (both during rotation) work', async () => {
    const d = await daemon();
    const anon = await postSilence(d.url);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await postSilence(d.url, bearer('not-the-token-0123456789')).then((r) => r.status)).toBe(401);
    expect(await postSilence(d.url, { authorization: `Bearer ${ADMIN}x` }).then((r) => r.status)).toBe(401);
    expect(await postSilence(d.url, { authorization: ADMIN }).then((r) => r.status)).toBe(401);
    const reader = await postSilence(d.url, bearer(READ));
    expect(reader.status).toBe(403);
    expect(await liveSilences(d.url)).toEqual([]);
    expect(await d.incidents.liveSilenceCount()).toBe(0);

    const ok = await postSilence(d.url, bearer(ADMIN), { matchers: { provider: 'gemini' }, duration: '1h', comment: 'maintenance', created_by: 'ana' });
    expect(ok.status).toBe(201);
    const { id } = (await ok.json()) as { id: string };
    // The previous token still works while it is configured (rotation).
    const old = await postSilence(d.url, bearer(ADMIN_PREVIOUS), { matchers: { provider: 'openai' }, duration: '1h', comment: 'x', created_by: 'y' });
    expect(old.status).toBe(201);
    // Deleting is a change too.
    expect((await fetch(`${d.url}/api/silences/${id}`, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(`${d.url}/api/silences/${id}`, { method: 'DELETE', headers: bearer(READ) })).status).toBe(403);
    expect(await liveSilences(d.url)).toHaveLength(2);
    expect((await fetch(`${d.url}/api/silences/${id}`, { method: 'DELETE', headers: bearer(ADMIN) })).status).toBe(200);
    expect(await liveSilences(d.url)).toHaveLength(1);
  });

  it('any other method on any API path needs admin, whoever adds the route', async () => {
    const d = await daemon();
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const path of ['/api/silences', '/api/incidents', '/api/drills', '/api/probes', '/metrics']) {
        const r = await fetch(d.url + path, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
        expect([401, 404, 405], `${method} ${path}`).toContain(r.status);
      }
    }
    // A route registered later by another module is protected the same way.
    let called = 0;
    d.httpServer!.addRoute('POST', '/api/reload', () => {
      called++;
      return { status: 200, body: '{}' };
    });
    expect((await fetch(`${d.url}/api/reload`, { method: 'POST' })).status).toBe(401);
    expect(called).toBe(0);
    expect((await fetch(`${d.url}/api/reload`, { method: 'POST', headers: bearer(ADMIN) })).status).toBe(200);
    expect(called).toBe(1);
  });

  it('public_read: false closes the status page, GET /api/* and /metrics to anonymous readers; health stays public', async () => {
    const d = await daemon(secConfig(), { ...TOKEN_ENV, PUBLIC_READ: 'false' });
    for (const path of ['/api/probes', '/api/silences', '/api/incidents', '/metrics']) {
      const r = await fetch(d.url + path);
      expect(r.status, path).toBe(401);
      expect((await fetch(d.url + path, { headers: bearer(READ) })).status, path).toBe(200);
      expect((await fetch(d.url + path, { headers: bearer(ADMIN) })).status, path).toBe(200);
    }
    // The status page asks a browser for Basic credentials: any user name, the token as password.
    const page = await fetch(`${d.url}/`);
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toMatch(/^Basic realm="Vigil"/);
    const basic = `Basic ${Buffer.from(`me:${READ}`).toString('base64')}`;
    expect((await fetch(`${d.url}/`, { headers: { authorization: basic } })).status).toBe(200);
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${d.url}/readyz`)).status).not.toBe(401);
  });

  it('without any admin token every change is refused, and says how to enable it', async () => {
    const d = await daemon(secConfig(), {});
    const r = await postSilence(d.url, bearer(ADMIN));
    expect(r.status).toBe(401);
    expect(((await r.json()) as { message: string }).message).toMatch(/no admin token is configured.*VIGIL_ADMIN_TOKEN/);
    expect(await d.incidents.liveSilenceCount()).toBe(0);
  });

  it('the CLI passes the token from VIGIL_ADMIN_TOKEN (or --token)', async () => {
    const d = await daemon();
    const out: string[] = [];
    const err: string[] = [];
    const io = (env: Record<string, string>) => ({ stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s), env });
    const args = ['add', '--url', d.url, 'provider=gemini', 'model=~gemini-.*', '--duration', '2h', '--comment', 'migration', '--created-by', 'ana'];
    expect(await silenceCommand(args, io({}))).toBe(1);
    expect(err.join('')).toMatch(/401 unauthorized.*set VIGIL_ADMIN_TOKEN/);
    expect(await silenceCommand(args, io({ VIGIL_ADMIN_TOKEN: ADMIN }))).toBe(0);
    const id = out.join('').trim();
    expect(id).toMatch(/^sil/);
    out.length = 0;
    expect(await silenceCommand(['list', '--url', d.url], io({}))).toBe(0);
    expect(out.join('')).toContain(`provider="gemini", model=~"gemini-.*"`);
    expect(await silenceCommand(['expire', id, '--url', d.url, '--token', ADMIN], io({}))).toBe(0);
    expect(await d.incidents.liveSilenceCount()).toBe(0);
  });
});

describe('DNS rebinding', () => {
  it('a Host the daemon does not answer to is refused; IPs, localhost, public_url and allowed_hosts pass', async () => {
    const dir = secConfig({ server: `server:\n  host: 127.0.0.1\n  port: 0\n  public_url: https://vigil.example.com\n  allowed_hosts: ["*.corp.example"]\n  ${AUTH_YAML}\n` });
    const d = await daemon(dir);
    const get = (host: string, path = '/api/probes', headers: Record<string, string> = {}) => raw(d.url, { path, headers: { host, ...headers } });
    const rebound = await get('attacker.example:9464');
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error).toBe('host_not_allowed');
    // Even with a valid token: a rebinding page can't have the token, but nothing behind a foreign name is served.
    expect((await get('attacker.example', '/', bearer(ADMIN))).status).toBe(403);
    const evil = await raw(d.url, { method: 'POST', path: '/api/silences', headers: { host: 'attacker.example', 'content-type': 'application/json', ...bearer(ADMIN) }, body: JSON.stringify(evilSilence) });
    expect(evil.status).toBe(403);
    expect(await d.incidents.liveSilenceCount()).toBe(0);
    for (const ok of [`127.0.0.1:${d.httpServer!.port}`, 'localhost:9464', '[::1]:9464', 'vigil.example.com', 'VIGIL.example.com.', 'ops.corp.example', '10.1.2.3:9464']) {
      expect((await get(ok)).status, ok).toBe(200);
    }
    expect((await get('corp.example.attacker.example')).status).toBe(403);
    expect((await get('x@evil')).status).toBe(403);
  });
});

describe('listeners', () => {
  it('webhooks on one port, the API and status page on another; each serves only its own', async () => {
    const dir = secConfig({
      server: `server:
  ${AUTH_YAML}
  listeners:
    - { name: api, host: 127.0.0.1, port: 0, serve: [api, status, metrics] }
    - { name: hooks, host: 127.0.0.1, port: 0, serve: [webhooks] }
`,
      vigil: 'webhooks:\n  notices: { kind: generic, secret: "${NOTICE_SECRET}" }\n',
    });
    const d = await daemon(dir, { ...TOKEN_ENV, NOTICE_SECRET: 'notice-secret-0123456789' });
    const [api, hooks] = d.httpServer!.listeners;
    expect(api.name).toBe('api');
    expect(d.url).toBe(api.url);
    expect(api.url).not.toBe(hooks.url);
    expect((await fetch(`${api.url}/api/probes`)).status).toBe(200);
    expect((await fetch(`${hooks.url}/api/probes`)).status).toBe(404);
    expect((await fetch(`${hooks.url}/`)).status).toBe(404);
    expect((await fetch(`${hooks.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${hooks.url}/healthz`)).status).toBe(200);
    const hook = (url: string) => fetch(`${url}/webhooks/notices`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-vigil-signature': `sha256=${'0'.repeat(64)}` }, body: '{}' });
    expect((await hook(hooks.url)).status).toBe(401);
    expect((await hook(api.url)).status).toBe(404);
  });

  it('validate refuses a non-loopback listener that serves the API with no admin token; run refuses --host 0.0.0.0', async () => {
    const exposed = secConfig({ server: `server:\n  host: 0.0.0.0\n  port: 0\n  ${AUTH_YAML}\n` });
    const r = loadConfig(exposed, { env: {} });
    expect(r.config).toBeNull();
    expect(formatErrors(r.errors)).toMatch(/server\.host .*serves the API beyond loopback but no admin token is set/);
    // With a token it is allowed.
    expect(loadConfig(exposed, { env: { VIGIL_ADMIN_TOKEN: ADMIN } }).config).not.toBeNull();
    // Public webhooks alone need no admin token.
    const split = secConfig({
      server: `server:\n  listeners:\n    - { name: api, host: 127.0.0.1, port: 0, serve: [api, status, metrics] }\n    - { name: hooks, host: 0.0.0.0, port: 0, serve: [webhooks] }\n`,
    });
    expect(formatErrors(loadConfig(split, { env: {} }).errors)).toBe('');
    // The command-line override can't slip past it.
    await expect(Daemon.start({ configDir: secConfig(), env: {}, listen: { host: '0.0.0.0', port: 0 } })).rejects.toThrow(/no admin token is set/);
  });
});
