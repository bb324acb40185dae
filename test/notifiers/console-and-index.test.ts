import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { formatDuration, formatTime, truncate, headline } from '../../src/notifiers/format.ts';
import { createNotifiers, formatTestReport, sendTestNotification, testNotification } from '../../src/notifiers/index.ts';
import { parseRetryAfter } from '../../src/notifiers/result.ts';
import type { Notifier, Receiver } from '../../src/notifiers/types.ts';
import { MIN, notification, resolved, T0 } from './fixtures.ts';

describe('format', () => {
  it('durations and times', () => {
    expect([0, 45_000, 12 * MIN + 30_000, 4 * 60 * MIN, 51 * 60 * MIN].map(formatDuration)).toEqual(['0s', '45s', '12m 30s', '4h 0m', '2d 3h']);
    expect(formatTime(T0)).toBe('2026-01-05 09:00:00 UTC');
  });
  it('truncate counts code points and marks the cut', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcd', 3)).toBe('ab…');
    expect(truncate('😀😀😀😀', 3)).toBe('😀😀…');
  });
  it('headline says status in words (never colour or emoji alone)', () => {
    expect(headline(notification())).toBe('FIRING critical: openai-canary failing: 3 of 3 probes failed (server_error)');
    expect(headline(resolved())).toBe('RESOLVED: openai-canary failing: 3 of 3 probes failed (server_error)');
  });
  it('Retry-After: seconds, HTTP-date, garbage', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter(new Date(T0 + 60_000).toUTCString(), T0)).toBe(60_000);
    expect(parseRetryAfter(new Date(T0 - 60_000).toUTCString(), T0)).toBe(0);
    expect(parseRetryAfter('soon', T0)).toBeUndefined();
    expect(parseRetryAfter(null, T0)).toBeUndefined();
  });
});

describe('console notifier', () => {
  it('writes one readable line per notification and is always ok', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => (text += c));
    const { console: con } = createNotifiers({ console: out, clock: new ManualClock(T0 + 5 * MIN) });
    const r: Receiver = { name: 'console', kind: 'console' };
    expect(await con.deliver(notification({ receiver: 'console' }), r)).toEqual({ ok: true, retryable: false, ref: 'availability/openai-canary' });
    expect(await con.deliver(resolved({ receiver: 'console' }), r)).toMatchObject({ ok: true });
    const lines = text.trimEnd().split('\n');
    expect(lines).toEqual([
      '2026-01-05T09:05:00.000Z notify trigger → console: [FIRING critical] openai-canary failing: 3 of 3 probes failed (server_error) | since 2026-01-05 09:00:00 UTC (for 5m 0s) | owner search-team | failures=3 window=3 last_status=503 p95_ms=2412.5 confirmed=yes retry_after_s=- | Incident in Vigil: http://127.0.0.1:9464/api/incidents/inc-1 | Runbook: https://runbooks.example.com/openai-down | dedup availability/openai-canary',
      '2026-01-05T09:05:00.000Z notify resolve → console: [RESOLVED] openai-canary failing: 3 of 3 probes failed (server_error) | from 2026-01-05 09:00:00 UTC to 2026-01-05 09:12:30 UTC (lasted 12m 30s) | owner search-team | failures=3 window=3 last_status=503 p95_ms=2412.5 confirmed=yes retry_after_s=- | Incident in Vigil: http://127.0.0.1:9464/api/incidents/inc-1 | Runbook: https://runbooks.example.com/openai-down | dedup availability/openai-canary',
    ]);
  });

  it('a summary with a newline stays on one line', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => (text += c));
    await createNotifiers({ console: out }).console.deliver(notification({}, { summary: 'a\nb' }), { name: 'c', kind: 'console' });
    expect(text.split('\n')).toHaveLength(2);
  });
});

describe('sendTestNotification', () => {
  const clock = new ManualClock(T0);
  const fake = (result: Awaited<ReturnType<Notifier['deliver']>> | Error): Notifier & { seen: unknown[] } => {
    const seen: unknown[] = [];
    return {
      kind: 'slack',
      seen,
      async deliver(n) {
        seen.push(n);
        if (result instanceof Error) throw result;
        return result;
      },
    };
  };

  it('builds a test notification with a unique dedup key', () => {
    const n = testNotification('search-team', { name: 'pager', kind: 'pagerduty' }, T0);
    expect(n.action).toBe('test');
    expect(n.dedupKey).toBe(`vigil-test/search-team/pager/${T0}`);
    expect(n.incident.severity).toBe('info');
    expect(n.priorRef).toBeNull();
  });

  it('reports ok, retryable and error per receiver, and never throws', async () => {
    const receivers: Receiver[] = [
      { name: 'a', kind: 'slack' },
      { name: 'b', kind: 'pagerduty' },
      { name: 'c', kind: 'console' },
      { name: 'd', kind: 'console' },
    ];
    const slack = fake({ ok: true, retryable: false, ref: 'C1:1.2' });
    const pagerduty = fake({ ok: false, retryable: true, retryAfterMs: 30_000, error: 'pagerduty HTTP 429' });
    const reports = await sendTestNotification('search-team', receivers, { slack, pagerduty, console: fake(new Error('boom')) }, { clock });
    expect(reports).toEqual([
      { receiver: 'a', kind: 'slack', status: 'ok', ref: 'C1:1.2', elapsedMs: 0 },
      { receiver: 'b', kind: 'pagerduty', status: 'retryable', error: 'pagerduty HTTP 429', retryAfterMs: 30_000, elapsedMs: 0 },
      { receiver: 'c', kind: 'console', status: 'error', error: 'notifier threw: boom', elapsedMs: 0 },
      { receiver: 'd', kind: 'console', status: 'error', error: 'notifier threw: boom', elapsedMs: 0 },
    ]);
    expect((slack.seen[0] as { owner: string }).owner).toBe('search-team');
    expect(formatTestReport('search-team', reports)).toBe(
      [
        'RECEIVER  KIND       RESULT     TIME      DETAIL',
        'a         slack      ok             0 ms  C1:1.2',
        'b         pagerduty  retryable      0 ms  pagerduty HTTP 429 (retry after 30 s)',
        'c         console    error          0 ms  notifier threw: boom',
        'd         console    error          0 ms  notifier threw: boom',
      ].join('\n') + '\n',
    );
    expect(formatTestReport('nobody', [])).toBe('owner nobody has no receivers\n');
  });
});
