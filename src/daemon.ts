// Wiring only: scheduler → runner → store/metrics, server, maintenance. Each part does its own job.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { StartupError, startupStep } from './runtime/startup.ts';
import { runShutdown } from './runtime/shutdown.ts';
import { errorLine, onCrash } from './runtime/crash.ts';
import type { CrashKind } from './runtime/crash.ts';
import type { ShutdownReport } from './runtime/shutdown.ts';
import { LoopMonitor } from './health/loop.ts';
import { engineCheck, loopCheck, report as healthReport, schedulerCheck, StoreHealth } from './health/self.ts';
import type { HealthReport } from './health/self.ts';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import { ConfigLoadError, formatErrors } from './config/errors.ts';
import { loadRunConfig } from './config/run-load.ts';
import { loopbackLinkWarning } from './config/links.ts';
import { disabledReason } from './config/requirements.ts';
import { DisabledMetrics, registerStoreMetrics } from './health/metrics.ts';
import { Spill } from './health/spill.ts';
import { Heartbeat, HeartbeatMetrics } from './health/heartbeat.ts';
import { EmergencyPager } from './health/emergency.ts';
import type { SpillSummary } from './health/spill.ts';
import type { VigilConfig } from './config/types.ts';
import type { ProbeResult, ProbeSpec, Signal } from './domain.ts';
import { createHttpClient } from './http/client.ts';
import type { HttpClient } from './http/types.ts';
import type { Logger } from './log.ts';
import { createLogger, registerSecret } from './log.ts';
import { createMetrics } from './metrics/index.ts';
import type { VigilMetrics } from './metrics/index.ts';
import { registerSignalMetrics } from './metrics/signals.ts';
import { providerLabel } from './metrics/labels.ts';
import type { SignalMetrics } from './metrics/signals.ts';
import { runnerDeps } from './probes/deps.ts';
import { runProbe } from './probes/run.ts';
import { ProbeThreads, threadConfig } from './probes/threads.ts';
import { Scheduler } from './scheduler/index.ts';
import { startServer } from './server/index.ts';
import type { ListenerSpec, VigilServer } from './server/index.ts';
import { hourFloor, isPostgresUrl, Store } from './store/store.ts';
import { secretValues } from './config/redact.ts';
import { AvailabilityDetector, isFinal, probeLabels, reachesAvailability } from './detectors/availability.ts';
import { resumeAvailability, saveAvailability } from './detectors/availability-persist.ts';
import { ON_FALLBACK, attribute, directPeers, fallbackSignal, isGatewayTarget, onFallback } from './detectors/attribution.ts';
import { EGRESS_DETECTOR, EgressWatch } from './health/egress.ts';
import { LatencyWatch } from './detectors/latency/watch.ts';
import { DRIFT_DETECTORS, DriftWatch } from './detectors/drift-watch.ts';
import { linkProxy } from './chaos/sidecar.ts';
import { DrillService } from './chaos/drills.ts';
import { drillRoutes } from './chaos/drill-api.ts';
import type { ProxyLink } from './chaos/sidecar.ts';
import { alertsConfig, incidentRoutes, IncidentManager } from './incidents/index.ts';
import { uiDataFromDaemon } from './ui/daemon-data.ts';
import { uiRoutes } from './ui/routes.ts';
import type { AlertsConfig } from './incidents/index.ts';
import { createNotifiers } from './notifiers/index.ts';
import { Lifecycle } from './lifecycle/index.ts';
import { registerLifecycleMetrics } from './lifecycle/metrics.ts';
import type { Notifier } from './notifiers/types.ts';
import type { ReceiverKind } from './notifiers/types.ts';
import { Leader } from './cluster/leader.ts';
import { LocationFeed } from './cluster/location-feed.ts';
import { LocationLatency } from './cluster/location-latency.ts';
import { loadBaselinesByKey, saveBaselines } from './detectors/latency/persist.ts';
import { clusterRoutes, registerClusterMetrics } from './cluster/api.ts';

export interface DaemonOptions {
  configDir: string;
  env?: Record<string, string | undefined>;
  clock?: Clock;
  log?: Logger;
  /** Override the configured listen address (tests use port 0). */
  listen?: { host?: string; port?: number };
  /** Run rollups and retention every this often (default 1 h). */
  maintenanceEveryMs?: number;
  /** Incident engine tick (default 5 s). */
  incidentTickMs?: number;
  /** How often the leader reads every location's new results on a shared store (default 2 s). */
  locationPollMs?: number;
  /** How often the leader processes webhooks other instances stored (default 5 s). */
  webhookPollMs?: number;
  /** Notifiers (default: PagerDuty, Slack and console). */
  notifiers?: Record<ReceiverKind, Notifier>;
  /** Refuse to start when any ${VAR} the config uses is unset (default: run what can run, disable the rest). */
  strictEnv?: boolean;
  /** An event-loop stall at least this long makes /healthz fail for a minute (default 5000 ms). */
  loopStallMs?: number;
  /** How often results kept in memory during a store outage are retried (default 5 s). */
  spillRetryMs?: number;
}

const HOUR = 3_600_000;

export class Daemon {
  readonly clock: Clock;
  readonly log: Logger;
  readonly store: Store;
  readonly metrics: VigilMetrics;
  readonly scheduler: Scheduler;
  readonly http: HttpClient;
  /** Where probe calls run when not on this loop (vigil.yaml `scheduler.probe_threads`). */
  private readonly probeThreads: ProbeThreads | null;
  readonly incidents: IncidentManager;
  readonly lifecycle: Lifecycle;
  private signalMetrics: SignalMetrics;
  private alerts: AlertsConfig;
  private availability: AvailabilityDetector;
  /**
   * On a shared PostgreSQL store, availability and latency are decided across locations: the leader follows every instance's
   * results and combines per-location verdicts (src/cluster/location-feed.ts); null on SQLite (one instance).
   */
  readonly locationFeed: LocationFeed | null;
  private latencyWatch: LatencyWatch;
  readonly drift: DriftWatch;
  private opts: DaemonOptions;
  private current: VigilConfig;
  private specs = new Map<string, ProbeSpec>();
  private latest: Map<string, ProbeResult>;
  private server: VigilServer | null = null;
  /** The fault-injection proxy for drills (its own process), when vigil.yaml has `chaos:`. */
  chaos: ProxyLink | null = null;
  drills: DrillService | null = null;
  /**
   * The leader lease: incident evaluation and notifications, drills, model-list polling, maintenance and signal
   * ingestion run only on the instance that holds it. A lone instance takes it at start.
   */
  leader!: Leader;
  private incidentTickMs = 5_000;
  private started = false;
  private handover: Promise<void> = Promise.resolve();
  private maintenance = new AbortController();
  private loops: Promise<void>[] = [];
  private stopping: Promise<ShutdownReport> | null = null;
  private forgetLastWords: () => void = () => {};
  /** Whether this process raised the Watchdog (so that turning it off by a reload resolves it). */
  private watchdogRaised = false;
  /** Whether this process has resolved a Watchdog left by an earlier one since it was turned off. */
  private watchdogSwept = false;
  /** Outcome of the daemon's writes to its store (/healthz, /readyz, the heartbeat). */
  readonly storeHealth: StoreHealth;
  private readonly loopMonitor: LoopMonitor;
  private readonly disabledMetrics: DisabledMetrics;
  /** Results and signals kept in memory while the store cannot be written (a full disk). */
  readonly spill: Spill;
  /** The outbound dead man's switch (vigil.yaml `heartbeat:`). */
  readonly heartbeat: Heartbeat;
  /** Critical pages delivered from memory while the store (and so the outbox) cannot be written. */
  private readonly emergency: EmergencyPager;
  /** Our own egress versus the providers' outage (vigil.yaml `control:`). */
  readonly egress: EgressWatch;

  private constructor(opts: DaemonOptions, config: VigilConfig, store: Store, latest: Map<string, ProbeResult>) {
    this.opts = opts;
    const self = this as Daemon;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? createLogger({ clock: this.clock });
    this.current = config;
    this.indexSpecs(config);
    this.storeHealth = new StoreHealth((ok, error) =>
      ok ? this.log.info('store writes work again') : this.log.error('store writes failing', { store: store.path, error }),
    );
    this.loopMonitor = new LoopMonitor({
      stallMs: opts.loopStallMs ?? 5_000,
      onStall: (st) => this.log.error('event loop stalled', { stall_ms: st.ms }),
    });
    this.store = store;
    this.latest = latest;
    this.metrics = createMetrics();
    this.disabledMetrics = new DisabledMetrics(this.metrics.registry);
    this.spill = new Spill(() => this.current.storage.memoryBuffer);
    registerStoreMetrics(this.metrics.registry, {
      writable: () => this.storeHealth.ok,
      pending: () => this.spill.pending,
      pendingSignals: () => this.spill.pendingSignals,
      dropped: () => this.spill.droppedTotal,
    });
    this.signalMetrics = registerSignalMetrics(this.metrics.registry);
    // Every series says which vantage point measured it (several instances scrape into one Prometheus); a
    // single instance that names no location keeps its series as they were.
    if (config.location !== 'default') this.metrics.registry.setDefaultLabels({ location: config.location });
    this.http = createHttpClient();
    // Probe calls on their own threads (src/probes/threads.ts); not under an injected clock, which a thread
    // cannot share (tests that drive time run probes on this loop).
    this.probeThreads =
      config.scheduler.probeThreads > 0 && this.clock === systemClock
        ? new ProbeThreads(
            {
              threads: config.scheduler.probeThreads,
              onThreadExit: (info) => this.log.error("a probe thread exited: its calls in flight count as Vigil's own fault; replaced", info),
            },
            () => runnerDeps(this.current, this.http, this.clock),
          )
        : null;
    this.probeThreads?.configure(threadConfig(config));
    this.alerts = alertsConfig(config);
    this.heartbeat = new Heartbeat({
      config: () => this.current.heartbeat,
      http: this.http,
      clock: this.clock,
      healthy: () => this.healthyEndToEnd(),
      metrics: new HeartbeatMetrics(this.metrics.registry),
      log: this.log.child({ component: 'heartbeat' }),
    });
    this.egress = new EgressWatch({
      config: () => this.current.control,
      http: this.http,
      clock: this.clock,
      targets: () => [...new Set(probesHere(this.current).map((p) => p.target))],
      owner: () => this.alerts.vigilOwner,
      sink: (s) => this.signal(s),
      log: this.log.child({ component: 'egress' }),
    });
    // Its streaks are resumed in start() (saved state plus what was stored after it).
    this.availability = new AvailabilityDetector(() => this.alerts.availability);
    this.locationFeed =
      store.backend === 'postgres'
        ? new LocationFeed({
            source: store,
            settings: () => this.alerts.availability,
            probe: (id) => this.specs.get(id),
            minFailing: () => this.current.cluster.minFailingLocations,
            owner: () => this.alerts.vigilOwner,
            // Latency too: one hour-of-week state per probe and location, combined by the same quorum.
            latency: new LocationLatency({
              store: { load: (keys) => loadBaselinesByKey(this.store, keys), save: (rows, now) => saveBaselines(this.store, rows, now) },
              spec: (id) => this.specs.get(id),
              minFailing: () => this.current.cluster.minFailingLocations,
              owner: () => this.alerts.vigilOwner,
              reporting: (probe) => this.locationFeed?.reporting(probe) ?? [],
              ownLocation: () => this.current.location,
            }),
          })
        : null;
    this.lifecycle = new Lifecycle({
      sql: this.store.sql,
      // Read at call time: the lease is taken after the lifecycle module is built.
      leading: () => this.leader?.isLeader ?? false,
      clock: this.clock,
      http: this.http,
      config: () => this.current,
      sink: (s) => this.signal(s),
      served: () => new Map([...this.latest].map(([id, r]) => [id, r.servedModel])),
      log: this.log.child({ component: 'lifecycle' }),
    });
    registerLifecycleMetrics(this.metrics.registry, () => this.lifecycle.rows());
    this.drift = new DriftWatch(config);
    this.latencyWatch = new LatencyWatch(this.store);
    // On a shared store the leader's location feed judges latency per location: this instance's own watch idles.
    this.latencyWatch.sync(this.locationFeed ? [] : config.probes, this.clock.now()).catch(() => {}); // awaited (and reported) in start()
    const notifiers = opts.notifiers ?? createNotifiers({ clock: this.clock });
    this.incidents = new IncidentManager({
      store: this.store,
      clock: this.clock,
      config: () => this.alerts,
      notifiers,
      log: this.log.child({ component: 'incidents' }),
      // Every outbox claim is fenced by the lease (read at call time: the lease is taken later, in wire()).
      lease: {
        get token() {
          return self.leader?.token ?? null;
        },
        fence: (token) => self.leader.fence(token),
      },
    });
    this.emergency = new EmergencyPager({
      alerts: () => this.alerts,
      routes: (labels) => this.incidents.routesTest(labels),
      notifiers,
      log: this.log.child({ component: 'incidents' }),
    });
    this.scheduler = new Scheduler({
      clock: this.clock,
      confirmFailures: config.scheduler.confirmFailures,
      concurrencyPerProvider: config.scheduler.concurrencyPerProvider,
      jitter: config.scheduler.jitter,
      runner: (spec, ctx) => this.runOne(spec, ctx.attempt, ctx.signal),
      onResult: (result, meta) => this.record(result, result.attempt === 1 ? meta.skewMs : null),
      // Maintenance windows with `mode: pause` don't run the probe at all (mute ones run and only stay quiet).
      shouldRun: (spec, plannedAt) => !this.incidents.isPaused(probeLabels(spec), plannedAt),
      onSkip: (spec, plannedAt, reason, count) =>
        (reason === 'paused' ? this.log.debug : this.log.warn)('probe slot skipped', {
          probe: spec.id,
          reason,
          count,
          planned: new Date(plannedAt).toISOString(),
        }),
      onError: (spec, error) => this.log.error('probe run error', { probe: spec.id, error: String(error) }),
    });
  }

  /**
   * Load config, open the store, start scheduling and serving. Throws ConfigLoadError on bad config and
   * StartupError (one line naming the step, path or port, and the cause) when any other step fails; whatever had
   * started by then is stopped again, so the caller can exit at once.
   */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const loaded = loadOrThrow(opts.configDir, opts.env ?? process.env, opts.strictEnv ?? false);
    const config = loaded.config;
    const clock = opts.clock ?? systemClock;
    const path = config.storage.url ?? config.storage.path;
    if (!config.storage.url && !isPostgresUrl(path)) {
      await startupStep({ kind: 'directory', path: dirname(path), what: 'data directory' }, () => mkdirSync(dirname(path), { recursive: true }));
    }
    const store = await startupStep({ kind: 'store', path }, async () => {
      const s = await Store.connect(path, { clock, location: config.location });
      try {
        // A read-only file or a full disk shows now, not at the first probe result.
        await s.setMeta('started_at', String(clock.now()));
        return s;
      } catch (err) {
        await s.close().catch(() => {});
        throw err;
      }
    });
    let d: Daemon | null = null;
    try {
      const latest = await startupStep({ kind: 'store', path }, () => store.latestResults());
      d = new Daemon(opts, config, store, latest);
      // Availability resumes from its saved streaks and the results stored after the save (one row, one range
      // query): a restart or crash neither forgets a failing streak nor re-opens a closed one.
      const av = d.availability;
      await startupStep({ kind: 'store', path }, () => resumeAvailability(store, av, config.probes, config.location, clock.now(), config.storage.rawRetentionMs));
      // What runs without its variables is said once, at start: the rest of Vigil does not wait for it.
      for (const n of loaded.notes) d.log.warn(n);
      d.disabledMetrics.set(config.disabled);
      await d.wire();
      return d;
    } catch (err) {
      if (d) await d.stop();
      else await store.close().catch(() => {});
      throw err instanceof StartupError ? err : new StartupError(`cannot start: ${(err as Error).message ?? String(err)}`, { cause: err });
    }
  }

  /** Everything after the store: server, detectors, incidents, drills, background loops, and finally probing. */
  private async wire(): Promise<void> {
    const d = this as Daemon;
    const { opts } = this;
    const config = this.current;
    d.metrics.recordConfigReload(true, d.clock.now());
    const listeners = listenersWith(config.server.listeners, opts.listen);
    const first = listeners[0];
    const api = listeners.find((l) => l.serve.includes('api')) ?? first;
    // Links in notifications point where Vigil really listens (--port included) unless public_url says otherwise.
    if (config.server.publicUrlFromListen) config.server.publicUrl = linkBase(api.host, api.port);
    d.server = await startupStep(
      { kind: 'listen', what: 'HTTP server', host: first.host, port: first.port, setting: 'server.port or server.listeners in vigil.yaml, or --port' },
      () =>
        startServer({
          listeners,
          auth: config.server.auth,
          allowedHosts: config.server.allowedHosts,
          publicUrl: config.server.publicUrl,
          limits: config.server.limits,
          clock: d.clock,
          log: d.log,
          deps: {
            metrics: d.metrics,
            health: () => d.health(),
            readiness: () => [
              { name: 'config', ok: true, detail: `${d.current.probes.length} probes` },
              { name: 'store', ok: d.storeWritable(), detail: d.storeHealth.ok ? 'writable' : `last write failed: ${d.storeHealth.error}` },
              { name: 'scheduler', ok: d.scheduler.running },
            ],
            listProbes: () => d.probeListing(),
            queryResults: (q) => d.store.results({ probe: q.probe, since: q.since, until: q.until, limit: q.limit, order: 'desc' }),
          },
        }),
    );
    if (config.server.publicUrlFromListen) {
      const bound = d.server.listeners.find((l) => l.serve.includes('api')) ?? d.server.listeners[0];
      config.server.publicUrl = linkBase(bound.host, bound.port);
      d.alerts = alertsConfig(config);
    }
    const links = loopbackLinkWarning(config);
    if (links) d.log.warn(links.message, { hint: links.hint });
    // Every listener binds before anything else starts, so a taken port fails the start at once.
    if (config.chaos) {
      const chaos = config.chaos;
      // Its own process (spawned, adopted or external): a stalled or killed daemon never stalls production traffic.
      d.chaos = await startupStep(
        { kind: 'listen', what: 'fault-injection proxy', host: chaos.listen.host, port: chaos.listen.port, setting: 'chaos.listen.port in vigil.yaml' },
        () => linkProxy(chaos, { configDir: opts.configDir, env: opts.env ?? process.env, log: d.log.child({ component: 'chaos' }) }),
      );
    }
    for (const r of incidentRoutes(d.incidents, () => d.clock.now(), config.server.limits)) d.server.addRoute(r.method, r.pattern, r.handler);
    // The status page reads the same probe listing as /api/probes.
    for (const r of uiRoutes(uiDataFromDaemon(d, { probes: () => d.probeListing() }))) d.server.addRoute(r.method, r.pattern, r.handler);
    // Who leads decides what this instance does with signals from here on; a lone instance leads at once. The
    // leader-only loops start at the end, in the order a single instance always had.
    d.incidentTickMs = opts.incidentTickMs ?? 5_000;
    d.leader = new Leader({
      sql: d.store.sql,
      // host:pid:random unless set (VIGIL_INSTANCE): unique among the instances sharing the store.
      instance: (opts.env ?? process.env).VIGIL_INSTANCE || undefined,
      location: config.location,
      log: d.log.child({ component: 'leader' }),
      onChange: (leading) => void (d.started && d.leadership(leading)),
    });
    for (const r of clusterRoutes(d.leader, { store: d.store, now: () => d.clock.now() })) d.server.addRoute(r.method, r.pattern, r.handler);
    registerClusterMetrics(d.metrics.registry, d.leader);
    await d.leader.campaign();
    // Latency states come back from the store (nothing replayed); drift detectors resume from stored history, and
    // what still fires is re-asserted, what no longer does resolves.
    await d.latencyWatch.ready;
    const restored = await d.drift.restore(d.store, d.clock.now(), config.location);
    for (const s of restored.signals) d.signal(s);
    await d.signalsDone();
    for (const det of DRIFT_DETECTORS) if (d.leader.isLeader) await d.incidents.retire(det, restored.keep[det], 'no longer drifting (re-evaluated at start)');
    for (const r of d.lifecycle.routes()) d.server.addRoute(r.method, r.pattern, r.handler);
    d.drills = new DrillService({
      clock: d.clock,
      http: d.http,
      config: () => d.current,
      faults: d.chaos?.driver ?? null,
      store: d.store,
      registry: d.metrics.registry,
      incidents: { ingest: (sig: Signal) => d.signal(sig) },
      log: d.log.child({ component: 'drills' }),
    });
    for (const r of drillRoutes(d.drills)) d.server.addRoute(r.method, r.pattern, r.handler);
    if (d.leader.isLeader) await d.leadership(true);
    // Back after a crash: its page resolves (delivered after the trigger if that one never got out).
    d.signal(crashSignal(d.alerts.vigilOwner, 'resolved', d.clock.now(), 'Vigil is running again'));
    d.egress.resume((await d.incidents.listIncidents({ state: 'open' })).some((i) => i.detector === EGRESS_DETECTOR));
    d.forgetLastWords = onCrash((err, kind) => d.lastWords(err, kind));
    d.started = true;
    d.leader.start();
    d.loops.push(d.repeat(opts.maintenanceEveryMs ?? HOUR, () => d.leaderOnly(() => d.maintain())));
    // Model lists are polled when due (every 6 h, persisted across restarts); countdowns checked each minute.
    d.loops.push(d.repeat(60_000, () => d.leaderOnly(async () => void (await d.lifecycle.tick()))));
    // The Watchdog fires for as long as the engine runs, so its repeats prove engine and outbox work end to end.
    d.loops.push(d.repeat(60_000, () => d.leaderOnly(async () => d.watchdog())));
    d.loops.push(d.repeat(24 * HOUR, () => d.leaderOnly(async () => void (await d.lifecycle.intake.prune()))));
    // Webhooks that reached another instance are stored there; the leader processes them from the store.
    d.loops.push(d.repeat(opts.webhookPollMs ?? 5_000, () => d.leaderOnly(async () => void (await d.lifecycle.intake.reprocessPending({ retryFailed: false })))));
    d.loops.push(d.repeat(60_000, async () => d.drift.tick(d.clock.now()).forEach((s) => d.signal(s))));
    // What waited in memory while the store could not be written goes out as soon as it can.
    d.loops.push(d.repeat(opts.spillRetryMs ?? 5_000, () => d.retrySpill()));
    // The leader follows what every location records and pages on a quorum of them.
    if (d.locationFeed) d.loops.push(d.repeat(opts.locationPollMs ?? 2_000, () => d.leaderOnly(() => d.pollLocations())));
    // Learnt baselines and drift states are saved often: a crash loses at most this much learning (drift states
    // also catch up from the results stored after their save).
    d.loops.push(d.repeat(15 * 60_000, async () => d.latencyWatch.save(d.clock.now())));
    if (d.locationFeed) d.loops.push(d.repeat(15 * 60_000, () => d.leaderOnly(() => d.locationFeed!.saveLatency(d.clock.now()))));
    d.loops.push(d.repeat(15 * 60_000, async () => d.drift.save(d.store, d.clock.now(), d.current.location)));
    // Availability streaks are small (about 150 bytes a probe): saved more often, so a start after a crash reads little.
    d.loops.push(d.repeat(5 * 60_000, async () => d.saveAvailability()));
    // Probing starts last, once everything its results flow into is in place.
    d.scheduler.start(probesHere(config));
    // Stalls count from here: loading a large store at start is slow by nature, not a hang.
    d.loopMonitor.start();
    // The dead man's switch beats once everything it vouches for runs.
    d.loops.push(d.heartbeatLoop());
    d.log.info('vigil running', { url: d.url, probes: config.probes.length, location: config.location, store: d.store.path });
  }

  /** Each configured probe with its last result (/api/probes and the status page). */
  probeListing(): { spec: ProbeSpec; last: ProbeResult | null; state?: string }[] {
    const disabled = this.current.disabled?.probes ?? {};
    return this.current.probes.map((spec) => {
      const last = this.latest.get(spec.id) ?? null;
      if (disabled[spec.id]) return { spec, last, state: disabledReason(disabled[spec.id]) };
      // A gateway answering from a fallback is up for its callers, but not as configured: say so.
      if (last && isGatewayTarget(spec.target) && onFallback(spec, last)) return { spec, last, state: ON_FALLBACK };
      return { spec, last };
    });
  }

  /** A gateway probe's availability signal says whose fault it is, from the direct probes of the same model. */
  private attributed(signal: Signal, spec: ProbeSpec): Signal {
    if (!isGatewayTarget(spec.target)) return signal;
    const peers = directPeers(spec, probesHere(this.current)).map((p) => ({ spec: p, last: this.latest.get(p.id) }));
    return attribute(signal, spec, peers, this.current.gateway?.owner);
  }

  get url(): string {
    return this.server?.url ?? '';
  }

  get config(): VigilConfig {
    return this.current;
  }

  get httpServer(): VigilServer | null {
    return this.server;
  }

  /**
   * Run probes now, outside their schedule (the demo's first pass, an operator's "probe now"). Results are
   * recorded like scheduled ones.
   */
  async runNow(ids?: string[]): Promise<ProbeResult[]> {
    const here = probesHere(this.current);
    const specs = ids ? here.filter((p) => ids.includes(p.id)) : here;
    return Promise.all(
      specs.map(async (spec) => {
        const result = await this.runOne(spec, 1, AbortSignal.timeout(spec.timeouts.totalMs + 1_000));
        this.record(result, null);
        return result;
      }),
    );
  }

  /** SIGHUP: re-read the config; on error keep the last good one and say so in metrics and logs. */
  reload(): { ok: boolean; errors: string } {
    const { config, errors, notes } = loadRunConfig(this.opts.configDir, this.opts.env ?? process.env, { strictEnv: this.opts.strictEnv ?? false });
    if (!config) {
      this.metrics.recordConfigReload(false, this.clock.now());
      const text = formatErrors(errors);
      this.log.error('config reload failed; keeping the last good config', { errors: errors.length });
      process.stderr.write(text + '\n');
      return { ok: false, errors: text };
    }
    if (config.storage.path !== this.current.storage.path || config.storage.url !== this.current.storage.url || config.location !== this.current.location || config.server.port !== this.current.server.port) {
      this.log.warn('storage, location and server address changes take effect after a restart');
    }
    for (const s of secretValues(config)) registerSecret(s);
    for (const n of notes) this.log.warn(n);
    this.disabledMetrics.set(config.disabled);
    // The listeners stay as they are until a restart, and so do the links to them.
    if (config.server.publicUrlFromListen) config.server.publicUrl = this.current.server.publicUrl;
    this.current = config;
    this.probeThreads?.configure(threadConfig(config));
    this.indexSpecs(config);
    this.alerts = alertsConfig(config);
    const ids = new Set(config.probes.map((p) => p.id));
    const retire = (detector: string, keep: ReadonlySet<string>) =>
      this.leader.isLeader && this.incidents.retire(detector, keep).catch((err: unknown) => this.log.error('incidents not retired after reload', { detector, error: String(err) }));
    void retire('availability', ids);
    this.availability.retain(ids);
    this.latencyWatch.sync(this.locationFeed ? [] : config.probes, this.clock.now()).catch((err) => this.log.error('latency baselines not loaded after reload', { error: String(err) }));
    this.lifecycle.reload().catch((err: unknown) => this.log.error('deprecations from vigil.yaml not stored after reload', { error: String(err) }));
    for (const s of this.drift.reload(config, this.clock.now())) this.signal(s);
    this.drills?.reload();
    void retire('drill', this.drills?.signalKeys() ?? new Set());
    const summary = this.scheduler.update(probesHere(config));
    this.metrics.retainProbes(config.probes.map((p) => p.id));
    this.metrics.recordConfigReload(true, this.clock.now());
    this.log.info('config reloaded', { ...summary, added: summary.added.length, removed: summary.removed.length, changed: summary.changed.length });
    return { ok: true, errors: '' };
  }

  /**
   * SIGTERM: stop scheduling, let in-flight probes finish within the grace period, flush the store. Each step
   * runs whatever happened to the ones before it (a full disk failing the baseline save must not leave the
   * server up), and the whole ends within `shutdown_grace` + 10 s. Never rejects; the report says what failed.
   */
  stop(): Promise<ShutdownReport> {
    this.stopping ??= (async () => {
      this.forgetLastWords();
      this.log.info('stopping');
      const graceMs = this.current.scheduler.shutdownGraceMs;
      const report = await runShutdown(
        [
          { name: 'scheduler', run: () => this.scheduler.stop({ deadlineMs: graceMs }), timeoutMs: graceMs + 2_000 },
          // A running drill is aborted and rolled back before anything it needs closes.
          { name: 'drills', run: () => this.drills?.stop(), timeoutMs: 5_000 },
          { name: 'incidents', run: () => this.incidents.stop(), timeoutMs: 3_000 },
          // Hand over at once rather than after the lease runs out.
          { name: 'leadership', run: () => this.leader?.stop(), timeoutMs: 3_000 },
          { name: 'latency baselines', run: () => this.latencyWatch.save(this.clock.now()), timeoutMs: 3_000 },
          { name: 'latency baselines per location', run: () => this.locationFeed?.saveLatency(this.clock.now()), timeoutMs: 3_000 },
          { name: 'drift states', run: () => this.drift.save(this.store, this.clock.now(), this.current.location), timeoutMs: 3_000 },
          { name: 'availability streaks', run: () => this.saveAvailability(), timeoutMs: 3_000 },
          {
            name: 'background loops',
            run: () => {
              this.maintenance.abort();
              this.loopMonitor.stop();
              return Promise.allSettled(this.loops);
            },
            timeoutMs: 3_000,
          },
          { name: 'http server', run: () => this.server?.close(), timeoutMs: 2_000 },
          { name: 'fault proxy', run: () => this.chaos?.stop(), timeoutMs: 7_000 },
          { name: 'probe threads', run: () => this.probeThreads?.stop(), timeoutMs: 3_000 },
          { name: 'http client', run: () => this.http.close(), timeoutMs: 2_000 },
          { name: 'store', run: () => this.store.close(), timeoutMs: 3_000 },
        ],
        { deadlineMs: graceMs + 10_000, log: this.log },
      );
      this.log.info(report.clean ? 'stopped' : 'stopped, not cleanly', report.clean ? { elapsed_ms: report.elapsedMs } : { ...report });
      return report;
    })();
    return this.stopping;
  }

  /**
   * The crash policy's last words: page Vigil's owner through the outbox (the row is durable first, so a
   * delivery cut short by the exit goes out after the restart). The policy bounds how long this may take.
   */
  private async lastWords(err: unknown, kind: CrashKind): Promise<void> {
    const what = errorLine(err, 200);
    await this.signal(
      crashSignal(
        this.alerts.vigilOwner,
        'firing',
        this.clock.now(),
        `Vigil crashed (${kind}: ${what}) and exits so its supervisor restarts it; until it is back nothing is probed or paged`,
      ),
    );
    // Two rounds: one may already be under way without this notification in it.
    await this.incidents.tick();
    await this.incidents.tick();
  }

  /**
   * Assert the always-firing Watchdog alert, or once it is turned off resolve it, including one an earlier
   * process raised (turned off across a restart, it would otherwise fire for ever).
   */
  private async watchdog(): Promise<void> {
    const on = this.alerts.watchdog;
    if (!on) {
      if (this.watchdogSwept && !this.watchdogRaised) return;
      this.watchdogRaised = false;
      this.watchdogSwept = true;
      await this.incidents.retire('watchdog', new Set(), 'Watchdog turned off in alerts/');
      return;
    }
    this.watchdogRaised = true;
    this.signal({
      detector: 'watchdog',
      key: 'vigil:watchdog',
      severity: 'info',
      status: 'firing',
      summary: "Watchdog: always firing while Vigil's incident engine and outbox work; route it to a dead man's switch, which pages when it stops",
      evidence: {},
      labels: { owner: this.alerts.vigilOwner, alertname: 'Watchdog', kind: 'vigil' },
      at: this.clock.now(),
    });
  }

  /** /healthz: can this process still do its job? Also starts a small test write (throttled). */
  health(): HealthReport {
    const now = this.clock.now();
    void this.storeHealth.test(() => this.store.setMeta('health_at', String(now)), now);
    const tickMs = this.opts.incidentTickMs ?? 5_000;
    return healthReport([
      this.storeHealth.check(now, this.current.storage.unwritableGraceMs),
      schedulerCheck(this.scheduler.stats(), now, 90_000),
      // Only the leader delivers; a follower's engine idles by design.
      this.leader?.isLeader === false
        ? { name: 'incident_engine', ok: true, fatal: true, detail: 'follower: the leader delivers' }
        : engineCheck(this.oldestDueNotification(now), now, Math.max(60_000, tickMs * 6)),
      loopCheck(this.loopMonitor.status()),
    ]);
  }

  /**
   * When the oldest notification that is due was due (null: none waiting, or the store can't say). The store
   * answers asynchronously: each call starts a fresh look and reports the last one's answer (the check's window
   * is a minute or more, far longer than a query).
   */
  private oldestDueNotification(now: number): number | null {
    this.outboxLook ??= this.incidents.outbox
      .oldestDue(now)
      .then((at) => void (this.oldestDue = at))
      .catch(() => void (this.oldestDue = null))
      .finally(() => (this.outboxLook = null));
    return this.oldestDue;
  }
  private oldestDue: number | null = null;
  private outboxLook: Promise<void> | null = null;

  private indexSpecs(config: VigilConfig): void {
    this.specs = new Map(config.probes.map((p) => [p.id, p]));
    for (const s of secretValues(config)) registerSecret(s);
    // The check-in URL is the heartbeat's secret whatever its variable is called (and headers may carry keys).
    if (config.heartbeat) for (const s of [config.heartbeat.url, ...Object.values(config.heartbeat.headers)]) registerSecret(s);
  }

  /** The heartbeat's gate: every health check passes (not only the fatal ones) and nothing waits in memory. */
  private healthyEndToEnd(): { ok: boolean; why: string } {
    const failed = this.health().checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    if (this.spill.active) failed.push(`store: ${this.spill.pending} results waiting in memory`);
    if (!this.scheduler.running) failed.push('scheduler: not running');
    return { ok: failed.length === 0, why: failed.join('; ') };
  }

  /** Beat now, then every `heartbeat.every` (read each time: a reload may change it), until stop(). */
  private async heartbeatLoop(): Promise<void> {
    const signal = this.maintenance.signal;
    while (!signal.aborted) {
      await this.heartbeat.beat();
      try {
        await this.clock.sleep(this.current.heartbeat?.everyMs ?? 60_000, signal);
      } catch {
        return;
      }
    }
  }

  /**
   * Every detector signal goes through here: counted in `vigil_signals_firing`, and made an incident on the
   * leader only (the others' results reach it through the store).
   */
  private signal(s: Signal): Promise<void> {
    this.signalMetrics.observe(s);
    // One at a time, in the order they came: the engine's writes are asynchronous.
    const done = this.ingesting.then(() => this.ingestOne(s));
    this.ingesting = done;
    return done;
  }

  /** Resolves once every signal given so far has been ingested (or kept in memory). */
  private signalsDone(): Promise<void> {
    return this.ingesting;
  }
  private ingesting: Promise<void> = Promise.resolve();

  private async ingestOne(s: Signal): Promise<void> {
    // While the store can't be written, signals wait in memory, in order (a lone SQLite instance also loses its
    // lease then: nobody else can take it on the same full disk, so the replay decides who ingests).
    if (this.spill.active) return this.spillSignal(s);
    if (!(this.leader?.isLeader ?? true)) return;
    try {
      await this.incidents.ingest(s);
    } catch (err) {
      this.storeHealth.noteFailure(this.clock.now(), err);
      this.spillSignal(s);
      this.log.error('signal kept in memory: the store cannot be written', { detector: s.detector, key: s.key, status: s.status, error: String(err) });
    }
  }

  /** Keep a signal for the replay; a critical one pages at once from memory (SQLite: this is the only instance). */
  private spillSignal(s: Signal): void {
    this.spill.addSignal(s, this.clock.now());
    if (!this.current.storage.url) void this.emergency.page(s);
  }

  /**
   * Write what waited in memory once the store takes writes again; then say what was missed: a log line and a
   * notification to Vigil's owner (through the outbox, now that it can be written).
   */
  private async retrySpill(): Promise<void> {
    if (!this.spill.active) return;
    // A lone SQLite instance loses its lease while it cannot write (renewals fail) and takes it back within
    // seconds once it can: its signals wait for that rather than being dropped as a follower's would.
    const holdSignals = !this.current.storage.url && !(this.leader?.isLeader ?? true);
    const summary = await this.spill.flush(
      (rs) => this.store.insertResults(rs),
      async (s) => {
        if (this.leader?.isLeader ?? true) await this.incidents.ingest(s);
      },
      () => this.clock.now(),
      500,
      holdSignals,
    );
    if (!summary) return;
    this.emergency.reset();
    this.storeHealth.noteOk(this.clock.now());
    const text = missedSummary(summary);
    this.log.warn('store writes work again: what was missed', { ...summary, failing: Object.keys(summary.failing).join(',') || null, summary: text });
    if (!(this.leader?.isLeader ?? true)) return;
    const sig: Signal = { detector: 'vigil', key: 'vigil:store', severity: 'warning', status: 'firing', summary: text, evidence: {
        from: new Date(summary.from).toISOString(),
        to: new Date(summary.to).toISOString(),
        results_written: summary.written,
        results_dropped: summary.dropped,
        signals_replayed: summary.signals,
        failing: Object.keys(summary.failing).join(', ') || null,
      }, labels: { owner: this.alerts.vigilOwner, kind: 'vigil' }, at: summary.to };
    try {
      await this.incidents.ingest(sig);
      await this.incidents.ingest({ ...sig, status: 'resolved', severity: 'info', summary: 'Vigil writes its store again' });
    } catch (err) {
      this.log.error('could not queue the what-was-missed notification', { error: String(err) });
    }
  }

  private async runOne(spec: ProbeSpec, attempt: number, signal: AbortSignal): Promise<ProbeResult> {
    this.metrics.probeStarted(spec.target);
    try {
      // A failure without an answer may be our own egress: the control target decides (then it is `unknown`).
      const result = this.probeThreads
        ? await this.probeThreads.run(spec, attempt, signal)
        : await runProbe(spec, runnerDeps(this.current, this.http, this.clock), { attempt, signal });
      return await this.egress.judge(result);
    } finally {
      this.metrics.probeFinished(spec.target);
    }
  }

  private saveAvailability(): Promise<void> {
    return saveAvailability(this.store, this.availability, this.current.probes, this.current.location, this.clock.now());
  }

  private record(result: ProbeResult, skewMs: number | null): void {
    // Not awaited: detectors and metrics go on from memory while the write commits (with others in flight).
    this.store.insertResult(result).then(
      () => this.storeHealth.noteOk(this.clock.now()),
      (err: unknown) => {
        this.storeHealth.noteFailure(this.clock.now(), err);
        // Kept in memory (bounded) and written by retrySpill once the store takes writes again.
        this.spill.addResult(result, this.clock.now());
        this.log.error('store write failed; result kept in memory', { probe: result.probeId, pending: this.spill.pending, error: String(err) });
      },
    );
    this.latest.set(result.probeId, result);
    const spec = this.specs.get(result.probeId);
    if (spec) this.metrics.observeResult(result, spec);
    // `unknown` is Vigil's own fault (out of sockets or memory): stored and counted, never seen by a detector.
    if (spec && result.outcome !== 'unknown') {
      // A benign or should-refuse probe failing its refusal assertion is the drift detector's business (it
      // tests rates against a baseline), not an outage: it never reaches the availability detector.
      const signal = reachesAvailability(spec.kind, result) ? this.availability.observe(spec, result) : null;
      // With several locations the leader decides from everyone's stored results (locationFeed), not this one's.
      if (signal && !this.locationFeed) this.signal(this.attributed(signal, spec));
      const fallback = isFinal(result) ? fallbackSignal(spec, probeLabels(spec), result) : null;
      if (fallback) this.signal(fallback);
      for (const s of this.latencyWatch.observe(result)) this.signal(s);
      for (const s of this.drift.observe(result)) this.signal(s);
      // Gemini says in its replies when a model is deprecated and when it retires: feed the countdown.
      if (result.modelStatus) {
        this.lifecycle
          .noteModelStatus(providerLabel(spec.target), result.servedModel ?? spec.model, result.modelStatus)
          .catch((err: unknown) => this.log.error('model status not recorded', { probe: result.probeId, error: String(err) }));
      }
    }
    if (skewMs !== null) this.metrics.observeScheduleSkew(skewMs);
    if (result.outcome !== 'ok') {
      this.log.warn('probe ' + result.outcome, {
        probe: result.probeId,
        attempt: result.attempt,
        error_class: result.errorClass,
        error: result.errorMessage,
        confirmed: result.confirmed,
      });
    }
  }

  /** Every location's new results through their detectors and the quorum; what changed becomes incidents. */
  private async pollLocations(): Promise<void> {
    for (const s of await this.locationFeed!.poll(this.clock.now())) {
      const spec = s.detector === 'availability' ? this.specs.get(s.key) : undefined;
      await this.signal(spec ? this.attributed(s, spec) : s);
    }
    // A latency alert that changed is saved at once: a new leader must find it open to resolve it later.
    if (this.locationFeed!.latencyUrgent) await this.locationFeed!.saveLatencyUrgent(this.clock.now());
  }

  private async leaderOnly(fn: () => Promise<void>): Promise<void> {
    if (this.leader.isLeader) await fn();
  }

  /** Start or stop the leader-only loops as this instance gains or loses the lease (one change at a time). */
  private leadership(leading: boolean): Promise<void> {
    this.handover = this.handover.then(async () => {
      if (this.stopping) return;
      if (leading) {
        // vigil.yaml deprecations, webhooks stored while no one led, and the countdown.
        await this.lifecycle.start().catch((err: unknown) => this.log.error('lifecycle start failed', { error: String(err) }));
        await this.drills?.start();
        await this.locationFeed
          ?.start(this.clock.now(), [...this.specs.keys()])
          .catch((err: unknown) => this.log.error('location feed start failed', { error: String(err) }));
        // Its first tick re-queues what a dead or deposed leader left in flight (fenced: rows of older tokens only).
        this.incidents.start(this.incidentTickMs);
      } else {
        // What the per-location latency states learnt is kept for the next leader.
        await this.locationFeed
          ?.stepDown(this.clock.now())
          .catch((err: unknown) => this.log.error('latency states not saved at step-down', { error: String(err) }));
        await this.incidents.stop();
        await this.drills?.stop();
      }
    }).catch((err: unknown) => this.log.error('leadership change failed', { leading, error: String(err) }));
    return this.handover;
  }

  /** The outcome of the last writes; each call may also start a fresh test write, which a later call reports. */
  private storeWritable(): boolean {
    void this.storeHealth.test(() => this.store.setMeta('readyz_at', String(this.clock.now())), this.clock.now());
    return this.storeHealth.ok;
  }

  /** Rollups, retention and pruning of old incidents. */
  private async maintain(): Promise<void> {
    const now = this.clock.now();
    await this.store.rollup(hourFloor(now));
    await this.store.applyRetention(now, {
      rawRetentionMs: this.current.storage.rawRetentionMs,
      rollupRetentionMs: this.current.storage.rollupRetentionMs,
    });
    await this.incidents.prune(now - this.current.storage.rollupRetentionMs);
    await this.drills?.prune(now - this.current.storage.rollupRetentionMs);
  }

  /** Run `fn` now and then every `everyMs` of the injected clock, until stop(). */
  private async repeat(everyMs: number, fn: () => Promise<void>): Promise<void> {
    const signal = this.maintenance.signal;
    while (!signal.aborted) {
      try {
        await fn();
      } catch (err) {
        if (signal.aborted) return;
        this.log.error('background task failed', { error: String(err) });
      }
      try {
        await this.clock.sleep(everyMs, signal);
      } catch {
        return;
      }
    }
  }
}

/** The probes this instance runs: those without `locations`, and those that list its location. */
export function probesHere(config: VigilConfig): ProbeSpec[] {
  return config.probes.filter((p) => (!p.locations || p.locations.includes(config.location)) && !config.disabled?.probes[p.id]);
}

/** Base for links when public_url is not set: the listen address, with the machine's name for "all interfaces". */
export function linkBase(host: string, port: number): string {
  const h = host === '' || host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/** `--host`/`--port` (and tests' port 0) replace the address of the listener that serves the API. */
function listenersWith(listeners: ListenerSpec[], override: DaemonOptions['listen']): ListenerSpec[] {
  if (!override || (override.host === undefined && override.port === undefined)) return listeners;
  const i = Math.max(0, listeners.findIndex((l) => l.serve.includes('api')));
  return listeners.map((l, j) => (j === i ? { ...l, host: override.host ?? l.host, port: override.port ?? l.port } : l));
}

function loadOrThrow(dir: string, env: Record<string, string | undefined>, strictEnv: boolean): { config: VigilConfig; notes: string[] } {
  const { config, errors, notes } = loadRunConfig(dir, env, { strictEnv });
  if (!config) throw new ConfigLoadError(errors);
  return { config, notes };
}

/** Vigil's own crash, as the incident engine sees it: critical, for Vigil's owner, one key. */
/** "Vigil could not write its store for 12 min (…)": the what-was-missed notification. */
export function missedSummary(s: SpillSummary): string {
  const mins = Math.max(1, Math.round((s.to - s.from) / 60_000));
  const failing = Object.entries(s.failing).map(([id, n]) => `${id} (${n} failed)`);
  return (
    `Vigil could not write its store for ${mins} min (${new Date(s.from).toISOString().slice(11, 16)}–${new Date(s.to).toISOString().slice(11, 16)} UTC): ` +
    `${s.written} results kept in memory and written now${s.dropped ? `, ${s.dropped} dropped (memory buffer full)` : ''}, ` +
    `${s.signals} detector signals replayed late${s.signalsDropped ? `, ${s.signalsDropped} dropped` : ''}` +
    (failing.length ? `; probes failing meanwhile: ${failing.slice(0, 10).join(', ')}${failing.length > 10 ? ` and ${failing.length - 10} more` : ''}` : '; no probe failed meanwhile')
  );
}

function crashSignal(owner: string, status: Signal['status'], at: number, summary: string): Signal {
  return { detector: 'vigil', key: 'vigil:crash', severity: 'critical', status, summary, evidence: {}, labels: { owner, kind: 'vigil' }, at };
}
