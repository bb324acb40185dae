// One object for the daemon to hold: webhook intake, model-list poller, deprecation registry, inventory and
// countdown, built from the config. The daemon registers the routes, calls `start()` when this instance leads
// (at once for a lone instance), `tick()` every minute or so on the leader, and `reload()` after a config
// reload. Everything is stored through the store's asynchronous SQL (SQLite or Postgres); what must happen once
// across instances (the countdown, webhook processing, the vigil.yaml deprecations) happens on the leader.
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
import type { Sql } from '../store/sql.ts';

export interface LifecycleOptions {
  /** `store.sql` (migration 005 applied). */
  sql: Sql;
  /** Whether this instance leads (processes webhooks, runs the countdown). Default: always. */
  leading?: () => boolean;
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
    this.registry = new DeprecationRegistry(o.sql, { now: () => o.clock.now() });
    this.countdown = new Countdown(o.sql, { leadDays: o.leadDays });
    this.intake = new WebhookIntake({
      sql: o.sql,
      leading: () => this.leading(),
      clock: o.clock,
      sources: () => this.currentSources(),
      sink: o.sink,
      registry: this.registry,
      onDeprecations: () => void this.checkCountdown().catch((err: unknown) => o.log?.error('countdown check failed', { error: String(err) })),
      log: o.log,
    });
    this.poller = new ModelListPoller({
      sql: o.sql,
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

  /**
   * On becoming leader (at start for a lone instance): sync vigil.yaml deprecations, reprocess stored-but-
   * unprocessed webhooks, run the countdown.
   */
  async start(): Promise<{ reprocessed: number; failed: number; countdown: CountdownReport }> {
    await this.reload();
    const r = await this.intake.reprocessPending();
    if (r.processed || r.failed) this.o.log?.info('reprocessed stored webhooks', r);
    return { reprocessed: r.processed, failed: r.failed, countdown: await this.checkCountdown() };
  }

  /** After a config reload: deprecations from vigil.yaml replace the previous ones (the leader's config rules). */
  async reload(): Promise<void> {
    if (!this.leading()) return;
    await this.registry.replaceOrigin('config', deprecationsFromConfig(this.o.config().deprecations));
  }

  /** Periodic work on the leader: poll model lists when due, then the countdown. Call every minute or so. */
  async tick(): Promise<{ polls: ProviderPoll[] | null; countdown: CountdownReport }> {
    const polls = await this.poller.pollIfDue();
    return { polls, countdown: await this.checkCountdown() };
  }

  /** The countdown, on the leader only (each lead time must fire once across instances). */
  async checkCountdown(): Promise<CountdownReport> {
    if (!this.leading()) return { fired: [], resolved: [] };
    return this.countdown.check(await this.registry.effective(), this.users(), this.o.clock.now(), this.o.sink);
  }

  private leading(): boolean {
    return this.o.leading?.() ?? true;
  }

  users(): ModelUser[] {
    const c = this.o.config();
    return buildInventory({ probes: c.probes, endpoints: c.endpoints, consumers: consumersFromConfig(c.consumers), served: this.o.served?.() });
  }

  async rows(opts: { all?: boolean } = {}): Promise<DeprecationRow[]> {
    return deprecationRows(await this.registry.effective(), this.users(), this.o.clock.now(), opts);
  }

  /** The `vigil deprecations` table. */
  async table(opts: { all?: boolean } = {}): Promise<string> {
    return formatDeprecations(await this.rows(opts));
  }

  /**
   * Gemini's in-band lifecycle: `modelStatus` of a generateContent reply (raw, or as parsed into a probe
   * result). A retirementTime becomes a deprecation of `model` from `api:<provider>:modelStatus`; returns
   * whether anything changed (so the countdown runs only then).
   */
  async noteModelStatus(provider: string, model: string, modelStatus: unknown): Promise<boolean> {
    const r = isParsed(modelStatus) ? modelStatus : geminiModelStatus(modelStatus);
    if (!r?.retireAt) return false;
    const changed = await this.registry.upsert({ model, provider: 'gemini', shutdownAt: r.retireAt, replacement: null, url: DEPRECATION_PAGES.gemini, origin: `api:${provider}:modelStatus` });
    if (changed) await this.checkCountdown();
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
export async function deprecationsTable(opts: {
  sql: Sql | null;
  config: VigilConfig;
  now: number;
  served?: ReadonlyMap<string, string | null>;
  all?: boolean;
}): Promise<string> {
  const stored = opts.sql ? (await new DeprecationRegistry(opts.sql, { now: () => opts.now, includeShipped: false }).rows()).filter((r) => r.origin !== 'config') : [];
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
