// One object for the daemon to hold: webhook intake, model-list poller, deprecation registry, inventory and
// countdown, built from the config. The daemon registers the routes, calls `start()` once, `tick()` every
// minute or so, and `reload()` after a config reload.
import type { DatabaseSync } from 'node:sqlite';
import type { Clock } from '../clock.ts';
import type { VigilConfig } from '../config/types.ts';
import type { HttpClient } from '../http/types.ts';
import type { Logger } from '../log.ts';
import type { Handler } from '../server/router.ts';
import { webhookSources } from '../webhooks/config.ts';
import type { SignalSink, WebhookSource } from '../webhooks/config.ts';
import { WebhookIntake } from '../webhooks/intake.ts';
import { parseDuration } from '../config/duration.ts';
import { modelListSources } from '../webhooks/model-lists.ts';
import type { ModelListSource } from '../webhooks/model-lists.ts';
import { geminiModelStatus } from './sources.ts';
import { ModelListPoller } from '../webhooks/poller.ts';
import type { ProviderPoll } from '../webhooks/poller.ts';
import { Countdown } from './countdown.ts';
import type { CountdownReport } from './countdown.ts';
import { deprecationRows, formatDeprecations } from './format.ts';
import type { DeprecationRow } from './format.ts';
import { buildInventory, consumersFromConfig } from './inventory.ts';
import { DEPRECATION_PAGES } from './known-retirements.ts';
import { DeprecationRegistry, deprecationsFromConfig, effective, shippedDeprecations } from './registry.ts';
import type { ModelUser } from './types.ts';

export interface LifecycleOptions {
  /** `store.db` (migration 005 applied). */
  db: DatabaseSync;
  clock: Clock;
  http: HttpClient;
  /** The current config (a getter: reloads take effect). */
  config: () => VigilConfig;
  sink: SignalSink;
  /** Probe id → served model of its latest result, so aliases resolve to the snapshot being retired. */
  served?: () => ReadonlyMap<string, string | null>;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Countdown lead times in days (default 90, 30, 7, 1). */
  leadDays?: readonly number[];
  /** Model-list poll interval (default 6 h). */
  pollEveryMs?: number;
  /** Successful polls a model must be missing from before it pages (default 2). */
  confirmPolls?: number;
}

export class Lifecycle {
  readonly registry: DeprecationRegistry;
  readonly countdown: Countdown;
  readonly intake: WebhookIntake;
  readonly poller: ModelListPoller;
  private readonly o: LifecycleOptions;
  private sources: ReadonlyMap<string, WebhookSource>;
  private sourcesOf: VigilConfig;
  private listsOf: VigilConfig | null = null;
  private lists: readonly ModelListSource[] = [];

  constructor(o: LifecycleOptions) {
    this.o = o;
    this.sourcesOf = o.config();
    this.sources = webhookSources(this.sourcesOf.webhooks);
    this.registry = new DeprecationRegistry(o.db, { now: () => o.clock.now() });
    this.countdown = new Countdown(o.db, { leadDays: o.leadDays });
    this.intake = new WebhookIntake({
      db: o.db,
      clock: o.clock,
      sources: () => this.currentSources(),
      sink: o.sink,
      registry: this.registry,
      onDeprecations: () => this.checkCountdown(),
      log: o.log,
    });
    this.poller = new ModelListPoller({
      db: o.db,
      http: o.http,
      clock: o.clock,
      providers: () => o.config().providers,
      lists: () => this.listSources(),
      users: () => this.users(),
      registry: this.registry,
      sink: o.sink,
      confirmPolls: o.confirmPolls,
      everyMs: o.pollEveryMs,
      log: o.log,
    });
  }

  routes(): { method: 'POST'; pattern: string; handler: Handler }[] {
    return this.intake.routes();
  }

  /** Sync vigil.yaml deprecations, reprocess stored-but-unprocessed webhooks, run the countdown. */
  start(): { reprocessed: number; failed: number; countdown: CountdownReport } {
    this.reload();
    const r = this.intake.reprocessPending();
    if (r.processed || r.failed) this.o.log?.info('reprocessed stored webhooks', r);
    return { reprocessed: r.processed, failed: r.failed, countdown: this.checkCountdown() };
  }

  /** After a config reload: deprecations from vigil.yaml replace the previous ones. */
  reload(): void {
    this.registry.replaceOrigin('config', deprecationsFromConfig(this.o.config().deprecations));
  }

  /** Periodic work: poll model lists when due, then the countdown. Call every minute or so. */
  async tick(): Promise<{ polls: ProviderPoll[] | null; countdown: CountdownReport }> {
    const polls = await this.poller.pollIfDue();
    return { polls, countdown: this.checkCountdown() };
  }

  checkCountdown(): CountdownReport {
    return this.countdown.check(this.registry.effective(), this.users(), this.o.clock.now(), this.o.sink);
  }

  users(): ModelUser[] {
    const c = this.o.config();
    return buildInventory({ probes: c.probes, endpoints: c.endpoints, consumers: consumersFromConfig(c.consumers), served: this.o.served?.() });
  }

  rows(opts: { all?: boolean } = {}): DeprecationRow[] {
    return deprecationRows(this.registry.effective(), this.users(), this.o.clock.now(), opts);
  }

  /** The `vigil deprecations` table. */
  table(opts: { all?: boolean } = {}): string {
    return formatDeprecations(this.rows(opts));
  }

  /**
   * Gemini's in-band lifecycle: `modelStatus` of a generateContent reply (raw, or as parsed into a probe
   * result). A retirementTime becomes a deprecation of `model` from `api:<provider>:modelStatus`; returns
   * whether anything changed (so the countdown runs only then).
   */
  noteModelStatus(provider: string, model: string, modelStatus: unknown): boolean {
    const r = isParsed(modelStatus) ? modelStatus : geminiModelStatus(modelStatus);
    if (!r?.retireAt) return false;
    const changed = this.registry.upsert({ model, provider: 'gemini', shutdownAt: r.retireAt, replacement: null, url: DEPRECATION_PAGES.gemini, origin: `api:${provider}:modelStatus` });
    if (changed) this.checkCountdown();
    return changed;
  }

  /** vigil.yaml `model_lists:`, typed once per config object. */
  private listSources(): readonly ModelListSource[] {
    const c = this.o.config();
    if (c !== this.listsOf) {
      this.listsOf = c;
      this.lists = modelListSources(c.modelLists ?? {}, parseDuration);
    }
    return this.lists;
  }

  private currentSources(): ReadonlyMap<string, WebhookSource> {
    const c = this.o.config();
    if (c !== this.sourcesOf) {
      this.sourcesOf = c;
      this.sources = webhookSources(c.webhooks);
    }
    return this.sources;
  }
}

/**
 * `vigil deprecations` without a running daemon: what the store learnt (webhooks, model lists) plus the
 * current vigil.yaml and the shipped table. `db` may be null (no database yet) or opened read-only.
 */
export function deprecationsTable(opts: {
  db: DatabaseSync | null;
  config: VigilConfig;
  now: number;
  served?: ReadonlyMap<string, string | null>;
  all?: boolean;
}): string {
  const stored = opts.db ? new DeprecationRegistry(opts.db, { now: () => opts.now, includeShipped: false }).rows().filter((r) => r.origin !== 'config') : [];
  const rows = [...stored, ...deprecationsFromConfig(opts.config.deprecations), ...shippedDeprecations()];
  const users = buildInventory({ probes: opts.config.probes, endpoints: opts.config.endpoints, consumers: consumersFromConfig(opts.config.consumers), served: opts.served });
  return formatDeprecations(deprecationRows(effective(rows), users, opts.now, { all: opts.all }));
}

function isParsed(v: unknown): v is { stage: string; retireAt: string | null } {
  return typeof v === 'object' && v !== null && 'stage' in v && 'retireAt' in v;
}

export { formatDeprecations, deprecationRows } from './format.ts';
export type { DeprecationRow } from './format.ts';
export { KNOWN_RETIREMENTS } from './known-retirements.ts';
