// The dead man's switch: Vigil pings an outside check-in URL (healthchecks.io, Dead Man's Snitch, Better Stack,
// a PagerDuty or Opsgenie heartbeat) every `every` while it can do its job, and only then. When the host, the
// process or its network dies, or Vigil is alive but broken (store not writable, scheduler or incident engine
// stuck, event loop stalled), the pings stop and the outside service pages: the one failure Vigil cannot report
// itself. The URL usually carries the check's secret: it comes from ${ENV}, is never logged (only its host), and
// is never a metric label.
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { HttpClient } from '../http/types.ts';

export interface HeartbeatConfig {
  url: string;
  method: 'GET' | 'POST';
  everyMs: number;
  timeoutMs: number;
  /** Extra request headers (e.g. Opsgenie's `Authorization: GenieKey ${OPSGENIE_KEY}`). */
  headers: Record<string, string>;
}

export type BeatResult = { result: 'sent'; status: number } | { result: 'failed'; error: string } | { result: 'skipped'; why: string } | { result: 'off' };

interface Log {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** Host of a URL that holds a secret (a check-in or control URL): the only part safe to log or label. */
export function heartbeatHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
}

export class HeartbeatMetrics {
  readonly lastSuccess: Gauge<'host'>;
  readonly interval: Gauge<'host'>;
  readonly beats: Counter<'host' | 'result'>;

  constructor(registry: Registry) {
    this.lastSuccess = new Gauge({
      name: 'vigil_heartbeat_last_success_timestamp_seconds',
      help: 'When the outbound heartbeat (heartbeat: in vigil.yaml) last reached its check-in URL (0: not since start).',
      labelNames: ['host'],
      registers: [registry],
    });
    this.interval = new Gauge({
      name: 'vigil_heartbeat_interval_seconds',
      help: 'How often the outbound heartbeat is sent while Vigil is healthy.',
      labelNames: ['host'],
      registers: [registry],
    });
    this.beats = new Counter({
      name: 'vigil_heartbeats_total',
      help: 'Outbound heartbeats by result: sent (2xx), failed (transport error or non-2xx), skipped (Vigil unhealthy, so silent on purpose).',
      labelNames: ['host', 'result'],
      registers: [registry],
    });
  }
}

export interface HeartbeatOptions {
  config: () => HeartbeatConfig | null;
  http: HttpClient;
  clock: Clock;
  /** Whether Vigil can do its job end to end now; `why` names what is wrong. */
  healthy: () => { ok: boolean; why: string };
  metrics: HeartbeatMetrics;
  log: Log;
}

export class Heartbeat {
  private readonly o: HeartbeatOptions;
  private host: string | null = null;
  private lastResult: BeatResult['result'] | null = null;

  constructor(o: HeartbeatOptions) {
    this.o = o;
  }

  /** One beat: ping when healthy, stay silent (and say why, once) when not. Never throws. */
  async beat(): Promise<BeatResult> {
    const cfg = this.o.config();
    if (!cfg) return { result: 'off' };
    const host = heartbeatHost(cfg.url);
    if (host !== this.host) {
      // First beat, or a reload pointed it elsewhere: the series start at 0 so a rule sees "never since start".
      if (this.host) {
        this.o.metrics.lastSuccess.remove({ host: this.host });
        this.o.metrics.interval.remove({ host: this.host });
      }
      this.host = host;
      this.o.metrics.lastSuccess.set({ host }, 0);
    }
    this.o.metrics.interval.set({ host }, cfg.everyMs / 1000);
    const health = this.o.healthy();
    if (!health.ok) return this.note(host, { result: 'skipped', why: health.why });
    try {
      const res = await this.o.http.request({
        url: cfg.url,
        method: cfg.method,
        headers: { 'user-agent': 'vigil-heartbeat', ...(cfg.method === 'POST' ? { 'content-type': 'text/plain' } : {}), ...cfg.headers },
        ...(cfg.method === 'POST' ? { body: 'vigil ok' } : {}),
        timeouts: { connectMs: cfg.timeoutMs, firstByteMs: cfg.timeoutMs, totalMs: cfg.timeoutMs },
      });
      // Drain (and discard) the answer so the connection can be reused; the total timeout bounds it.
      for await (const _ of res.body) void _;
      if (res.status < 200 || res.status > 299) return this.note(host, { result: 'failed', error: `HTTP ${res.status}` });
      this.o.metrics.lastSuccess.set({ host }, this.o.clock.now() / 1000);
      return this.note(host, { result: 'sent', status: res.status });
    } catch (err) {
      // The message of a transport error may quote the URL: keep only its first line, and never the URL.
      const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0].split(cfg.url).join(host).slice(0, 200);
      return this.note(host, { result: 'failed', error: msg });
    }
  }

  private note(host: string, r: Exclude<BeatResult, { result: 'off' }>): BeatResult {
    this.o.metrics.beats.inc({ host, result: r.result });
    // Log changes only: one line when the heartbeat stops or resumes, not one per interval.
    if (r.result !== this.lastResult) {
      if (r.result === 'sent') this.o.log.info('heartbeat sent', { host, status: r.status });
      else if (r.result === 'skipped') this.o.log.warn('heartbeat withheld: Vigil is not healthy, so the outside check will page', { host, why: r.why });
      else this.o.log.warn('heartbeat failed', { host, error: r.error });
    }
    this.lastResult = r.result;
    return r;
  }
}
