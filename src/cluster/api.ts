// Which instance leads, for operators: GET /api/cluster and two /metrics series.
//   GET /api/cluster → { instance, location, leading, token, leader: { holder, location, token, since, expiresAt, live } | null }
//   vigil_leader 1|0            this instance holds the lease (sum over instances should be exactly 1)
//   vigil_leader_token N        the fencing token it holds (0 when not leading): jumps on every takeover
import { Gauge, type Registry } from 'prom-client';
import type { Handler } from '../server/router.ts';
import { HttpError, json } from '../server/router.ts';
import type { LocationSummary } from '../store/store.ts';
import type { Leader } from './leader.ts';

export interface LocationsSource {
  resultsByLocation(since: number): Promise<LocationSummary[]>;
}

const WINDOWS: Record<string, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '6h': 6 * 3_600_000, '24h': 24 * 3_600_000 };

export function clusterRoutes(leader: Leader, locations?: { store: LocationsSource; now: () => number }): { method: 'GET'; pattern: string; handler: Handler }[] {
  return [
    // Per probe, per location: status and latency over a window (default 1h), and who leads now.
    //   GET /api/locations?window=15m|1h|6h|24h → { window, since, leader, probes: { <id>: [{ location, results, failed, meanTotalMs, lastAt, lastOutcome }] } }
    ...(locations
      ? [
          {
            method: 'GET' as const,
            pattern: '/api/locations',
            handler: (async (ctx) => {
              const w = ctx.query.get('window') ?? '1h';
              const ms = WINDOWS[w];
              if (!ms) throw new HttpError(400, 'bad_request', `window must be one of ${Object.keys(WINDOWS).join(', ')}`);
              const since = locations.now() - ms;
              const probes: Record<string, Omit<LocationSummary, 'probe'>[]> = {};
              for (const { probe, ...rest } of await locations.store.resultsByLocation(since)) (probes[probe] ??= []).push(rest);
              const lease = await leader.current();
              return json({ window: w, since, leader: lease && lease.live ? { holder: lease.holder, location: lease.location } : null, probes });
            }) as Handler,
          },
        ]
      : []),
    {
      method: 'GET',
      pattern: '/api/cluster',
      handler: async () => {
        const lease = await leader.current();
        return json({
          instance: leader.instance,
          location: leader.location,
          leading: leader.isLeader,
          token: leader.token,
          leader: lease && { holder: lease.holder, location: lease.location, token: lease.token, since: lease.acquiredAt, expiresAt: lease.expiresAt, live: lease.live },
        });
      },
    },
  ];
}

export function registerClusterMetrics(registry: Registry, leader: Leader): void {
  new Gauge({
    name: 'vigil_leader',
    help: 'Whether this instance holds the leader lease (incidents, notifications, drills, polling run there).',
    registers: [registry],
    collect() {
      this.set(leader.isLeader ? 1 : 0);
    },
  });
  new Gauge({
    name: 'vigil_leader_token',
    help: 'Fencing token of the lease this instance holds (0 when it does not lead); grows on every takeover.',
    registers: [registry],
    collect() {
      this.set(leader.token ?? 0);
    },
  });
}
