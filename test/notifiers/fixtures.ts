import type { Notification } from '../../src/notifiers/types.ts';

export const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
export const MIN = 60_000;

export function notification(over: Partial<Notification> = {}, incident: Partial<Notification['incident']> = {}): Notification {
  return {
    id: 42,
    incidentId: 'inc-1',
    dedupKey: 'availability/openai-canary',
    receiver: 'search-pager',
    action: 'trigger',
    owner: 'search-team',
    priorRef: null,
    links: [
      { href: 'http://127.0.0.1:9464/api/incidents/inc-1', text: 'Incident in Vigil' },
      { href: 'https://runbooks.example.com/openai-down', text: 'Runbook' },
    ],
    ...over,
    incident: {
      id: 'inc-1',
      dedupKey: 'availability/openai-canary',
      detector: 'availability',
      key: 'openai-canary',
      state: 'firing',
      severity: 'critical',
      summary: 'openai-canary failing: 3 of 3 probes failed (server_error)',
      labels: { owner: 'search-team', provider: 'openai', model: 'gpt-4o-mini', probe: 'openai-canary', target: 'provider:openai', error_class: 'server_error' },
      evidence: { failures: 3, window: 3, last_status: 503, p95_ms: 2412.5, confirmed: true, retry_after_s: null },
      firstSeen: T0,
      lastSeen: T0 + 5 * MIN,
      resolvedAt: null,
      flapping: false,
      ...incident,
    },
  };
}

export function resolved(over: Partial<Notification> = {}): Notification {
  return notification({ action: 'resolve', ...over }, { state: 'resolved', lastSeen: T0 + 12 * MIN + 30_000, resolvedAt: T0 + 12 * MIN + 30_000 });
}
