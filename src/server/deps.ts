// What the HTTP server needs from the rest of the daemon, as plain functions. The daemon wires these
// to the store, scheduler and metrics; the server imports none of them, and tests pass fakes.

import type { ProbeResult, ProbeSpec } from '../domain.ts';

/** One named readiness condition, e.g. `config`, `store`, `scheduler`. */
export interface ReadinessCheck {
  name: string;
  ok: boolean;
  /** Short human-readable reason, shown in the /readyz body (no secrets: it is served as is). */
  detail?: string;
}

/** A configured probe and what it last did. The server whitelists fields: `spec.headers` never leaves. */
export interface ProbeListing {
  spec: ProbeSpec;
  last: ProbeResult | null;
  /** Optional current state beyond the last outcome (`pending`, `maintenance`, `unknown`, ...). */
  state?: string;
}

export interface ResultsQuery {
  /** Only this probe; all probes when absent. */
  probe?: string;
  /** Inclusive lower bound on `startedAt`, epoch ms. */
  since?: number;
  /** Exclusive upper bound on `startedAt`, epoch ms. */
  until?: number;
  /** At most this many results (1..1000), newest first. */
  limit: number;
}

/** Anything with prom-client Registry's shape (a Registry or VigilMetrics both fit). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
  /**
   * The text as UTF-8 chunks (VigilMetrics), served as it is made: label texts pass through `redact`, and with
   * `reuse` a chunk's memory is written again once the promise `write` returned settles.
   */
  writeMetrics?(write: (chunk: Buffer) => void | Promise<void>, opts: { redact: (text: string) => string; reuse: boolean }): Promise<void>;
}

/** One liveness condition for /healthz; a failing `fatal` one makes it 503. */
export interface HealthCheckView {
  name: string;
  ok: boolean;
  fatal: boolean;
  detail: string;
  since?: number;
}

export interface ServerDeps {
  metrics: MetricsSource;
  /** /healthz: whether this process can still do its job. Absent: 200 while the process serves. */
  health?(): { ok: boolean; checks: HealthCheckView[] } | Promise<{ ok: boolean; checks: HealthCheckView[] }>;
  /** Every check must be ok for /readyz to answer 200. May be async; it gets 2 s. */
  readiness(): ReadinessCheck[] | Promise<ReadinessCheck[]>;
  listProbes(): ProbeListing[] | Promise<ProbeListing[]>;
  queryResults(q: ResultsQuery): ProbeResult[] | Promise<ProbeResult[]>;
}
