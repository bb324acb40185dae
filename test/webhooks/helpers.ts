// Helpers for webhook and lifecycle tests: a temp store, a server with the intake mounted, raw loopback
// requests, row counts (to prove rejected requests leave state untouched) and the shared lifecycle data.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock.ts';
import type { ProbeSpec, ProviderEndpoint, Signal } from '../../src/domain.ts';
import { createMetrics } from '../../src/metrics/index.ts';
import { startServer } from '../../src/server/index.ts';
import type { VigilServer } from '../../src/server/index.ts';
import { Store } from '../../src/store/store.ts';
import { DeprecationRegistry } from '../../src/lifecycle/registry.ts';
import { toSource } from '../../src/webhooks/config.ts';
import type { WebhookSource } from '../../src/webhooks/config.ts';
import { WebhookIntake } from '../../src/webhooks/intake.ts';
import { makeSpec } from '../fixtures.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const LIFECYCLE_DATA = path.resolve(REPO_ROOT, '../shared/data/lifecycle');
export const HAVE_DATA = fs.existsSync(path.join(LIFECYCLE_DATA, 'openai_webhook_signed_request.json'));

export function readData<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(LIFECYCLE_DATA, file), 'utf8')) as T;
}
export function readDataRaw(file: string): string {
  return fs.readFileSync(path.join(LIFECYCLE_DATA, file), 'utf8');
}

const dirs: string[] = [];
export function tempDbPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-webhooks-'));
  dirs.push(dir);
  return path.join(dir, 'vigil.db');
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export const TABLES = ['webhook_events', 'deprecations', 'status_incidents', 'deprecation_notices', 'model_watch', 'provider_models'] as const;

/** Row count of every table this feature writes. */
export function counts(store: Store): Record<string, number> {
  return Object.fromEntries(TABLES.map((t) => [t, Number((store.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n)]));
}

// Secrets used in tests (random-looking, never real).
export const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const WHSEC_OLD = 'whsec_dGhpcyBpcyB0aGUgb2xkIHNlY3JldCAxMjM0NTY=';
export const GENERIC_SECRET = 'notice-secret-7f3a9c2e41b8d605';
export const STATUS_TOKEN = 'tok_5e0f1c7d9a2b4e6f8a1c3e5d';

export const SOURCES: Record<string, Record<string, unknown>> = {
  openai: { kind: 'standard-webhooks', secret: WHSEC, previous_secret: WHSEC_OLD, provider: 'openai' },
  notices: { kind: 'generic', secret: GENERIC_SECRET },
  'claude-status': {
    kind: 'statuspage',
    token: STATUS_TOKEN,
    provider: 'anthropic',
    name: 'Claude status',
    components: { 'Claude API': { provider: 'anthropic', models: ['claude-*'] }, 'Management Portal (example)': { models: ['claude-*'] } },
  },
};

export function sourcesMap(raw: Record<string, Record<string, unknown>> = SOURCES): Map<string, WebhookSource> {
  return new Map(Object.entries(raw).map(([n, v]) => [n, toSource(n, v)]));
}

export interface IntakeHarness {
  server: VigilServer;
  store: Store;
  intake: WebhookIntake;
  registry: DeprecationRegistry;
  clock: ManualClock;
  signals: Signal[];
  logs: string[];
  /** Make processing fail: the status-page table is taken away until this is turned off again. */
  failProcessing(on: boolean): void;
  close(): Promise<void>;
}

export async function startIntake(
  opts: { dbPath?: string; now?: number; sources?: Map<string, WebhookSource>; leading?: () => boolean; clock?: ManualClock } = {},
): Promise<IntakeHarness> {
  const clock = opts.clock ?? new ManualClock(opts.now ?? Date.UTC(2026, 0, 5, 12, 0, 0));
  // A SQLite file path or a Postgres URL.
  const store = await Store.connect(opts.dbPath ?? tempDbPath(), { clock });
  const signals: Signal[] = [];
  const logs: string[] = [];
  const log = {
    info: (m: string, f?: object) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
    warn: (m: string, f?: object) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
    error: (m: string, f?: object) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
  };
  const registry = new DeprecationRegistry(store.sql, { now: () => clock.now() });
  const sources = opts.sources ?? sourcesMap();
  const intake = new WebhookIntake({
    sql: store.sql,
    leading: opts.leading,
    clock,
    sources: () => sources,
    sink: (s) => signals.push(s),
    registry,
    log,
  });
  const server = await startServer({
    port: 0,
    clock,
    log,
    deps: { metrics: createMetrics({ defaultMetrics: false }), readiness: () => [], listProbes: () => [], queryResults: () => [] },
  });
  intake.register(server);
  return {
    server,
    store,
    intake,
    registry,
    clock,
    signals,
    logs,
    failProcessing(on: boolean) {
      store.db.exec(on ? 'ALTER TABLE status_incidents RENAME TO status_incidents_away' : 'ALTER TABLE status_incidents_away RENAME TO status_incidents');
    },
    async close() {
      await server.close({ graceMs: 50 });
      await store.close();
    },
  };
}

export interface Resp {
  status: number;
  body: string;
  json: Record<string, unknown> | null;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** POST over loopback; transport errors (a 413 that closes early) come back as status 0. */
export function post(url: string, body: string | Buffer, headers: Record<string, string> = {}, opts: { keepAlive?: boolean } = {}): Promise<Resp> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, agent: opts.keepAlive === false ? false : agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: Record<string, unknown> | null = null;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body: text, json: parsed });
      });
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text, json: null }));
    });
    req.on('error', () => resolve({ status: 0, body: '', json: null }));
    req.end(body);
  });
}

export function probe(over: Partial<ProbeSpec> & Pick<ProbeSpec, 'id' | 'owner' | 'target' | 'model'>): ProbeSpec {
  return makeSpec({ timeouts: { connectMs: 2000, firstByteMs: 5000, totalMs: 10_000 }, ...over });
}

export function endpoint(name: string, kind: ProviderEndpoint['kind'], baseUrl: string, apiKey = 'test-key'): ProviderEndpoint {
  return { name, kind, baseUrl, apiKey, headers: {} };
}
