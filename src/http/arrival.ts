// Arrival stamps shared by one batch of socket reads. When the event loop polls, the kernel hands libuv every
// socket that is readable at that moment, and libuv then runs their callbacks one after another: the 400th
// response of 500 that landed together was readable when the poll returned, not when its turn came after
// 399 others were parsed. So the first stamp taken in a batch is reused for the rest of it, and a
// setImmediate (the check phase, right after the poll phase) closes the batch. While a batch is open an
// immediate is pending, so the loop never blocks waiting for I/O: a stamp is never reused across idle time.
// It can be late by what ran before the first read of its batch (a GC pause, a previous batch).

/** A monotonic clock whose readings are the same for every call within one batch of I/O callbacks. */
export function batchClock(now: () => number): () => number {
  let at = -1;
  const close = (): void => {
    at = -1;
  };
  return () => {
    if (at < 0) {
      at = now();
      setImmediate(close);
    }
    return at;
  };
}
