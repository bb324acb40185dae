// HTTP routes of the incidents engine, for the server's router:
//   GET    /api/incidents?state=open|pending|firing|resolved&limit=N
//   GET    /api/incidents/:id          (with notification history, attempts and events)
//   POST   /api/silences               (JSON body as a silence in alerts/*.yaml, plus `duration`; admin token;
//                                        409 past server.limits.max_silences, 429 past silences_per_minute)
//   GET    /api/silences
//   DELETE /api/silences/:id           (ends it now; the record stays)
import { z } from 'zod';
import type { Handler } from '../server/router.ts';
import { HttpError, clip, json, readJson, singleParams } from '../server/router.ts';
import { parseDuration } from '../config/duration.ts';
import type { IncidentManager } from './manager.ts';
import type { StoredSilence } from './db.ts';
import { configSilenceView } from './matchers.ts';
import { regexProblem } from '../config/regex.ts';
import { RateLimit } from '../server/limits.ts';

type Manager = Pick<IncidentManager, 'listIncidents' | 'incident' | 'createSilence' | 'listSilences' | 'deleteSilence' | 'liveSilenceCount'>;

const STATES = ['open', 'pending', 'firing', 'resolved'] as const;
const MAX_SILENCE_MS = 366 * 86_400_000;

const MAX_MATCHERS = 20;
const labelName = z.string().max(100).regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'label names are letters, digits and "_"');
// RE2 (linear time): a pattern such as (.*.*.*)*! is matched in bounded time, never by backtracking.
const regex = z.string().superRefine((re, ctx) => {
  const problem = regexProblem(re, { anchored: true });
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const fewMatchers = (r: Record<string, unknown> | undefined) => Object.keys(r ?? {}).length <= MAX_MATCHERS;
const instant = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 time, e.g. "2026-11-24T00:00:00Z"');

export const silenceBodySchema = z.strictObject({
  matchers: z.record(labelName, z.string().max(1024)).refine(fewMatchers, `at most ${MAX_MATCHERS} matchers`).optional(),
  matchers_re: z.record(labelName, regex).refine(fewMatchers, `at most ${MAX_MATCHERS} matchers`).optional(),
  starts_at: instant.optional(),
  ends_at: instant.optional(),
  duration: z.string().refine((s) => parseDuration(s) !== null, 'expected a duration like "2h"').optional(),
  comment: z.string().trim().min(1, 'required').max(1000),
  created_by: z.string().trim().min(1, 'required').max(200),
});

export interface SilenceLimits {
  /** API silences not yet over; creating one more is a 409. */
  maxSilences: number;
  /** Creations per minute; past it a 429 with Retry-After. */
  silencesPerMinute: number;
}

const DEFAULT_SILENCE_LIMITS: SilenceLimits = { maxSilences: 1000, silencesPerMinute: 30 };

/**
 * `{ method, pattern, handler }` for each route; register with `server.addRoute(method, pattern, handler)`.
 * The server lets only admin tokens reach POST and DELETE.
 */
export function incidentRoutes(manager: Manager, now: () => number, limits: SilenceLimits = DEFAULT_SILENCE_LIMITS): { method: string; pattern: string; handler: Handler }[] {
  const rate = new RateLimit(limits.silencesPerMinute, now());
  return [
    {
      method: 'GET',
      pattern: '/api/incidents',
      handler: async (ctx) => {
        const p = singleParams(ctx.query, ['state', 'limit']);
        if (p.state !== undefined && !(STATES as readonly string[]).includes(p.state)) {
          throw new HttpError(400, 'bad_request', `state must be one of ${STATES.join(', ')}; got "${clip(p.state)}"`);
        }
        let limit = 100;
        if (p.limit !== undefined) {
          limit = Number(p.limit);
          if (!/^\d+$/.test(p.limit) || limit < 1 || limit > 1000) throw new HttpError(400, 'bad_request', 'limit must be an integer from 1 to 1000');
        }
        const incidents = await manager.listIncidents({ state: p.state as (typeof STATES)[number] | undefined, limit });
        return json({ count: incidents.length, incidents });
      },
    },
    {
      method: 'GET',
      pattern: '/api/incidents/:id',
      handler: async (ctx) => {
        singleParams(ctx.query, []);
        const detail = await manager.incident(ctx.params.id);
        if (!detail) throw new HttpError(404, 'not_found', `no incident "${clip(ctx.params.id)}"`);
        return json(detail);
      },
    },
    {
      method: 'POST',
      pattern: '/api/silences',
      handler: async (ctx) => {
        const { value } = await readJson(ctx.req, { limit: 64 * 1024 });
        const r = silenceBodySchema.safeParse(value);
        if (!r.success) {
          const msg = r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
          throw new HttpError(400, 'invalid_silence', clip(msg, 500));
        }
        const b = r.data;
        const t = now();
        const startsAt = b.starts_at ? Date.parse(b.starts_at) : t;
        if (b.ends_at && b.duration) throw new HttpError(400, 'invalid_silence', 'give ends_at or duration, not both');
        if (!b.ends_at && !b.duration) throw new HttpError(400, 'invalid_silence', 'ends_at or duration is required (a silence must end)');
        const endsAt = b.ends_at ? Date.parse(b.ends_at) : startsAt + parseDuration(b.duration!)!;
        if (endsAt <= startsAt) throw new HttpError(400, 'invalid_silence', 'ends_at must be after starts_at');
        if (endsAt <= t) throw new HttpError(400, 'invalid_silence', 'the silence would already be over');
        if (endsAt - startsAt > MAX_SILENCE_MS) throw new HttpError(400, 'invalid_silence', 'a silence may last at most 366 days');
        if (!Object.keys({ ...b.matchers, ...b.matchers_re }).length) {
          throw new HttpError(400, 'invalid_silence', 'at least one matcher is required (matchers or matchers_re)');
        }
        // Caps last, so a malformed request never spends the budget.
        const live = await manager.liveSilenceCount();
        if (live >= limits.maxSilences) {
          throw new HttpError(409, 'too_many_silences', `${live} silences are in force or scheduled (at most ${limits.maxSilences}); end some with DELETE /api/silences/<id> first`);
        }
        const slot = rate.take(t);
        if (!slot.ok) {
          throw new HttpError(429, 'rate_limited', `at most ${limits.silencesPerMinute} silences a minute; retry in ${slot.retryAfterS} s`, { 'retry-after': String(slot.retryAfterS) });
        }
        const s = await manager.createSilence({
          matchers: b.matchers,
          matchersRe: b.matchers_re,
          startsAt,
          endsAt,
          comment: b.comment,
          createdBy: b.created_by,
        });
        return json({ id: s.id, silence: silenceJson(s, t) }, 201, { location: `/api/silences/${encodeURIComponent(s.id)}` });
      },
    },
    {
      method: 'GET',
      pattern: '/api/silences',
      handler: async (ctx) => {
        singleParams(ctx.query, []);
        const t = now();
        const { api, config } = await manager.listSilences();
        return json({
          silences: [
            ...api.map((s) => silenceJson(s, t)),
            ...config.map((s) => ({ ...configSilenceView(s), active: s.startsAt <= t && t < s.endsAt })),
          ],
        });
      },
    },
    {
      method: 'DELETE',
      pattern: '/api/silences/:id',
      handler: async (ctx) => {
        const id = ctx.params.id;
        if ((await manager.listSilences()).config.some((s) => s.id === id)) {
          throw new HttpError(409, 'conflict', `silence "${clip(id)}" is defined in alerts/*.yaml; remove it there and reload`);
        }
        if (!(await manager.deleteSilence(id))) throw new HttpError(404, 'not_found', `no live silence "${clip(id)}"`);
        return json({ id, deleted: true });
      },
    },
  ];
}

function silenceJson(s: StoredSilence, now: number) {
  return {
    id: s.id,
    origin: 'api',
    matchers: s.matchers,
    matchersRe: s.matchersRe,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    comment: s.comment,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    deletedAt: s.deletedAt,
    active: s.deletedAt === null && s.startsAt <= now && now < s.endsAt,
  };
}
