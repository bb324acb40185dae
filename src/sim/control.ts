// The control API under /_sim/ on every simulated server. JSON in, JSON out.
//
//   GET    /_sim/info                     name, provider, url, seq, log capacity (+ gateway config)
//   GET    /_sim/behaviour                the whole behaviour
//   PATCH  /_sim/behaviour  {…}           merge patch (POST works too); validated, 400 with reasons
//   PUT    /_sim/behaviour  {…}           defaults + this patch
//   POST   /_sim/reset      {requests?}   behaviour back to defaults (and clear the truth log if requests: true)
//   GET    /_sim/errors                   active error bursts
//   POST   /_sim/errors     burst|[burst] add {kind, ratio, count?, until?, match?}
//   DELETE /_sim/errors                   clear all bursts
//   POST   /_sim/outage     {down}        whole provider down (503/529) or back up
//   POST   /_sim/refusals   {rate?, overrides?}   refusal rate and per-prompt overrides
//   POST   /_sim/latency    {…}           merge into behaviour.latency
//   GET    /_sim/latency?at=&tokens=      planned latency (no jitter) at an instant (epoch ms or ISO; default now)
//   POST   /_sim/models/swap   {alias, snapshot, fingerprint?}
//   POST   /_sim/models/remove {id}
//   POST   /_sim/models/add    {id, created, …}
//   GET    /_sim/requests?since=N&limit=M    truth records with seq > N: {requests, lastSeq}
//   GET    /_sim/requests/{id}            one truth record by x-sim-request-id
//   DELETE /_sim/requests                 clear the truth log
//   GET|PATCH /_sim/gateway               gateway servers only: targets, flavour, retries, timeouts
import { BehaviourError, FAULT_KINDS, defaultBehaviour, patchBehaviour } from './behaviour.ts';
import { planLatency } from './latency.ts';
import type { ControlResult, SimServer } from './server.ts';

const ok = (body: unknown): ControlResult => ({ status: 200, body });
const bad = (error: string): ControlResult => ({ status: 400, body: { error } });

function obj(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

export function handleControl(
  server: SimServer,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): ControlResult {
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  try {
    switch (route) {
      case 'GET /_sim':
      case 'GET /_sim/info':
        return ok({
          name: server.name,
          provider: server.provider,
          url: server.url,
          lastSeq: server.lastSeq,
          logCapacity: server.logCapacity,
          faultKinds: FAULT_KINDS,
          ...server.handler.info?.(),
        });
      case 'GET /_sim/behaviour':
        return ok(server.behaviour);
      case 'PATCH /_sim/behaviour':
      case 'POST /_sim/behaviour':
        return ok(server.patch(body));
      case 'PUT /_sim/behaviour':
        server.behaviour = patchBehaviour(defaultBehaviour(server.provider), body);
        return ok(server.behaviour);
      case 'POST /_sim/reset':
        server.reset();
        if (obj(body).requests === true) server.clearRequests();
        return ok(server.behaviour);
      case 'GET /_sim/errors':
        return ok(server.behaviour.errors);
      case 'POST /_sim/errors': {
        const add = Array.isArray(body) ? body : [body];
        server.patch({ errors: [...server.behaviour.errors, ...add] });
        return ok(server.behaviour.errors);
      }
      case 'DELETE /_sim/errors':
        server.clearBursts();
        return ok(server.behaviour.errors);
      case 'POST /_sim/outage': {
        const down = obj(body).down;
        if (typeof down !== 'boolean') return bad('expected {"down": true|false}');
        server.setOutage(down);
        return ok({ outage: down });
      }
      case 'POST /_sim/refusals': {
        const b = obj(body);
        const patch: Record<string, unknown> = {};
        if ('rate' in b) patch.refusalRate = b.rate;
        if ('overrides' in b) patch.refusalOverrides = b.overrides;
        if ('stopReasonRatio' in b) patch.refusalStopReasonRatio = b.stopReasonRatio;
        server.patch(patch);
        const { refusalRate, refusalOverrides, refusalStopReasonRatio } = server.behaviour;
        return ok({ refusalRate, refusalOverrides, refusalStopReasonRatio });
      }
      case 'POST /_sim/latency':
      case 'PATCH /_sim/latency':
        return ok(server.patch({ latency: body }).latency);
      case 'GET /_sim/latency': {
        const atRaw = query.get('at');
        const at = atRaw === null ? server.clock.now() : /^\d+$/.test(atRaw) ? Number(atRaw) : Date.parse(atRaw);
        if (!Number.isFinite(at)) return bad('at must be epoch ms or an ISO date');
        const tokens = Number(query.get('tokens') ?? '1');
        if (!Number.isInteger(tokens) || tokens < 0 || tokens > 100_000) return bad('tokens must be a small integer');
        return ok({ at, tokens, ...planLatency(server.behaviour.latency, at, tokens) });
      }
      case 'POST /_sim/models/swap': {
        const b = obj(body);
        if (typeof b.alias !== 'string' || typeof b.snapshot !== 'string') return bad('expected {"alias", "snapshot"}');
        const fp = b.fingerprint;
        if (fp !== undefined && fp !== null && typeof fp !== 'string') return bad('fingerprint must be a string or null');
        server.swapModel(b.alias, b.snapshot, fp as string | null | undefined);
        return ok({ aliases: server.behaviour.aliases, fingerprint: server.behaviour.fingerprint });
      }
      case 'POST /_sim/models/remove': {
        const id = obj(body).id;
        if (typeof id !== 'string') return bad('expected {"id"}');
        const removed = server.removeModel(id);
        return { status: removed ? 200 : 404, body: { removed, models: server.behaviour.models.map((m) => m.id) } };
      }
      case 'POST /_sim/models/add':
        server.addModel(body as never);
        return ok({ models: server.behaviour.models.map((m) => m.id) });
      case 'GET /_sim/requests': {
        const since = Number(query.get('since') ?? '0');
        const limitRaw = query.get('limit');
        const limit = limitRaw === null ? undefined : Number(limitRaw);
        if (!Number.isFinite(since) || (limit !== undefined && !(limit > 0))) return bad('since/limit must be numbers');
        return ok({ requests: server.requests(since, limit), lastSeq: server.lastSeq });
      }
      case 'DELETE /_sim/requests':
        server.clearRequests();
        return ok({ cleared: true });
    }
    const one = method === 'GET' ? /^\/_sim\/requests\/([^/]+)$/.exec(path) : null;
    if (one) {
      const rec = server.request(decodeURIComponent(one[1]));
      return rec ? ok(rec) : { status: 404, body: { error: `no record ${one[1]} (evicted or never seen)` } };
    }
    const extra = server.handler.control?.(server, method, path.replace(/\/+$/, ''), body);
    if (extra) return extra;
    return { status: 404, body: { error: `no control route ${route}` } };
  } catch (err) {
    if (err instanceof BehaviourError) return bad(err.message);
    throw err;
  }
}
