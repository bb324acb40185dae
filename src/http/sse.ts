// Server-Sent Events over an HttpResponse body, parsed by eventsource-parser.
//
// Contract for a cut stream: the iterator THROWS `HttpError('reset')`, after yielding every complete event
// received before the cut, when
//   - the transport failed mid-body (socket reset, chunked encoding cut): the body's own HttpError is rethrown;
//   - the body ended cleanly but in the middle of an event (data lines without the closing blank line, or a
//     partial line): message starts with `SSE stream ended mid-event`.
// Comments (`: keep-alive`) and Anthropic's `event: ping` keep-alives are dropped; `data: [DONE]` is passed
// through like any event.
// A body that ends on an event boundary just ends the iteration, with or without `data: [DONE]` (the provider
// adapter decides whether a missing terminator is malformed). Timeouts and aborts propagate as their own
// HttpError kinds. So an adapter does:
//   try { for await (const ev of readSse(res)) p.push(ev); p.finish(false) }
//   catch (e) { if (e instanceof HttpError && e.kind === 'reset') p.finish(true); else throw e }
import { createParser } from 'eventsource-parser';
import type { EventSourceMessage } from 'eventsource-parser';
import { HttpError } from './types.ts';
import type { HttpResponse, SseEvent } from './types.ts';
import { isTimedResponse } from './client.ts';

export async function* readSse(res: HttpResponse): AsyncGenerator<SseEvent, void, undefined> {
  const timed = isTimedResponse(res) ? res : null;
  // Events completed by the chunk being fed; drained after each feed so no callback needs to yield.
  const ready: SseEvent[] = [];
  let at = 0;
  let atEof = false;
  let cut = false;
  const parser = createParser({
    onEvent(msg: EventSourceMessage) {
      // At EOF the parser is fed a synthetic terminator: any event completed by it was cut off.
      if (atEof) cut = true;
      else if (msg.event !== 'ping') ready.push({ event: msg.event, data: msg.data, id: msg.id, at });
    },
  });
  const decoder = new TextDecoder();

  for await (const chunk of res.body) {
    // Stamp with the chunk's arrival time when known; a consumer that lags behind the socket must not
    // make events look late.
    at = timed !== null && timed.lastChunkAt >= 0 ? timed.lastChunkAt : res.elapsed();
    parser.feed(decoder.decode(chunk, { stream: true }));
    for (let i = 0; i < ready.length; i++) yield ready[i];
    ready.length = 0;
  }

  const tail = decoder.decode();
  if (tail !== '') parser.feed(tail);
  atEof = true;
  parser.feed('\n\n');
  if (cut || tail.includes('\uFFFD')) {
    throw new HttpError('reset', 'SSE stream ended mid-event', res.marks);
  }
}
