// Our own egress versus the providers' outage. When Vigil's network or DNS dies, every provider probe fails
// with a transport error at once, and without this each provider would page its owner for an outage that is
// ours. A control target (vigil.yaml `control:`, any URL that normally answers, e.g. a generate_204 endpoint or
// the gateway's health route) is checked whenever a provider probe fails without an HTTP answer:
// - the control answers (any status): the failure is the provider's, as measured;
// - the control fails too and no provider or gateway has answered since it began failing: the result is
//   Vigil's fault, recorded `unknown` (no detector sees it, so no provider pages), and once every target has
//   failed so, one incident "Vigil's own egress/DNS is down" goes to Vigil's owner;
// - the control fails but some target answered meanwhile: the control target itself is down; the failure
//   stands (and a log line says so).
// The incident resolves when any target answers again or the control does. Checks are made on demand (one in
// flight, shared by every failure that started before it), so an egress outage costs one control request per
// wave of failures, and nothing runs while all is well.
import type { Clock } from '../clock.ts';
import type { ProbeResult, Signal } from '../domain.ts';
import type { HttpClient } from '../http/types.ts';
import { heartbeatHost } from './heartbeat.ts';

export interface ControlConfig {
  url: string;
  timeoutMs: number;
}

/** Failures that carry no answer from the target: what our own egress going down looks like. */
const TRANSPORT_CLASSES = new Set(['connect', 'timeout']);

export const EGRESS_DETECTOR = 'egress';
export const EGRESS_KEY = 'egress';

interface Log {
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
}

export interface EgressOptions {
  config: () => ControlConfig | null;
  http: HttpClient;
  clock: Clock;
  /** The targets probes run against now (`provider:openai`, `gateway`): the egress incident waits for all. */
  targets: () => readonly string[];
  /** Vigil's owner (alerts/ `defaults.vigil_owner`). */
  owner: () => string;
  sink: (s: Signal) => void;
  log: Log;
}

interface Check {
  /** When the check started. */
  at: number;
  ok: boolean;
  error: string | null;
}

/** A probe result that got no answer from its target (a transport failure), so egress is in question. */
export function unanswered(r: ProbeResult): boolean {
  return r.outcome === 'failed' && r.httpStatus === null && r.errorClass !== null && TRANSPORT_CLASSES.has(r.errorClass);
}

/** Host of the control URL: what is logged and shown (a URL may carry a token in its path or query). */
export const controlHost = heartbeatHost;

export class EgressWatch {
  private readonly o: EgressOptions;
  private last: Check | null = null;
  private inFlight: Promise<Check> | null = null;
  /** Start of the control's current failing streak, or null while it answers. */
  private failingSince: number | null = null;
  /** Last time any target answered (an HTTP response, whatever its status). */
  private reachedAt = Number.NEGATIVE_INFINITY;
  /** Targets whose failure was put down to our egress in this episode. */
  private readonly masked = new Set<string>();
  private firing = false;

  constructor(o: EgressOptions) {
    this.o = o;
  }

  get down(): boolean {
    return this.firing;
  }

  /** After a restart with the egress incident still open: the next answer resolves it (the resolve contract). */
  resume(open: boolean): void {
    this.firing = open;
  }

  /**
   * Judge one probe result: returned as it is, or as `unknown` when the failure is our own egress. Never throws
   * (a control check that cannot run counts as the control failing).
   */
  async judge(r: ProbeResult): Promise<ProbeResult> {
    const cfg = this.o.config();
    if (!cfg || r.drillId) return r;
    if (!unanswered(r)) {
      if (r.outcome !== 'unknown') this.answered(r.target);
      return r;
    }
    const check = await this.checkSince(r.startedAt, cfg);
    if (check.ok) return r;
    if (this.failingSince !== null && this.reachedAt >= this.failingSince) {
      this.o.log.warn('control target unreachable while providers answer: the control itself is down; the probe failure stands', {
        control: controlHost(cfg.url),
        probe: r.probeId,
        error: check.error,
      });
      return r;
    }
    this.masked.add(r.target);
    const pending = this.o.targets().filter((t) => !this.masked.has(t));
    if (!this.firing && pending.length === 0) this.fire(cfg, check);
    const why = `Vigil's own egress/DNS looks down (the control target ${controlHost(cfg.url)} is unreachable too: ${check.error})`;
    return { ...r, outcome: 'unknown', errorMessage: r.errorMessage ? `${why}; ${r.errorMessage}` : why };
  }

  /** The latest control check started at or after `since`, running one (shared) when there is none. */
  private async checkSince(since: number, cfg: ControlConfig): Promise<Check> {
    if (this.last && this.last.at >= since) return this.last;
    this.inFlight ??= this.check(cfg).finally(() => {
      this.inFlight = null;
    });
    const c = await this.inFlight;
    // A check already in flight may have started before this failure: fine, it is at most one timeout older.
    return c;
  }

  private async check(cfg: ControlConfig): Promise<Check> {
    const at = this.o.clock.now();
    let c: Check;
    try {
      const res = await this.o.http.request({
        url: cfg.url,
        method: 'GET',
        headers: { 'user-agent': 'vigil-control' },
        timeouts: { connectMs: cfg.timeoutMs, firstByteMs: cfg.timeoutMs, totalMs: cfg.timeoutMs },
      });
      // Any answer proves the way out works; drain it so the connection can be reused.
      for await (const _ of res.body) void _;
      c = { at, ok: true, error: null };
    } catch (err) {
      // The message may quote the URL: keep its first line, with the URL replaced by its host.
      const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0].split(cfg.url).join(controlHost(cfg.url)).slice(0, 200);
      c = { at, ok: false, error: msg };
    }
    this.last = c;
    if (c.ok) {
      this.failingSince = null;
      this.masked.clear();
      if (this.firing) this.resolve(`the control target ${controlHost(cfg.url)} answers again`);
    } else this.failingSince ??= at;
    return c;
  }

  private answered(target: string): void {
    this.reachedAt = this.o.clock.now();
    this.masked.clear();
    if (this.firing) this.resolve(`${target} answers again`);
  }

  private fire(cfg: ControlConfig, check: Check): void {
    this.firing = true;
    const since = this.failingSince ?? check.at;
    const targets = [...this.masked].sort();
    this.o.log.warn("Vigil's own egress/DNS is down: provider probes are recorded unknown", { control: controlHost(cfg.url), targets: targets.join(',') });
    this.o.sink({
      detector: EGRESS_DETECTOR,
      key: EGRESS_KEY,
      severity: 'critical',
      status: 'firing',
      summary:
        `Vigil's own egress/DNS is down: the control target ${controlHost(cfg.url)} and every target (${targets.join(', ')}) ` +
        `unreachable since ${new Date(since).toISOString().slice(11, 16)} UTC; provider probes are recorded unknown, no provider is paged`,
      evidence: { control: controlHost(cfg.url), control_error: check.error, since: new Date(since).toISOString(), targets: targets.join(', ') },
      labels: { owner: this.o.owner(), kind: 'vigil' },
      at: check.at,
    });
  }

  private resolve(why: string): void {
    this.firing = false;
    this.o.log.info("Vigil's own egress works again", { why });
    this.o.sink({
      detector: EGRESS_DETECTOR,
      key: EGRESS_KEY,
      severity: 'info',
      status: 'resolved',
      summary: `Vigil's own egress works again: ${why}`,
      evidence: {},
      labels: { owner: this.o.owner(), kind: 'vigil' },
      at: this.o.clock.now(),
    });
  }
}
