import { describe, expect, it } from 'vitest';
import { batchClock } from '../../src/http/arrival.ts';

describe('batchClock', () => {
  it('gives every stamp of one batch of callbacks the first reading, and a fresh one after the check phase', async () => {
    let t = 0;
    const stamp = batchClock(() => (t += 10));
    // Three socket reads handled one after another in the same poll phase: all arrived when the poll returned.
    expect([stamp(), stamp(), stamp()]).toEqual([10, 10, 10]);
    await new Promise((r) => setImmediate(r));
    expect(stamp()).toBe(20);
    expect(stamp()).toBe(20);
    // Never reused across a wait: an open batch keeps an immediate pending, so the loop cannot block in poll
    // before the batch closes.
    await new Promise((r) => setTimeout(r, 20));
    expect(stamp()).toBe(30);
  });

  it('keeps one batch per clock', () => {
    let a = 0;
    let b = 1000;
    const sa = batchClock(() => ++a);
    const sb = batchClock(() => ++b);
    expect([sa(), sb(), sa(), sb()]).toEqual([1, 1001, 1, 1001]);
  });
});
