// Model-list polling: fetch each provider's list, record which models exist, feed OpenAI's `shutdown_date`
// to the deprecation registry, and raise a critical `model_list` signal to the owners when a model that a
// probe or declared consumer uses disappears (confirmed over `confirmPolls` successful polls in a row, so
// one odd answer never pages), resolved when it comes back. A failed fetch counts for nothing.
import type { Clock } from '../clock.ts';
import type { ProviderEndpoint, Signal } from '../domain.ts';
import type { HttpClient } from '../http/types.ts';
import type { Logger } from '../log.ts';
import type { Sql } from '../store/sql.ts';
import { byOwner, describeUsers } from '../lifecycle/inventory.ts';
import { DEPRECATION_PAGES } from '../lifecycle/known-retirements.ts';
import { globMatch, normalizeModel, satisfiedBy } from '../lifecycle/match.ts';
import type { DeprecationRegistry } from '../lifecycle/registry.ts';
import type { ModelUser } from '../lifecycle/types.ts';
import type { SignalSink } from './config.ts';
import { fetchListSource, fetchModelList, LIST_TIMEOUTS } from './model-lists.ts';
import type { ListedModel, ModelListSource } from './model-lists.ts';

export const MODEL_LIST_DETECTOR = 'model_list';
export const DEFAULT_POLL_EVERY_MS = 6 * 3_600_000;
export const DEFAULT_CONFIRM_POLLS = 2;

export interface ModelListPollerOptions {
  sql: Sql;
  http: HttpClient;
  clock: Clock;
  /** vigil.yaml `providers` (a getter, so a config reload takes effect). Gateways have no model list here. */
  providers: () => Record<string, ProviderEndpoint>;
  /** vigil.yaml `model_lists:` (Azure, Bedrock, Mistral, OpenRouter), also a getter. */
  lists?: () => readonly ModelListSource[];
  /** The current inventory (probes and consumers). */
  users: () => readonly ModelUser[];
  registry?: DeprecationRegistry;
  sink: SignalSink;
  confirmPolls?: number;
  everyMs?: number;
  log?: Pick<Logger, 'warn' | 'info'>;
  /** Per-request timeouts (default 5 s connect, 30 s total). */
  timeouts?: typeof LIST_TIMEOUTS;
}

export interface ProviderPoll {
  provider: string;
  ok: boolean;
  models: number;
  error: string | null;
  fired: Signal[];
  resolved: Signal[];
}

/** One list to poll: a probe provider's own endpoint or a `model_lists:` source. */
interface Pollable {
  name: string;
  /** Matched against consumers' `provider` (openai, anthropic, gemini, azure, bedrock, mistral, openrouter). */
  kind: string;
  /** Provider recorded on the deprecations this list yields. */
  provider: string;
  /** Docs link for those deprecations. */
  url: string | null;
  everyMs: number | null;
  fetch(): Promise<ListedModel[]>;
}

interface WatchRow {
  seen: number;
  via: string | null;
  missed: number;
  firing: number;
  updated_at: number;
}

export class ModelListPoller {
  private readonly o: ModelListPollerOptions;
  private readonly confirm: number;
  private readonly everyMs: number;
  private running: Promise<ProviderPoll[]> | null = null;

  constructor(o: ModelListPollerOptions) {
    this.o = o;
    this.confirm = Math.max(1, o.confirmPolls ?? DEFAULT_CONFIRM_POLLS);
    this.everyMs = o.everyMs ?? DEFAULT_POLL_EVERY_MS;
  }

  /** Poll what is due: every source whose own interval (or `everyMs`) has passed since it was last tried (stored, so a restart does not poll early). Cheap to call often. */
  async pollIfDue(): Promise<ProviderPoll[] | null> {
    const now = this.o.clock.now();
    const last = new Map((await this.o.sql.all<{ provider: string; t: number }>('SELECT provider, last_try_at AS t FROM model_polls')).map((r) => [r.provider, r.t]));
    const due = this.pollable().filter((p) => {
      const t = last.get(p.name);
      return t === undefined || now - t >= (p.everyMs ?? this.everyMs);
    });
    return due.length ? this.poll(due.map((p) => p.name)) : null;
  }

  /** Poll every source now, or only `names` (concurrent calls share one run). */
  poll(names?: readonly string[]): Promise<ProviderPoll[]> {
    this.running ??= this.pollAll(names ? new Set(names) : null).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** What the last successful poll listed for `provider` (for the API / CLI). */
  async listed(provider: string): Promise<{ model: string; present: boolean; lastSeen: number; shutdownDate: string | null }[]> {
    const rows = await this.o.sql.all<{ model: string; present: number; last_seen: number; shutdown_date: string | null }>(
      'SELECT model, present, last_seen, shutdown_date FROM provider_models WHERE provider = ? ORDER BY model',
      [provider],
    );
    return rows.map((r) => ({
      model: r.model,
      present: r.present === 1,
      lastSeen: r.last_seen,
      shutdownDate: r.shutdown_date,
    }));
  }

  /** Probe providers with a model list, then the `model_lists:` sources. */
  private pollable(): Pollable[] {
    const timeouts = this.o.timeouts ?? LIST_TIMEOUTS;
    const providers: Pollable[] = Object.entries(this.o.providers())
      .filter(([, ep]) => ep.kind === 'openai' || ep.kind === 'anthropic' || ep.kind === 'gemini')
      .map(([name, ep]) => ({
        name,
        kind: ep.kind,
        provider: ep.kind,
        url: DEPRECATION_PAGES[ep.kind as keyof typeof DEPRECATION_PAGES] ?? null,
        everyMs: null,
        fetch: () => fetchModelList(this.o.http, ep, timeouts),
      }));
    const lists: Pollable[] = (this.o.lists?.() ?? []).map((src) => ({
      name: src.name,
      kind: src.provider,
      provider: src.provider,
      url: null,
      everyMs: src.everyMs,
      fetch: () => fetchListSource(this.o.http, src, timeouts, this.o.clock.now()),
    }));
    return [...providers, ...lists];
  }

  private async pollAll(only: ReadonlySet<string> | null): Promise<ProviderPoll[]> {
    const out: ProviderPoll[] = [];
    for (const p of this.pollable()) {
      if (only && !only.has(p.name)) continue;
      let list: ListedModel[] | null = null;
      let error: string | null = null;
      try {
        list = await p.fetch();
        // A real account always lists models: an empty list is a broken answer, not a mass retirement.
        if (list.length === 0) {
          list = null;
          error = 'empty model list';
        }
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      const now = this.o.clock.now();
      if (!list) {
        await this.pollPut(p.name, null, now, error, null);
        this.o.log?.warn('model list poll failed', { provider: p.name, error });
        out.push({ provider: p.name, ok: false, models: 0, error, fired: [], resolved: [] });
        continue;
      }
      out.push(await this.record(p, list, now));
    }
    return out;
  }

  private pollPut(provider: string, okAt: number | null, tryAt: number, error: string | null, models: number | null): Promise<unknown> {
    return this.o.sql.run(
      `INSERT INTO model_polls (provider, last_ok_at, last_try_at, last_error, models) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (provider) DO UPDATE SET last_ok_at = COALESCE(excluded.last_ok_at, model_polls.last_ok_at),
         last_try_at = excluded.last_try_at, last_error = excluded.last_error, models = COALESCE(excluded.models, model_polls.models)`,
      [provider, okAt, tryAt, error, models],
    );
  }

  private watchPut(provider: string, model: string, seen: number, via: string | null, missed: number, firing: number, at: number): Promise<unknown> {
    return this.o.sql.run(
      `INSERT INTO model_watch (provider, model, seen, via, missed, firing, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider, model) DO UPDATE SET seen = excluded.seen, via = excluded.via, missed = excluded.missed,
         firing = excluded.firing, updated_at = excluded.updated_at`,
      [provider, model, seen, via, missed, firing, at],
    );
  }

  /** One successful poll, recorded in one transaction; its signals go out once that has committed. */
  private async record(p: Pollable, list: ListedModel[], now: number): Promise<ProviderPoll> {
    const name = p.name;
    const result: ProviderPoll = { provider: name, ok: true, models: list.length, error: null, fired: [], resolved: [] };
    const ids = new Set(list.map((m) => normalizeModel(m.id)));
    const watched = this.watchedBy(name, p.kind);
    const out: Signal[] = [];
    await this.o.sql.transaction(async () => {
      await this.o.sql.run('UPDATE provider_models SET present = 0 WHERE provider = ?', [name]);
      for (const m of list) {
        await this.o.sql.run(
          `INSERT INTO provider_models (provider, model, present, first_seen, last_seen, shutdown_date) VALUES (?, ?, 1, ?, ?, ?)
           ON CONFLICT (provider, model) DO UPDATE SET present = 1, last_seen = excluded.last_seen, shutdown_date = excluded.shutdown_date`,
          [name, m.id, now, now, m.shutdownDate],
        );
      }
      await this.pollPut(name, now, now, null, list.length);
      await this.o.registry?.replaceOrigin(
        `api:${name}`,
        list
          .filter((m) => m.shutdownDate)
          .map((m) => ({ model: m.id, provider: p.provider, shutdownAt: m.shutdownDate!, replacement: m.replacement ?? null, url: p.url })),
      );
      for (const [model, users] of watched) {
        const prev = await this.o.sql.get<WatchRow>('SELECT seen, via, missed, firing, updated_at FROM model_watch WHERE provider = ? AND model = ?', [name, model]);
        const via = this.satisfy(model, ids, prev?.via ?? null);
        if (via) {
          if (prev?.firing) out.push(...this.signals(name, model, users, 'resolved', now, prev, list.length));
          await this.watchPut(name, model, 1, via, 0, 0, now);
        } else if (prev?.seen) {
          const missed = prev.missed + 1;
          const fire = missed >= this.confirm && !prev.firing;
          if (fire) out.push(...this.signals(name, model, users, 'firing', now, { ...prev, missed }, list.length));
          await this.watchPut(name, model, 1, prev.via, missed, prev.firing || fire ? 1 : 0, prev.updated_at); // updated_at = last listed
        }
        // Never satisfied: an alias this list does not name (or a typo the probe itself reports). Nothing to lose.
      }
    });
    for (const s of out) {
      this.o.sink(s);
      (s.status === 'firing' ? result.fired : result.resolved).push(s);
    }
    return result;
  }

  /**
   * The listed id satisfying `model`. Once it was listed under its own id (OpenAI lists aliases), only that id
   * counts: a remaining snapshot does not keep an alias alive.
   */
  private satisfy(model: string, ids: ReadonlySet<string>, via: string | null): string | null {
    const m = normalizeModel(model);
    if (m.includes('*')) {
      for (const id of ids) if (globMatch(m, id)) return id;
      return null;
    }
    if (via === m) return ids.has(m) ? m : null;
    return satisfiedBy(m, ids);
  }

  /** Models to check against this provider's list, with who uses them. */
  private watchedBy(name: string, kind: string): Map<string, ModelUser[]> {
    const out = new Map<string, ModelUser[]>();
    for (const u of this.o.users()) {
      const mine = u.providerName ? u.providerName === name : u.kind === 'consumer' && (u.providerKind === null || u.providerKind === kind);
      if (!mine) continue;
      const list = out.get(u.model) ?? [];
      list.push(u);
      out.set(u.model, list);
    }
    return out;
  }

  private signals(provider: string, model: string, users: ModelUser[], status: 'firing' | 'resolved', at: number, w: WatchRow, listed: number): Signal[] {
    return [...byOwner(users)].map(([owner, theirs]) => {
      const who = describeUsers(theirs);
      return {
        detector: MODEL_LIST_DETECTOR,
        key: `${model}@${owner}`,
        severity: 'critical',
        status,
        summary:
          status === 'firing'
            ? `${model} is gone from ${provider}'s model list (missing from ${w.missed} polls in a row); used by ${who}`
            : `${model} is back in ${provider}'s model list`,
        evidence: {
          model,
          provider,
          listed_as: w.via,
          missed_polls: w.missed,
          last_listed_at: new Date(w.updated_at).toISOString(),
          models_listed: listed,
          used_by: who,
        },
        labels: { owner, model, provider },
        at,
      } satisfies Signal;
    });
  }
}
