// Pages that cannot wait for the disk. While the store cannot be written, the incident engine cannot open an
// incident nor queue its notification (the outbox lives in the store), so a real outage that begins then would
// be told only once the disk has room. For that case only: a critical firing signal is delivered at once, from
// memory, to the receivers its routes name (silences and maintenance still apply: they are read, not written),
// once per alert per episode. The PagerDuty dedup key is the one the engine will use, so the engine's own
// trigger after recovery merges into the same PagerDuty alert and its resolve closes it; Slack gets this message
// and later the engine's. Only with a SQLite store: with a shared PostgreSQL store every instance would page.
import type { Signal } from '../domain.ts';
import { buildReceiver } from '../incidents/config.ts';
import type { AlertsConfig } from '../incidents/config.ts';
import { dedupKeyOfGroup } from '../incidents/groups.ts';
import type { RoutesTest } from '../incidents/manager.ts';
import type { Notification, Notifier, ReceiverKind } from '../notifiers/types.ts';

interface Log {
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface EmergencyOptions {
  alerts: () => AlertsConfig;
  /** Routes, receivers and mute state for these labels (the engine's `vigil routes test`; reads only). */
  routes: (labels: Record<string, string>) => RoutesTest | Promise<RoutesTest>;
  notifiers: Record<ReceiverKind, Notifier>;
  log: Log;
  timeoutMs?: number;
}

export class EmergencyPager {
  private readonly o: EmergencyOptions;
  private readonly paged = new Set<string>();

  constructor(o: EmergencyOptions) {
    this.o = o;
  }

  /** Deliver `s` now if it is a critical firing signal not yet paged this episode. Resolves with deliveries made. */
  async page(s: Signal): Promise<number> {
    if (s.status !== 'firing' || s.severity !== 'critical') return 0;
    const alert = `${s.detector}:${s.key}`;
    if (this.paged.has(alert)) return 0;
    this.paged.add(alert);
    const labels: Record<string, string> = { ...s.labels, detector: s.detector, key: s.key, severity: s.severity };
    let rt: RoutesTest;
    try {
      rt = await this.o.routes(labels);
    } catch (err) {
      this.o.log.error('emergency page: routes could not be read', { alert, error: String(err) });
      return 0;
    }
    if (rt.muted) {
      this.o.log.warn('emergency page not sent: muted', { alert, muted: rt.muted });
      return 0;
    }
    const cfg = this.o.alerts();
    const owner = labels.owner || 'unowned';
    // As the engine does: receivers the owner cannot be reached through are left out; with none left, the console.
    let kinds = [...new Set(rt.routes.flatMap((r) => r.receivers.filter((x) => x.ok).map((x) => x.kind as ReceiverKind)))];
    if (kinds.length === 0 && rt.routes.some((r) => r.receivers.length > 0)) kinds = ['console'];
    const dedupKey = rt.routes[0] ? dedupKeyOfGroup(rt.routes[0].groupKey) : alert;
    let sent = 0;
    for (const kind of kinds) {
      const b = buildReceiver(cfg, owner, kind);
      if (!b.ok) continue;
      const n: Notification = {
        id: 0,
        incidentId: `unstored:${alert}`,
        dedupKey,
        receiver: b.receiver.name,
        action: 'trigger',
        reason: 'new',
        owner,
        priorRef: null,
        links: [],
        incident: {
          id: `unstored:${alert}`,
          dedupKey,
          detector: s.detector,
          key: s.key,
          state: 'firing',
          severity: s.severity,
          summary: `${s.summary} (sent from memory: Vigil cannot write its store; the incident is recorded when it can)`,
          labels: s.labels,
          evidence: s.evidence,
          firstSeen: s.at,
          lastSeen: s.at,
          resolvedAt: null,
          flapping: false,
        },
      };
      try {
        const r = await this.o.notifiers[kind].deliver(n, b.receiver, AbortSignal.timeout(this.o.timeoutMs ?? 15_000));
        if (r.ok) sent++;
        else this.o.log.error('emergency page failed', { alert, receiver: b.receiver.name, error: r.error ?? null });
      } catch (err) {
        this.o.log.error('emergency page failed', { alert, receiver: b.receiver.name, error: String(err) });
      }
    }
    if (sent) this.o.log.warn('emergency page sent from memory (the store cannot be written)', { alert, receivers: sent });
    return sent;
  }

  /** The store works again: the engine takes over; a new episode may page again. */
  reset(): void {
    this.paged.clear();
  }
}
