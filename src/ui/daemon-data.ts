// UiData from a running Daemon: probes and history from its store, incidents and silences from its incident
// manager, the deprecation countdown from its lifecycle module, refusal baselines from its drift detectors, drill
// history from its drill service (none without `chaos:`: the panel then says no drills are configured).
// `extra` overrides any of them.
import type { Daemon } from '../daemon.ts';
import { configSilenceView } from '../incidents/matchers.ts';
import type { ClusterView, DrillScenarioView, SilenceView, UiData } from './data.ts';
import { MAX_RUNS_SHOWN } from './pages/drills.ts';

export function uiDataFromDaemon(d: Daemon, extra: Partial<Omit<UiData, 'store' | 'now'>> = {}): UiData {
  return {
    now: () => d.clock.now(),
    probes: () => d.probeListing(),
    store: d.store,
    incidents: (q) => d.incidents.listIncidents(q),
    silences: async (): Promise<SilenceView[]> => {
      const { api, config } = await d.incidents.listSilences();
      return [
        ...api.map((s) => ({ id: s.id, origin: 'api', matchers: s.matchers ?? {}, matchersRe: s.matchersRe ?? {}, startsAt: s.startsAt, endsAt: s.endsAt, comment: s.comment, createdBy: s.createdBy })),
        ...config.map(configSilenceView),
      ];
    },
    deprecations: () => d.lifecycle.rows(),
    refusalBaselines: () => d.drift.refusalStatus(),
    // Read at call time: the drill service starts after the routes are registered (and only with `chaos:`).
    drills: async (): Promise<DrillScenarioView[]> =>
      ((await d.drills?.overview(MAX_RUNS_SHOWN)) ?? []).map((o) => ({
        id: o.id,
        owner: o.owner,
        schedule: o.schedule ? `${o.schedule.cron} (${o.schedule.timezone})` : 'manual only',
        check: o.check,
        runs: o.runs,
      })),
    // Read at call time: the lease is set up after the routes are registered.
    cluster: async (): Promise<ClusterView | null> => {
      if (!d.leader) return null;
      const lease = await d.leader.current();
      return {
        shared: d.store.sql.dialect.name !== 'sqlite',
        instance: d.leader.instance,
        location: d.leader.location,
        leader: lease && { holder: lease.holder, location: lease.location, token: lease.token, since: lease.acquiredAt, expiresAt: lease.expiresAt, live: lease.live },
      };
    },
    ...extra,
  };
}
