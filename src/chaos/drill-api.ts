// HTTP routes for drill history, for the server's router (register like incidentRoutes):
//   GET /api/drills?limit=N                every configured drill: schedule, next run, last N runs (default 10)
//   GET /api/drills/:id?limit=N            one drill's runs with their journals (default 20)
//   GET /api/drills/:id/runs/:run          one run: journal, attempts and the probe results it produced
// Read-only: drills run on their schedule or from `vigil drill <id>`, never from an unauthenticated API.
import type { Handler } from '../server/router.ts';
import { HttpError, clip, json, singleParams } from '../server/router.ts';
import type { DrillService } from './drills.ts';

type Service = Pick<DrillService, 'overview' | 'history' | 'runDetail'>;

function limitOf(q: URLSearchParams, def: number): number {
  const p = singleParams(q, ['limit']);
  if (p.limit === undefined) return def;
  const n = Number(p.limit);
  if (!/^\d+$/.test(p.limit) || n < 0 || n > 500) throw new HttpError(400, 'bad_request', 'limit must be an integer from 0 to 500');
  return n;
}

export function drillRoutes(service: Service): { method: string; pattern: string; handler: Handler }[] {
  return [
    {
      method: 'GET',
      pattern: '/api/drills',
      handler: async (ctx) => {
        const drills = await service.overview(limitOf(ctx.query, 10));
        return json({ count: drills.length, drills });
      },
    },
    {
      method: 'GET',
      pattern: '/api/drills/:id',
      handler: async (ctx) => {
        const h = await service.history(ctx.params.id, limitOf(ctx.query, 20));
        if (!h) throw new HttpError(404, 'not_found', `no drill "${clip(ctx.params.id)}"`);
        return json({ drill: h.drill, count: h.runs.length, runs: h.runs });
      },
    },
    {
      method: 'GET',
      pattern: '/api/drills/:id/runs/:run',
      handler: async (ctx) => {
        singleParams(ctx.query, []);
        const d = await service.runDetail(ctx.params.run);
        if (!d || d.run.drillId !== ctx.params.id) throw new HttpError(404, 'not_found', `no run "${clip(ctx.params.run)}" of drill "${clip(ctx.params.id)}"`);
        return json(d);
      },
    },
  ];
}
