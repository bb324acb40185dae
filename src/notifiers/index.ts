// Notifier registry and `vigil alerts test <owner>`: send a test through each of an owner's receivers.
import type https from 'node:https';
import type { Writable } from 'node:stream';
import { systemClock, type Clock } from '../clock.ts';
import { createConsoleNotifier } from './console.ts';
import { createPagerDutyNotifier } from './pagerduty.ts';
import { createSlackNotifier } from './slack.ts';
import type { DeliveryResult, Notification, Notifier, Receiver, ReceiverKind } from './types.ts';

export type { DeliveryResult, Notification, Notifier, Receiver, ReceiverKind } from './types.ts';

export interface NotifierOptions {
  /** Per HTTP attempt (Slack: per API call). Default 10 000 ms. */
  timeoutMs?: number;
  /** Where the console notifier writes. Default stdout. */
  console?: Writable | NodeJS.WritableStream;
  /** Fetch for Slack (default: globalThis.fetch at call time). PagerDuty uses node:https (pdjs). */
  fetch?: typeof fetch;
  /** PagerDuty https.Agent options, e.g. `{ ca }` to trust a private or loopback test server. */
  pagerdutyAgentOptions?: https.AgentOptions;
  /** PagerDuty `source` when an incident names no probe target. Default `vigil`. */
  instance?: string;
  clock?: Clock;
}

export function createNotifiers(opts: NotifierOptions = {}): Record<ReceiverKind, Notifier> {
  const clock = opts.clock ?? systemClock;
  return {
    pagerduty: createPagerDutyNotifier({ timeoutMs: opts.timeoutMs, instance: opts.instance, agentOptions: opts.pagerdutyAgentOptions, clock }),
    slack: createSlackNotifier({ timeoutMs: opts.timeoutMs, fetch: opts.fetch, clock }),
    console: createConsoleNotifier({ out: opts.console, clock }),
  };
}

export interface TestReport {
  receiver: string;
  kind: ReceiverKind;
  status: 'ok' | 'retryable' | 'error';
  /** PagerDuty dedup key of the test event, Slack `channel:ts` of the test message. */
  ref?: string;
  error?: string;
  retryAfterMs?: number;
  elapsedMs: number;
}

/** The Notification a test sends (pure). Its dedup key is unique per owner, receiver and time. */
export function testNotification(owner: string, receiver: Receiver, nowMs: number, links: Notification['links'] = []): Notification {
  const dedupKey = `vigil-test/${owner}/${receiver.name}/${nowMs}`;
  return {
    id: 0,
    incidentId: `test-${nowMs}`,
    dedupKey,
    receiver: receiver.name,
    action: 'test',
    incident: {
      id: `test-${nowMs}`,
      dedupKey,
      detector: 'test',
      key: owner,
      state: 'firing',
      severity: 'info',
      summary: `Vigil test notification for ${owner}`,
      labels: { owner },
      evidence: {},
      firstSeen: nowMs,
      lastSeen: nowMs,
      resolvedAt: null,
      flapping: false,
    },
    links,
    owner,
    priorRef: null,
  };
}

/**
 * Send one test notification through each receiver (in parallel) and report what happened. One attempt
 * each, no outbox: the point is to see the real answer now. PagerDuty tests trigger and then resolve.
 */
export async function sendTestNotification(
  owner: string,
  receivers: Receiver[],
  notifiers: Partial<Record<ReceiverKind, Notifier>>,
  opts: { clock?: Clock; signal?: AbortSignal; links?: Notification['links'] } = {},
): Promise<TestReport[]> {
  const clock = opts.clock ?? systemClock;
  return Promise.all(
    receivers.map(async (r): Promise<TestReport> => {
      const start = clock.monotonic();
      const notifier = notifiers[r.kind];
      let res: DeliveryResult;
      if (!notifier) res = { ok: false, retryable: false, error: `no notifier for receiver kind ${r.kind}` };
      else {
        try {
          res = await notifier.deliver(testNotification(owner, r, clock.now(), opts.links), r, opts.signal);
        } catch (err) {
          res = { ok: false, retryable: false, error: `notifier threw: ${(err as Error).message}` };
        }
      }
      const report: TestReport = { receiver: r.name, kind: r.kind, status: res.ok ? 'ok' : res.retryable ? 'retryable' : 'error', elapsedMs: Math.round(clock.monotonic() - start) };
      if (res.ref !== undefined) report.ref = res.ref;
      if (res.error !== undefined) report.error = res.error;
      if (res.retryAfterMs !== undefined) report.retryAfterMs = res.retryAfterMs;
      return report;
    }),
  );
}

/** Table for the CLI: one line per receiver. */
export function formatTestReport(owner: string, reports: TestReport[]): string {
  if (reports.length === 0) return `owner ${owner} has no receivers\n`;
  const w = Math.max(8, ...reports.map((r) => r.receiver.length));
  const lines = reports.map((r) => {
    const detail = r.status === 'ok' ? (r.ref ?? '') : `${r.error ?? ''}${r.retryAfterMs !== undefined ? ` (retry after ${Math.ceil(r.retryAfterMs / 1000)} s)` : ''}`;
    return `${r.receiver.padEnd(w)}  ${r.kind.padEnd(9)}  ${r.status.padEnd(9)}  ${String(r.elapsedMs).padStart(5)} ms  ${detail}`.trimEnd();
  });
  return [`${'RECEIVER'.padEnd(w)}  KIND       RESULT     TIME      DETAIL`, ...lines].join('\n') + '\n';
}
