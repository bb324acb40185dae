// ManualClock with a cheaper advance(): one event-loop turn per woken sleeper instead of five, and a linear
// min-scan instead of a sort. Same wake order (time, then sleep order). ManualClock's 5-turn flush costs
// ~19 us per wake, i.e. ~11 s for the 576k wakes of a simulated day of 200 probes; this one ~4 s.
// The scheduler's reactions are pure promise chains, so one turn (which drains all microtasks) is enough;
// day.test.ts checks that an hour on this clock records exactly what an hour on ManualClock records.

import { ManualClock } from '../../src/clock.ts';

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

export class QuickClock extends ManualClock {
  override async advance(ms: number): Promise<void> {
    // ManualClock's fields are TS-private; this subclass reads the same ones.
    const self = this as unknown as { sleepers: Sleeper[]; t: number };
    const end = self.t + ms;
    for (;;) {
      const s = self.sleepers;
      let idx = -1;
      for (let i = 0; i < s.length; i++) {
        if (idx < 0 || s[i].at < s[idx].at || (s[i].at === s[idx].at && s[i].seq < s[idx].seq)) idx = i;
      }
      if (idx < 0 || s[idx].at > end) break;
      const next = s[idx];
      s.splice(idx, 1);
      self.t = Math.max(self.t, next.at);
      next.resolve();
      await turn();
    }
    self.t = end;
    await turn();
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
