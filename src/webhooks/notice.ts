// The generic deprecation notice: a small documented JSON body for forwarding provider emails or internal
// announcements to POST /webhooks/<generic source>. Also accepted inside a Standard Webhooks event of type
// `model.deprecation` (`data` holds the notice).
//
//   { "provider": "openai", "model": "gpt-4o-2024-05-13", "shutdown_at": "2026-10-23",
//     "replacement": "gpt-4.1", "url": "https://developers.openai.com/api/docs/deprecations" }
//
// `provider` and `replacement`, `url` are optional; `shutdown_at` is a date or an ISO date-time (its UTC date
// counts); `notices: [ … ]` sends several at once.
import { z } from 'zod';
import type { Deprecation } from '../lifecycle/types.ts';

export const NOTICE_EVENT_TYPE = 'model.deprecation';

const DATE_TIME_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

const noticeSchema = z.looseObject({
  provider: z.string().min(1).max(64).optional(),
  model: z.string().min(1).max(200),
  shutdown_at: z.string().max(40),
  replacement: z.string().min(1).max(200).optional(),
  url: z
    .string()
    .max(2000)
    .regex(/^https?:\/\/\S+$/, 'url must be http(s)')
    .optional(),
});
const bodySchema = z.union([noticeSchema, z.looseObject({ notices: z.array(noticeSchema).min(1).max(100) })]);

export type NoticeResult = { ok: true; notices: Omit<Deprecation, 'origin'>[] } | { ok: false; message: string };

/** UTC calendar date of a date or date-time string, or null when it isn't one. */
export function utcDate(s: string): string | null {
  const m = DATE_TIME_RE.exec(s.trim());
  if (!m) return null;
  const t = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
  if (Number.isNaN(t)) return null;
  const d = new Date(t).toISOString().slice(0, 10);
  // Reject rolled-over dates such as 2026-02-31.
  if (s.length === 10 && d !== s) return null;
  return d;
}

export function parseNotice(value: unknown, defaultProvider: string | null): NoticeResult {
  const r = bodySchema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first?.path.length ? `${first.path.join('.')}: ` : '';
    return { ok: false, message: `not a deprecation notice (${where}${first?.message ?? 'invalid'}); expected {model, shutdown_at, provider?, replacement?, url?}` };
  }
  const list = 'notices' in r.data && Array.isArray(r.data.notices) ? r.data.notices : [r.data as z.output<typeof noticeSchema>];
  const notices: Omit<Deprecation, 'origin'>[] = [];
  for (const n of list) {
    const date = utcDate(n.shutdown_at);
    if (!date) return { ok: false, message: 'shutdown_at must be a date (YYYY-MM-DD) or an ISO date-time' };
    notices.push({ model: n.model, provider: n.provider ?? defaultProvider, shutdownAt: date, replacement: n.replacement ?? null, url: n.url ?? null });
  }
  return { ok: true, notices };
}
