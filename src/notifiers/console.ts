// The demo's receiver: one readable line per notification on a stream (stdout by default). Always ok.
import type { Writable } from 'node:stream';
import { systemClock, type Clock } from '../clock.ts';
import { plainText } from './format.ts';
import { ok } from './result.ts';
import type { DeliveryResult, Notification, Notifier } from './types.ts';

export interface ConsoleOptions {
  out?: Writable | NodeJS.WritableStream;
  clock?: Clock;
}

/** `2026-01-05T00:03:00.000Z notify trigger → console: [FIRING critical] … | dedup availability/openai-canary` */
export function consoleLine(n: Notification, nowMs: number): string {
  return `${new Date(nowMs).toISOString()} notify ${n.action} → ${n.receiver}: ${plainText(n)} | dedup ${n.dedupKey}`.replace(/[\r\n]+/g, ' ');
}

export function createConsoleNotifier(opts: ConsoleOptions = {}): Notifier {
  const out = opts.out ?? process.stdout;
  const clock = opts.clock ?? systemClock;
  return {
    kind: 'console',
    async deliver(n: Notification): Promise<DeliveryResult> {
      out.write(consoleLine(n, clock.now()) + '\n');
      return ok(n.dedupKey);
    },
  };
}
