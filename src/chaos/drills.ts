// The drills feature in one object for the daemon and the CLI: the configured drills, running one (runner →
// store → metrics → atrophy signal), the cron scheduler and the /api/drills data. One drill runs at a time.
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { VigilConfig } from '../config/types.ts';
import type { ProbeResult, Signal } from '../domain.ts';
import type { HttpClient } from '../http/types.ts';
import type { Logger } from '../log.ts';
import { runnerDeps } from '../probes/deps.ts';
import type { Store } from '../store/store.ts';
import { runDrill } from './drill.ts';
import type { DrillDeps, DrillRun, JournalEntry } from './drill.ts';
import { registerDrillMetrics } from './drill-metrics.ts';
import type { DrillMetrics } from './drill-metrics.ts';
import { DrillScheduler } from './drill-scheduler.ts';
import { drillSignalKeys, drillSignals } from './drill-signal.ts';
import { DrillStore } from './drill-store.ts';
import type { DrillRunSummary, StoredDrillRun } from './drill-store.ts';
import { formatRunner, runnerAlive } from './drill-runner-id.ts';
import type { FaultDriver } from './fault-driver.ts';
import { drillsOf } from './scenario.ts';
import type { DrillSpec } from './scenario.ts';

export interface DrillServiceOptions {
  clock: Clock;
  http: HttpClient;
  /** The live config (re-read on every run, so a reload applies). */
  config: () => VigilConfig;
  /** Where faults go (in-process proxy or its HTTP control API); null: only native drills can run. */
  faults: FaultDriver | null;
  /** Store for drill runs (migration 004) and the drills' probe results; null keeps nothing. */
  store?: Store | null;
  /** Registry to add drill_success / drill_fallback_latency_seconds to (the daemon's `metrics.registry`). */
  registry?: Registry | null;
  /** The incidents engine: failed drills fire to the owner, passed ones resolve. */
  incidents?: { ingest(signal: Signal): unknown } | null;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Tests: swap pieces of the runner's deps (runProbe, probe runner). */
  overrides?: Partial<DrillDeps>;
}

export class DrillBusyError extends Error {}

/** A `running` row on another host with no journal entry for this long is taken as interrupted. */
const FOREIGN_STALE_MS = 30 * 60_000;

export class DrillService {
  private readonly o: DrillServiceOptions;
  private readonly db: DrillStore | null;
  private readonly metrics: DrillMetrics | null;
  private readonly scheduler: DrillScheduler;
  private busy: string | null = null;
  /** Run id of the drill in progress in this process. */
  private busyRun: string | null = null;
  private warned = new Set<string>();
  /** This process, as written in drill_runs.runner. */
  private readonly runner = formatRunner(hostname(), process.pid);
  /** Progress writes of the run in progress, in order (a later journal never overwritten by an earlier one). */
  private progressWrites: Promise<void> = Promise.resolve();

  constructor(opts: DrillServiceOptions) {
    this.o = opts;
    this.db = opts.store ? new DrillStore(opts.store.sql) : null;
    this.metrics = opts.registry ? registerDrillMetrics(opts.registry) : null;
    this.scheduler = new DrillScheduler({
      clock: opts.clock,
      run: (d, signal) => this.run(d.id, { signal }),
      onSkip: (d, at) => opts.log?.warn('drill slot skipped: too late', { drill: d.id, planned: new Date(at).toISOString() }),
      onError: (d, err) => opts.log?.error('drill run error', { drill: d.id, error: String(err) }),
    });
  }

  /** The configured drills that are valid (unknown probe references are logged once and left out). */
  specs(): DrillSpec[] {
    const { drills, problems } = drillsOf(this.o.config());
    for (const p of problems) {
      if (this.warned.has(p)) continue;
      this.warned.add(p);
      this.o.log?.error('drill left out', { problem: p });
    }
    return drills;
  }

  /** The incident keys of the configured drills' signals (detector `drill`), for retiring the others on reload. */
  signalKeys(): Set<string> {
    return new Set(this.specs().flatMap(drillSignalKeys));
  }

  spec(id: string): DrillSpec | undefined {
    return this.specs().find((d) => d.id === id);
  }

  /** The id of the drill running now, if any. */
  get running(): string | null {
    return this.busy;
  }

  /** Run one drill now. Throws DrillBusyError while another runs, and Error for an unknown id. */
  async run(id: string, opts: { signal?: AbortSignal } = {}): Promise<DrillRun> {
    const drill = this.spec(id);
    if (!drill) throw new Error(`no drill "${id}"; known: ${this.specs().map((d) => d.id).join(', ') || 'none'}`);
    if (this.busy) throw new DrillBusyError(`drill ${this.busy} is running; one drill at a time`);
    this.busy = id;
    try {
      // Runs a dead process left `running` are closed first (and their leftover faults cleared).
      await this.recover();
      const config = this.o.config();
      const probes = new Map(config.probes.map((p) => [p.id, p]));
      const store = this.o.store ?? null;
      const deps: DrillDeps = {
        clock: this.o.clock,
        probeRunner: runnerDeps(config, this.o.http, this.o.clock),
        probe: (pid) => probes.get(pid),
        faults: this.o.faults,
        gatewayFlavour: config.gateway?.flavour ?? null,
        history: store ? (pid) => store.results({ probe: pid, drills: 'exclude', limit: 20, order: 'desc' }) : undefined,
        onResult: store ? (r: ProbeResult) => store.insertResult(r) : undefined,
        onProgress: this.db
          ? (p) => {
              this.busyRun = p.runId;
              const snapshot = { ...p, journal: [...p.journal], faults: [...p.faults], attempts: [...p.attempts] };
              // Best effort, like onResult: a full disk must not stop the drill or its rollback.
              this.progressWrites = this.progressWrites
                .then(() => this.db!.progress(snapshot, this.runner))
                .catch((err: unknown) => this.o.log?.warn('drill progress not stored', { drill: p.drillId, error: String(err) }));
            }
          : undefined,
        ...this.o.overrides,
      };
      this.o.log?.info('drill starting', { drill: id, faults: drill.faults.length, native: drill.native });
      const run = await runDrill(drill, deps, { signal: opts.signal });
      await this.record(run, drill);
      return run;
    } finally {
      this.busy = null;
      this.busyRun = null;
    }
  }

  /** Resolves once the progress of the run in progress written so far is committed (tests, shutdown). */
  progressWritten(): Promise<void> {
    return this.progressWrites;
  }

  /**
   * Close the runs a dead process left `running` (kill -9, power loss, OOM): each becomes `interrupted`, keeping
   * the journal it had written, with a last entry saying so. Faults it had injected and not rolled back are
   * cleared now when the proxy can be reached (a proxy in its own process outlives the drill's process); else the
   * journal says when the proxy drops them by their TTL. Runs of a live process (another `vigil drill`, or the
   * daemon) are left alone. Called at start and before every run; returns the runs it closed.
   */
  async recover(): Promise<StoredDrillRun[]> {
    if (!this.db) return [];
    const closed: StoredDrillRun[] = [];
    const now = this.o.clock.now();
    for (const row of await this.db.running()) {
      if (row.runId === this.busyRun) continue;
      const lastAt = row.journal.length > 0 ? row.journal[row.journal.length - 1].at : row.startedAt;
      const alive = row.runner === this.runner ? false : runnerAlive(row.runner, hostname());
      if (alive === true || (alive === null && now - lastAt < FOREIGN_STALE_MS)) continue;
      const journal: JournalEntry[] = [...row.journal];
      const rolledBack = journal.some((e) => e.step === 'rollback');
      let rollback = row.rollback;
      if (row.faults.length > 0 && !rolledBack) {
        rollback = await this.clearLeftovers(row, journal, now);
      } else if (rolledBack) {
        const e = [...journal].reverse().find((x) => x.step === 'rollback')!;
        rollback = { ok: e.status === 'ok', detail: e.detail };
      } else {
        rollback = { ok: true, detail: 'nothing to roll back' };
      }
      const last = row.journal[row.journal.length - 1];
      const reason =
        `interrupted: the process running the drill (${row.runner ?? 'unknown'}) stopped before it finished` +
        (last ? `; last step: ${last.step}: ${last.detail}` : '') +
        (rollback.ok ? '' : `; rollback: ${rollback.detail}`);
      journal.push({ at: now, step: 'end', status: 'error', detail: reason.slice(0, 1000) });
      const run: StoredDrillRun = { ...row, verdict: 'interrupted', reason: reason.slice(0, 1000), finishedAt: lastAt, rollback, journal };
      try {
        await this.db.insert(run, row.runner);
      } catch (err) {
        this.o.log?.error('interrupted drill run not stored', { drill: row.drillId, run: row.runId, error: String(err) });
        continue;
      }
      this.metrics?.observe(run);
      this.o.log?.warn('drill run was interrupted', { drill: row.drillId, run: row.runId, runner: row.runner, last_step: last?.step ?? null, rollback: rollback.detail });
      closed.push(run);
    }
    return closed;
  }

  private async clearLeftovers(row: StoredDrillRun, journal: JournalEntry[], now: number): Promise<{ ok: boolean; detail: string }> {
    const ids = row.faults.map((f) => f.id);
    const driver = this.o.faults;
    if (!driver) {
      const detail = `no proxy to reach from here: ${ids.join(', ')} expire by their TTL inside the proxy`;
      journal.push({ at: now, step: 'rollback', status: 'info', detail });
      return { ok: true, detail };
    }
    const errors: string[] = [];
    let cleared = 0;
    for (const id of ids) {
      try {
        cleared += await driver.clear(id);
      } catch (err) {
        errors.push(`${id}: ${(err as Error).message}`);
      }
    }
    if (errors.length === 0) {
      const detail = cleared > 0 ? `cleared ${cleared} leftover fault${cleared === 1 ? '' : 's'} (${ids.join(', ')}) on recovery` : `none of ${ids.join(', ')} was still in the proxy (a proxy restart or their TTL had cleared them)`;
      journal.push({ at: now, step: 'rollback', status: 'ok', detail });
      return { ok: true, detail };
    }
    const detail = `${errors.join('; ')}; the proxy drops them by their TTL`;
    journal.push({ at: now, step: 'rollback', status: 'error', detail });
    return { ok: false, detail };
  }

  private async record(run: DrillRun, drill: DrillSpec): Promise<void> {
    const log = this.o.log;
    try {
      await this.progressWrites;
      await this.db?.insert(run, this.runner);
    } catch (err) {
      log?.error('drill run not stored', { drill: run.drillId, error: String(err) });
    }
    this.metrics?.observe(run);
    for (const signal of drillSignals(run, drill)) {
      try {
        this.o.incidents?.ingest(signal);
      } catch (err) {
        log?.error('drill signal not ingested', { drill: run.drillId, key: signal.key, error: String(err) });
      }
    }
    const fields = { drill: run.drillId, run: run.runId, verdict: run.verdict, reason: run.reason, served_by: run.servedBy, fallback_latency_ms: run.fallbackLatencyMs };
    if (run.verdict === 'passed' || run.verdict === 'skipped') log?.info('drill finished', fields);
    else log?.warn('drill finished', fields);
  }

  // ── scheduling ─────────────────────────────────────────────────────────────────────────────────────────────

  /** Starts the schedule once runs left `running` by a dead process are closed (see recover). */
  async start(): Promise<void> {
    try {
      await this.recover();
    } catch (err) {
      this.o.log?.error('could not close interrupted drill runs', { error: String(err) });
    }
    this.scheduler.start(this.specs());
    this.metrics?.retain(this.specs().map((d) => d.id));
  }

  /** After a config reload. */
  reload(): void {
    const specs = this.specs();
    this.scheduler.update(specs);
    this.metrics?.retain(specs.map((d) => d.id));
  }

  /** Stops scheduling; a drill in progress is aborted and rolled back before this resolves. */
  stop(): Promise<void> {
    return this.scheduler.stop();
  }

  // ── history (for /api/drills and `vigil drill`) ─────────────────────────────────────────────────────────────

  /** Every configured drill with its schedule, next run and recent runs (newest first). */
  async overview(limit = 10): Promise<DrillOverview[]> {
    const next = new Map(this.scheduler.nextRuns().map((n) => [n.id, n.at]));
    const specs = this.specs();
    const runs = await Promise.all(specs.map(async (d) => ((limit > 0 ? await this.db?.runs(d.id, limit, false) : null) ?? []) as DrillRunSummary[]));
    return specs.map((d, i) => ({
      id: d.id,
      name: d.name,
      owner: d.owner,
      schedule: d.schedule,
      manual: d.schedule === null,
      nextRunAt: next.get(d.id) ?? null,
      running: this.busy === d.id,
      faults: d.faults.length,
      native: d.native,
      check: d.check,
      probes: d.probes,
      runs: runs[i],
    }));
  }

  /** One drill's runs with their journals; null for an unknown drill without history. */
  async history(id: string, limit = 20): Promise<{ drill: DrillOverview | null; runs: StoredDrillRun[] } | null> {
    const drill = (await this.overview(0)).find((d) => d.id === id) ?? null;
    const runs = ((await this.db?.runs(id, limit, true)) ?? []) as StoredDrillRun[];
    if (!drill && runs.length === 0) return null;
    return { drill, runs };
  }

  /** One run with its journal and the probe results it produced. */
  async runDetail(runId: string): Promise<{ run: StoredDrillRun; results: ProbeResult[] } | null> {
    const run = (await this.db?.run(runId)) ?? null;
    if (!run) return null;
    const results = this.o.store ? await this.o.store.results({ drillId: run.drillId, since: run.startedAt, until: run.finishedAt + 1 }) : [];
    return { run, results };
  }

  /** Retention: forget runs older than this (call from the daemon's maintenance loop). */
  async prune(beforeMs: number): Promise<number> {
    return (await this.db?.prune(beforeMs)) ?? 0;
  }
}

export interface DrillOverview {
  id: string;
  name: string | null;
  owner: string;
  schedule: DrillSpec['schedule'];
  manual: boolean;
  nextRunAt: number | null;
  running: boolean;
  faults: number;
  native: DrillSpec['native'];
  check: DrillSpec['check'];
  probes: string[];
  runs: DrillRunSummary[];
}
