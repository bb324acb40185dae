// Every /api/* route (and the status page, /metrics and webhooks around them) under random methods, paths,
// percent-encodings, query strings, bodies and credentials, against the real daemon: no crash, no 5xx.
import { request } from 'node:http';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.ts';
import { createRng } from '../../src/sim/rng.ts';
import { ADMIN, READ, TOKEN_ENV, secConfig, startDaemon } from './helpers.ts';

// Seeded (the simulator's mulberry32): the same requests every run, so a failure can be replayed.
const rng = createRng;

const ROUTES = [
  '/api/probes',
  '/api/results',
  '/api/incidents',
  '/api/incidents/:id',
  '/api/silences',
  '/api/silences/:id',
  '/api/drills',
  '/api/drills/:id',
  '/api/drills/:id/runs/:run',
  '/api',
  '/api/:x/:y/:z',
  '/metrics',
  '/',
  '/status/:page',
  '/status/live/:page',
  '/webhooks/:source',
  '/webhooks/:source/:token',
];
const METHODS = ['GET', 'GET', 'HEAD', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'DELETE', 'OPTIONS'];
const SEGMENTS = ['x', 'openai-canary', 'sil-1', '%E0%A4%A', '%ZZ', '%', '%00', '%2F..%2F', '..', '%C0%AF', '%F0%9F%98%80', 'a'.repeat(300), '%25', '%FF%FE', ''];
const QUERIES = ['', '?limit=0', '?limit=-1', '?limit=1e9', '?limit=%E0%A4%A', '?since=%ZZ', '?since=1h&until=2h', '?state=%00', '?probe=%', '?a=1&a=2', '?tz=Mars%2FOlympus', '?days=99999', '?metric=%F0', '?=&&==', '?probe=' + 'p'.repeat(500)];
const TYPES = ['application/json', 'text/plain', 'application/json; charset=utf-16', '', 'multipart/form-data; boundary=x'];
const BODIES = [
  '',
  '{}',
  'null',
  '[]',
  '{"matchers":{"provider":"openai"},"duration":"1h","comment":"c","created_by":"a"}',
  '{"matchers_re":{"detector":"(.*.*.*)*!"},"duration":"8760h","comment":"c","created_by":"a"}',
  '{"matchers_re":{"x":"(?=a)"},"duration":"1h","comment":"c","created_by":"a"}',
  '{"matchers":{"__proto__":"x"},"duration":"1h","comment":"c","created_by":"a"}',
  '{"matchers":{"constructor":{"prototype":1}},"duration":"99999999999999h","comment":"c","created_by":"a"}',
  '{"duration":"1h","ends_at":"2026-02-30T00:00:00Z","comment":"c","created_by":"a","matchers":{"a":"b"}}',
  '{"starts_at":"9999-12-31T23:59:59Z","duration":"1h","comment":"c","created_by":"a","matchers":{"a":"b"}}',
  '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
  '\u0000\u00ff\ud800',
  'x'.repeat(70_000),
];

describe('fuzz', () => {
  let d: Daemon;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  beforeAll(async () => {
    d = await startDaemon(secConfig({ vigil: 'webhooks:\n  notices: { kind: generic, secret: "${NOTICE_SECRET}" }\n' }), { ...TOKEN_ENV, NOTICE_SECRET: 'notice-secret-0123456789' });
  });
  afterAll(async () => {
    agent.destroy();
    await d?.stop();
  });

  it('2,000 random requests: every answer is below 500 and the daemon lives', async () => {
    const r = rng(13);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const u = new URL(d.url);
    const fails: string[] = [];
    const statuses = new Map<number, number>();
    const one = (i: number) => {
      const path = pick(ROUTES).replace(/:[a-z]+/g, () => pick(SEGMENTS)) + pick(QUERIES);
      const method = pick(METHODS);
      const body = method === 'GET' || method === 'HEAD' ? '' : pick(BODIES);
      const headers: Record<string, string> = {};
      const type = pick(TYPES);
      if (type) headers['content-type'] = type;
      const auth = r();
      if (auth < 0.4) headers.authorization = `Bearer ${ADMIN}`;
      else if (auth < 0.5) headers.authorization = `Bearer ${READ}`;
      else if (auth < 0.6) headers.authorization = pick(['Bearer', 'Basic %%%', `Basic ${Buffer.from('x').toString('base64')}`, 'Bearer ' + 'x'.repeat(5000)]);
      if (r() < 0.05) headers.host = pick(['evil.example', '[::1]', '%', 'a..b']);
      return new Promise<void>((resolve) => {
        const req = request({ host: u.hostname, port: u.port, method, path, headers, agent }, (res) => {
          res.resume();
          res.on('end', () => {
            const s = res.statusCode ?? 0;
            statuses.set(s, (statuses.get(s) ?? 0) + 1);
            if (s >= 500) fails.push(`#${i} ${method} ${path.slice(0, 120)} → ${s}`);
            resolve();
          });
        });
        // A server that closes on a bad request (400 from the parser, 413) may reset: that is an answer too.
        req.on('error', () => resolve());
        req.end(body);
      });
    };
    for (let i = 0; i < 2000; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => one(i + k)));
    expect(fails, JSON.stringify([...statuses])).toEqual([]);
    expect((statuses.get(200) ?? 0) + (statuses.get(201) ?? 0)).toBeGreaterThan(50);
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
  }, 120_000);
});
