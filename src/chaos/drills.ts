// The drills feature in one object for the daemon and the CLI: the configured drills, running one (runner →
// store → metrics → atrophy signal), the cron scheduler and the /api/drills data. One drill runs at a time.
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { VigilConfig } from '../config/types.ts';
import type { ProbeResult, Signal } from '../domain.ts';
import type { HttpClient } from '../http/types.ts';
import type { Logger } from '../log.ts';
import { runnerDeps } from '../probes/deps.ts';
import type { Store } from '../store/store.ts';
import { runDrill } from './drill.ts';
import type { DrillDeps, DrillRun } from './drill.ts';
import { registerDrillMetrics } from './drill-metrics.ts';
import type { DrillMetrics } from './drill-metrics.ts';
import { DrillScheduler } from './drill-scheduler.ts';
import { drillSignal } from './drill-signal.ts';
import { DrillStore } from './drill-store.ts';
import type { DrillRunSummary, StoredDrillRun } from './drill-store.ts';
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

export class DrillService {
  private readonly o: DrillServiceOptions;
  private readonly db: DrillStore | null;
  private readonly metrics: DrillMetrics | null;
  private readonly scheduler: DrillScheduler;
  private busy: string | null = null;
  private warned = new Set<string>();

  constructor(opts: DrillServiceOptions) {
    this.o = opts;
    this.db = opts.store ? new DrillStore(opts.store.db) : null;
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
        ...this.o.overrides,
      };
      this.o.log?.info('drill starting', { drill: id, faults: drill.faults.length, native: drill.native });
      const run = await runDrill(drill, deps, { signal: opts.signal });
      this.record(run, drill);
      return run;
    } finally {
      this.busy = null;
    }
  }

  private record(run: DrillRun, drill: DrillSpec): void {
    const log = this.o.log;
    try {
      this.db?.insert(run);
    } catch (err) {
      log?.error('drill run not stored', { drill: run.drillId, error: String(err) });
    }
    this.metrics?.observe(run);
    const signal = drillSignal(run, drill);
    if (signal) {
      try {
        this.o.incidents?.ingest(signal);
      } catch (err) {
        log?.error('drill signal not ingested', { drill: run.drillId, error: String(err) });
      }
    }
    const fields = { drill: run.drillId, run: run.runId, verdict: run.verdict, reason: run.reason, served_by: run.servedBy, fallback_latency_ms: run.fallbackLatencyMs };
    if (run.verdict === 'passed' || run.verdict === 'skipped') log?.info('drill finished', fields);
    else log?.warn('drill finished', fields);
  }

  // ── scheduling ─────────────────────────────────────────────────────────────────────────────────────────────

  start(): void {
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
  overview(limit = 10): DrillOverview[] {
    const next = new Map(this.scheduler.nextRuns().map((n) => [n.id, n.at]));
    return this.specs().map((d) => ({
      id: d.id,
      name: d.name,
      owner: d.owner,
      schedule: d.schedule,
      manual: d.schedule === null,
      nextRunAt: next.get(d.id) ?? null,
      running: this.busy === d.id,
      faults: d.faults.length,
      native: d.native,
      probes: d.probes,
      runs: (this.db?.runs(d.id, limit, false) ?? []) as DrillRunSummary[],
    }));
  }

  /** One drill's runs with their journals; null for an unknown drill without history. */
  history(id: string, limit = 20): { drill: DrillOverview | null; runs: StoredDrillRun[] } | null {
    const drill = this.overview(0).find((d) => d.id === id) ?? null;
    const runs = (this.db?.runs(id, limit, true) ?? []) as StoredDrillRun[];
    if (!drill && runs.length === 0) return null;
    return { drill, runs };
  }

  /** One run with its journal and the probe results it produced. */
  runDetail(runId: string): { run: StoredDrillRun; results: ProbeResult[] } | null {
    const run = this.db?.run(runId) ?? null;
    if (!run) return null;
    const results = this.o.store ? this.o.store.results({ drillId: run.drillId, since: run.startedAt, until: run.finishedAt + 1 }) : [];
    return { run, results };
  }

  /** Retention: forget runs older than this (call from the daemon's maintenance loop). */
  prune(beforeMs: number): number {
    return this.db?.prune(beforeMs) ?? 0;
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
  probes: string[];
  runs: DrillRunSummary[];
}
