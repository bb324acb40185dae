// A probe's current status in words, with a symbol and a class for colour: colour is never the only signal.
import type { ProbeResult } from '../domain.ts';
import { html } from './html.ts';
import type { Html } from './html.ts';

export type StatusKey = 'ok' | 'degraded' | 'failed' | 'confirming' | 'unknown' | 'maintenance' | 'pending' | 'disabled';

export interface StatusView {
  key: StatusKey;
  /** What the page says, e.g. "Failing". */
  text: string;
  /** The last result's outcome as /api/probes reports it, or null without a result. */
  outcome: ProbeResult['outcome'] | null;
  /** Why, when not ok: error class and message, or the soft assertion missed. */
  detail: string | null;
}

const TEXT: Record<StatusKey, string> = {
  ok: 'OK',
  degraded: 'Degraded',
  failed: 'Failing',
  confirming: 'Failed, confirming',
  unknown: 'No data',
  maintenance: 'Maintenance',
  pending: 'Pending',
  disabled: 'Disabled',
};

const SYMBOL: Record<StatusKey, string> = {
  ok: '✓',
  degraded: '!',
  failed: '✕',
  confirming: '✕',
  unknown: '?',
  maintenance: '⏸',
  pending: '…',
  disabled: '⊘',
};

/** Rank for "worst of": failing beats degraded beats ok. */
export const SEVERITY_RANK: Record<StatusKey, number> = { failed: 6, confirming: 5, degraded: 4, pending: 3, unknown: 2, maintenance: 1, disabled: 1, ok: 0 };

export function statusOf(last: ProbeResult | null, state?: string): StatusView {
  // `disabled: missing ${OPENAI_API_KEY}`: not run at all, so its last result (if any) is history, not status.
  if (state?.startsWith('disabled')) return { key: 'disabled', text: TEXT.disabled, outcome: last?.outcome ?? null, detail: state.replace(/^disabled:\s*/, '') || null };
  if (state === 'maintenance' || state === 'pending') {
    return { key: state, text: TEXT[state], outcome: last?.outcome ?? null, detail: null };
  }
  // A gateway answering from a fallback (src/detectors/attribution.ts): up for callers, not as configured.
  if (state === 'on fallback' && last) {
    const by = last.gateway?.servedBy ?? last.servedModel;
    return { key: 'degraded', text: 'On fallback', outcome: last.outcome, detail: by ? `served by ${by}${last.servedModel && last.servedModel !== by ? ` (${last.servedModel})` : ''}` : null };
  }
  if (!last || state === 'unknown') return { key: 'unknown', text: TEXT.unknown, outcome: last?.outcome ?? null, detail: null };
  const detail = last.outcome === 'ok' ? null : [last.errorClass, last.httpStatus ? `HTTP ${last.httpStatus}` : null, last.errorMessage].filter(Boolean).join(' · ') || null;
  if (last.outcome === 'ok') return { key: 'ok', text: TEXT.ok, outcome: 'ok', detail };
  if (last.outcome === 'degraded') return { key: 'degraded', text: TEXT.degraded, outcome: 'degraded', detail };
  // Vigil's own fault (out of sockets or memory): nothing is known about the target.
  if (last.outcome === 'unknown') return { key: 'unknown', text: 'Unknown (Vigil fault)', outcome: 'unknown', detail };
  // A first failure is re-probed before it counts (DESIGN: confirm before paging); say so.
  const confirmed = last.confirmed || last.attempt > 1;
  const key: StatusKey = confirmed ? 'failed' : 'confirming';
  return { key, text: TEXT[key], outcome: 'failed', detail };
}

export function statusText(key: StatusKey): string {
  return TEXT[key];
}

/** `<span class="status s-failed" data-outcome="failed">✕ Failing</span>` */
export function statusBadge(s: StatusView): Html {
  return html`<span class="status s-${s.key}" data-status="${s.key}" data-outcome="${s.outcome ?? ''}"><span aria-hidden="true">${SYMBOL[s.key]}</span> ${s.text}</span>`;
}

export function badge(key: StatusKey, text: string = TEXT[key]): Html {
  return html`<span class="status s-${key}" data-status="${key}"><span aria-hidden="true">${SYMBOL[key]}</span> ${text}</span>`;
}
