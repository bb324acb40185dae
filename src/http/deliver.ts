// "Stamp in poll, deliver in check". When many sockets become readable in one event-loop turn (500 probes
// whose responses land together), undici reads them one after another, and Node drains microtasks after
// each. If every chunk resolved its consumer's promise straight away, the consumer's work (SSE parsing,
// adapter logic) for socket A would run before socket B is even read, and B's arrival stamp would absorb it.
// So producers stamp immediately but hand results to consumers from one shared setImmediate, after the
// whole batch of reads. Idle-loop cost: one check phase, microseconds.

export interface Deliverable {
  deliver(): void;
}

let pending: Deliverable[] = [];
let spare: Deliverable[] = [];
let scheduled = false;

export function deliverSoon(d: Deliverable): void {
  pending.push(d);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

function flush(): void {
  scheduled = false;
  // Swap buffers: deliveries may schedule further deliveries, which go to the next turn.
  const batch = pending;
  pending = spare;
  spare = batch;
  for (let i = 0; i < batch.length; i++) {
    try {
      batch[i].deliver();
    } catch (err) {
      // A failing delivery must not starve the rest of the batch.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
  batch.length = 0;
}
