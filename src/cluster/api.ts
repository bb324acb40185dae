// Which instance leads, for operators: GET /api/cluster and two /metrics series.
//   GET /api/cluster → { instance, location, leading, token, leader: { holder, location, token, since, expiresAt, live } | null }
//   vigil_leader 1|0            this instance holds the lease (sum over instances should be exactly 1)
//   vigil_leader_token N        the fencing token it holds (0 when not leading): jumps on every takeover
import { Gauge, type Registry } from 'prom-client';
import type { Handler } from '../server/router.ts';
import { json } from '../server/router.ts';
import type { Leader } from './leader.ts';

export function clusterRoutes(leader: Leader): { method: 'GET'; pattern: string; handler: Handler }[] {
  return [
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
