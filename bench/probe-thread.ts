// A bench:probe worker thread: its own client and heap, like a daemon probe thread; runs its share of each round.
import { parentPort, workerData } from 'node:worker_threads';
import { probeRoundRunner } from './probe-round.ts';
import type { Mode } from './probe-round.ts';

type Msg = { type: 'warm'; sockets: number } | { type: 'round'; mode: Mode; n: number } | { type: 'close' };

const runner = probeRoundRunner((workerData as { openaiUrl: string }).openaiUrl);
parentPort!.on('message', (m: Msg) => {
  const done = (value: unknown) => parentPort!.postMessage(value);
  const fail = (err: unknown) => parentPort!.postMessage({ error: String((err as Error)?.stack ?? err) });
  if (m.type === 'warm') runner.warm(m.sockets).then(() => done({}), fail);
  else if (m.type === 'round') runner.round(m.mode, m.n).then(done, fail);
  else runner.close().then(() => process.exit(0), fail);
});
