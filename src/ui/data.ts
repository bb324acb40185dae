// What the status page reads, as plain functions the daemon provides. Optional members are features that may
// not be wired (drills, deprecations, refusal baselines, incidents): their panels then say so honestly instead
// of showing an empty table that looks like "all clear".
import type { DrillResult, Incident, ProbeResult, ProbeSpec, SafetyFinding } from '../domain.ts';
import type { Store } from '../store/store.ts';

/** A configured probe and its newest result (the same pair /api/probes serves). */
export interface UiProbe {
  spec: ProbeSpec;
  last: ProbeResult | null;
  /** Optional state beyond the last outcome (`pending`, `maintenance`, `unknown`, ...). */
  state?: string;
}

/** One run of a drill scenario (a DrillResult without its probe results is enough). */
export type DrillRunView = Pick<DrillResult, 'startedAt' | 'finishedAt' | 'verdict' | 'reason' | 'injected' | 'servedBy' | 'fallbackLatencyMs'> & {
  failure?: string | null;
  /** Safety drills: should-refuse prompts a fallback answered, and benign prompts left refused. */
  findings?: SafetyFinding[];
  warnings?: SafetyFinding[];
};

export interface DrillScenarioView {
  id: string;
  owner?: string;
  target?: string;
  /** Cron or interval text, as configured. */
  schedule?: string;
  /** What the drill expects, in words (e.g. `served_by vertex-gemini, extra latency < 3000 ms`). */
  expect?: string;
  /** What the drill proves: `fallback` (default) or `safety_bypass`. */
  check?: string;
  /** Any order; the page sorts newest first. */
  runs: DrillRunView[];
}

/** One row of the deprecation countdown (lifecycle's DeprecationRow fits). */
export interface DeprecationView {
  model: string;
  provider: string | null;
  /** YYYY-MM-DD (UTC day). */
  shutdownAt: string;
  daysLeft: number;
  owners: string[];
  usedBy?: string[];
  replacement: string | null;
  url: string | null;
}

/** The refusal-drift detector's current view of one stream (provider, model, probe set). */
export interface RefusalBaselineView {
  provider: string;
  model: string;
  kind: 'benign' | 'should_refuse';
  /** Learnt refusal rate, 0..1. */
  baseline: number;
  /** Band drawn around the baseline (0..1); absent: the baseline alone is drawn. */
  low?: number;
  high?: number;
  ready?: boolean;
  firing?: boolean;
  samples?: number;
}

export interface SilenceView {
  id: string;
  origin?: string;
  matchers: Record<string, string>;
  matchersRe?: Record<string, string>;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
}

/** Who leads now, for the overview's leader line (GET /api/cluster has the same). */
export interface ClusterView {
  /** Several instances may share this store (PostgreSQL): only then is the line shown. */
  shared: boolean;
  /** The instance serving this page. */
  instance: string;
  location: string;
  leader: { holder: string; location: string; token: number; since: number; expiresAt: number; live: boolean } | null;
}

/** A value, or a promise of it: sources backed by the store answer asynchronously. */
export type Awaitable<T> = T | Promise<T>;

export interface UiData {
  now(): number;
  probes(): UiProbe[];
  /** Results, rollups and the status page's own read-only queries (src/ui/queries.ts). */
  store: Pick<Store, 'sql' | 'rollups' | 'rollupWatermark' | 'rollupLocations' | 'resultsByLocation'>;
  /** Incidents, newest first (IncidentManager.listIncidents fits). */
  incidents?(q: { state?: 'open' | 'resolved'; limit?: number }): Awaitable<Incident[]>;
  silences?(): Awaitable<SilenceView[]>;
  /** Drill scenarios with their history; [] when none are configured. */
  drills?(): Awaitable<DrillScenarioView[]>;
  deprecations?(): Awaitable<DeprecationView[]>;
  refusalBaselines?(): RefusalBaselineView[];
  /** Who leads now; absent where there is no lease to show. */
  cluster?(): Awaitable<ClusterView | null>;
}

/** What a page renders from: the data plus its query parameters, already validated. */
export interface PageParams {
  /** IANA zone for every time shown and for the heatmap's hour-of-week. */
  tz: string;
  /** Heatmap: one probe id, or null for every canary probe. */
  probe: string | null;
  metric: 'ttft' | 'total';
  /** Heatmap/safety look-back in days. */
  days: number;
  /** Live update period in seconds. */
  poll: number;
  /** Heatmap: one vantage point's results only, or null for every location together. */
  location: string | null;
  /** Problems with the query, shown on the page (never an error page for a typo). */
  notes: string[];
}
