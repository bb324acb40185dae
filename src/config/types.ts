// The loaded, validated config: domain types for what the engine uses, raw (snake_case) records for the
// sections later features define (drills, alerts, webhooks, consumers, deprecations).
import type { ProbeSpec, ProviderEndpoint, Timeouts } from '../domain.ts';
import type { PricingTable } from './pricing.ts';
import type { Disabled } from './requirements.ts';
import type { ChaosConfig } from '../chaos/config.ts';
import type { ControlConfig } from '../health/egress.ts';
import type { HeartbeatConfig } from '../health/heartbeat.ts';
import type { DetectorsConfig } from '../detectors/config.ts';
import type { ServerSettings } from '../server/config.ts';

export type GatewayFlavour = 'litellm' | 'portkey' | 'openai';

/** A raw mapping from YAML plus where it came from. */
export interface Sourced<T = Record<string, unknown>> {
  value: T;
  source: { file: string; line: number };
}

export interface VigilConfig {
  /**
   * What `run` turned off because a variable it needs is unset (unless --strict-env): probes, drills and other parts,
   * each with the variables it lacks. Absent when nothing is.
   */
  disabled?: Disabled;
  /** Absolute path of the config directory. */
  dir: string;
  /** Files read, relative to `dir`. */
  files: string[];
  /** `host`/`port` as written; `listeners` is what is served (those two, or `server.listeners`). */
  server: ServerSettings & { host: string; port: number };
  /** The fault-injection proxy for drills (vigil.yaml `chaos:`), or null when not configured. */
  chaos: ChaosConfig | null;
  /** Outbound dead man's switch (vigil.yaml `heartbeat:`), or null. Its URL holds a secret. */
  heartbeat: HeartbeatConfig | null;
  /** Egress control target (vigil.yaml `control:`), or null. */
  control: ControlConfig | null;
  /** Drift detector settings (vigil.yaml `detectors:`). */
  detectors: DetectorsConfig;
  /** This instance's vantage point (VIGIL_LOCATION, else vigil.yaml `location`, else "default"). */
  location: string;
  /** How locations decide together (vigil.yaml `cluster:`). */
  cluster: { minFailingLocations?: number };
  storage: {
    /** Absolute (relative paths in vigil.yaml are resolved against `dir`). */
    path: string;
    /** PostgreSQL URL, when the store lives there (may hold a password: never log; see redactUrl). */
    url?: string;
    rawRetentionMs: number;
    rollupRetentionMs: number;
    /** How long store writes may fail before /healthz does (Vigil goes on from memory meanwhile). */
    unwritableGraceMs: number;
    /** Most probe results held in memory while the store cannot be written. */
    memoryBuffer: number;
  };
  scheduler: {
    /** Confirmation re-probes after a failure (0 = none). */
    confirmFailures: number;
    concurrencyPerProvider: number;
    jitter: boolean;
    shutdownGraceMs: number;
    /** Worker threads that run probe calls (0: on the daemon's own event loop). */
    probeThreads: number;
  };
  defaults: {
    owner?: string;
    everyMs: number;
    timezone: string;
    stream: boolean;
    maxTokens: number;
    timeouts: Timeouts;
  };
  /** By provider name (the `<name>` of `provider:<name>`). Holds secrets: print via `redactConfig`. */
  providers: Record<string, ProviderEndpoint>;
  /** `owner`: who owns the gateway (gateway-only failures go to them), when vigil.yaml says. */
  gateway: { flavour: GatewayFlavour; endpoint: ProviderEndpoint; owner?: string } | null;
  /** Endpoint for each probe `target`: `provider:openai`, `gateway`. */
  endpoints: Record<string, ProviderEndpoint>;
  /** Shipped prices merged with vigil.yaml `pricing:`; look up with `findPrice`. */
  pricing: PricingTable;
  probes: ProbeSpec[];
  drills: Sourced[];
  alerts: {
    owners: Record<string, Sourced>;
    receivers: Record<string, Sourced>;
    routes: Sourced[];
    silences: Sourced[];
    maintenance: Sourced[];
    inhibitRules: Sourced[];
    escalation: Sourced | null;
    /** alerts `defaults:` (timings, flap damping, detector thresholds); at most one file sets it. */
    defaults: Sourced | null;
  };
  webhooks: Record<string, Sourced>;
  /** vigil.yaml `model_lists:` (validated by the schema). */
  modelLists: Record<string, Sourced>;
  consumers: Sourced[];
  deprecations: Sourced[];
}
