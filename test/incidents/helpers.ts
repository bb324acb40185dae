// Shared fixtures for the incidents tests: a temp store, alerts config from YAML through the real loader,
// fake notifiers that record what they were asked to deliver (and can be "down"), signals.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/load.ts';
import { formatErrors } from '../../src/config/errors.ts';
import type { Severity, Signal } from '../../src/domain.ts';
import { alertsConfig } from '../../src/incidents/config.ts';
import type { AlertsConfig } from '../../src/incidents/config.ts';
import { IncidentManager } from '../../src/incidents/manager.ts';
import type { DeliveryResult, Notification, Notifier, Receiver, ReceiverKind } from '../../src/notifiers/types.ts';
import { Store } from '../../src/store/store.ts';

export const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
export const SEC = 1000;
export const MIN = 60_000;

export const ENV = {
  OPENAI_API_KEY: 'sk-test-openai-0123456789',
  SLACK_BOT_TOKEN: 'xoxb-test-token-0123456789',
  PD_SEARCH_ROUTING_KEY: 'pd-search-routing-key-0123456789',
};

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) if (s.isOpen) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'vigil-incidents-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A config directory with vigil.yaml and these files; returns the dir. */
export function configDir(files: Record<string, string>): string {
  const dir = tempDir('vigil-alerts-config-');
  const all: Record<string, string> = {
    'vigil.yaml': 'server: { public_url: "http://vigil.test:9464" }\nproviders:\n  openai: { kind: openai, api_key: "${OPENAI_API_KEY}" }\n',
    ...files,
  };
  for (const [rel, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** The engine's config from an alerts/routing.yaml text, through the real loader (throws with the errors). */
export function alertsFromYaml(yaml: string): AlertsConfig {
  const { config, errors } = loadConfig(configDir({ 'alerts/routing.yaml': yaml }), { env: ENV });
  if (!config) throw new Error(formatErrors(errors));
  return alertsConfig(config);
}

export const BASE_ALERTS = `
owners:
  search-team:
    slack: "#search-oncall"
    pagerduty: "\${PD_SEARCH_ROUTING_KEY}"
    runbook: https://wiki.example.com/runbooks/llm
receivers:
  slack: { token: "\${SLACK_BOT_TOKEN}", api_url: "http://127.0.0.1:1/api/" }
  pagerduty: { server: 127.0.0.1 }
routes:
  - match: { severity: critical }
    notify: [pagerduty, slack]
  - match: { severity: warning }
    notify: [slack]
defaults:
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
`;

export interface Delivered {
  at: number;
  n: Notification;
  receiver: Receiver;
  /** The ref this delivery returned (Slack channel:ts, PagerDuty dedup key). */
  ref?: string;
}

/** A notifier that records deliveries; `down` makes it fail retryably (like a 503), `retryAfterMs` like a 429. */
export class FakeNotifier implements Notifier {
  readonly kind: ReceiverKind;
  readonly delivered: Delivered[] = [];
  readonly attempts: Delivered[] = [];
  down = false;
  retryAfterMs: number | undefined;
  permanent = false;
  private readonly clock: ManualClock;
  private seq = 0;

  constructor(kind: ReceiverKind, clock: ManualClock) {
    this.kind = kind;
    this.clock = clock;
  }

  async deliver(n: Notification, receiver: Receiver): Promise<DeliveryResult> {
    const rec = { at: this.clock.now(), n, receiver };
    this.attempts.push(rec);
    if (this.permanent) return { ok: false, retryable: false, error: 'HTTP 400 invalid routing key' };
    if (this.down) return { ok: false, retryable: true, error: 'HTTP 503', ...(this.retryAfterMs ? { retryAfterMs: this.retryAfterMs } : {}) };
    const ref = this.kind === 'slack' ? (n.priorRef ?? `C123:${1700000000 + ++this.seq}.000100`) : this.kind === 'pagerduty' ? n.dedupKey : null;
    this.delivered.push({ ...rec, ...(ref ? { ref } : {}) });
    return { ok: true, retryable: false, ...(ref ? { ref } : {}) };
  }

  /** `trigger:new`, `update:changed`, … in order. */
  actions(): string[] {
    return this.delivered.map((d) => `${d.n.action}:${d.n.reason}`);
  }
}

export interface Harness {
  clock: ManualClock;
  store: Store;
  dbPath: string;
  cfg: { current: AlertsConfig };
  slack: FakeNotifier;
  pagerduty: FakeNotifier;
  console: FakeNotifier;
  manager: IncidentManager;
  /** A new manager on a reopened store (a restart); the old store is closed. */
  restart(): Harness;
  /** Advance the clock by `ms` in steps of `stepMs`, ticking after each step. */
  run(ms: number, stepMs?: number): Promise<void>;
}

export function harness(yaml = BASE_ALERTS, opts: { clock?: ManualClock; dbPath?: string } = {}): Harness {
  const clock = opts.clock ?? new ManualClock(T0);
  const dbPath = opts.dbPath ?? path.join(tempDir(), 'vigil.db');
  const store = Store.open(dbPath, { clock });
  stores.push(store);
  const cfg = { current: alertsFromYaml(yaml) };
  const slack = new FakeNotifier('slack', clock);
  const pagerduty = new FakeNotifier('pagerduty', clock);
  const consoleN = new FakeNotifier('console', clock);
  return build(clock, store, dbPath, cfg, { slack, pagerduty, console: consoleN });
}

function build(
  clock: ManualClock,
  store: Store,
  dbPath: string,
  cfg: { current: AlertsConfig },
  n: { slack: FakeNotifier; pagerduty: FakeNotifier; console: FakeNotifier },
): Harness {
  const manager = new IncidentManager({ store, clock, config: () => cfg.current, notifiers: n, random: () => 0.5 });
  const h: Harness = {
    clock,
    store,
    dbPath,
    cfg,
    ...n,
    manager,
    restart() {
      store.close();
      const reopened = Store.open(dbPath, { clock });
      stores.push(reopened);
      return build(clock, reopened, dbPath, cfg, n);
    },
    async run(ms, stepMs = 5 * SEC) {
      const end = clock.now() + ms;
      while (clock.now() < end) {
        await clock.advance(Math.min(stepMs, end - clock.now()));
        await h.manager.tick();
      }
    },
  };
  return h;
}

export function signal(key: string, status: 'firing' | 'resolved', over: Partial<Signal> & { labels?: Record<string, string> } = {}): Signal {
  const severity: Severity = over.severity ?? 'critical';
  return {
    detector: 'availability',
    key,
    severity,
    status,
    summary: `${key} ${status === 'firing' ? 'failing: server_error (HTTP 503)' : 'recovered'}`,
    evidence: { failures: 1 },
    at: 0,
    ...over,
    labels: { owner: 'search-team', provider: 'openai', probe: key, model: 'gpt-4o-mini', ...over.labels },
  };
}
