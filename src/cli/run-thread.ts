// `vigil run` on a thread of its own: the main thread only supervises (signals in, exit status out) while the
// daemon (scheduler, detectors, store, server) runs on a Worker whose young generation is bounded.
//
// Why: V8 grows a busy isolate's young generation to 128 MB (two 64 MB semi-spaces) once enough objects survive
// scavenges, and a daemon with 10,000 probes allocates steadily enough to keep it there; that alone was a third
// of its RSS. A Worker's `resourceLimits.maxYoungGenerationSizeMb` caps it without a Node flag (the daemon must
// run with default flags: `node src/main.ts run`, a container's plain entry point). Scavenges stay short (a small
// young generation is scavenged in well under a millisecond) and what survives two of them is promoted, as before.
import { startTsWorker } from '../runtime/ts-worker.ts';
import type { RunOptions } from './run.ts';
import type { ToDaemonThread } from './run-worker.ts';
import { CRASH_EXIT_CODE } from '../runtime/crash.ts';

/** Young generation of the daemon's thread, MB (both semi-spaces and the new large-object space). */
export const DAEMON_YOUNG_GENERATION_MB = 16;

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Run the daemon on a Worker and resolve with its exit status. Signals are forwarded (a Worker gets none of its
 * own); the thread handles them exactly as `vigil run` on the main thread does. Config and start-up failures are
 * told by the thread with their status, and an uncaught error on the thread exits 70 like a crash on the main thread.
 */
export function runOnThread(options: RunOptions, youngGenerationMb = DAEMON_YOUNG_GENERATION_MB): Promise<number> {
  return new Promise((resolve) => {
    const worker = startTsWorker(new URL('./run-worker.ts', import.meta.url), {
      workerData: options,
      resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb },
    });
    let error: unknown = null;
    let stops = 0;
    const send = (m: ToDaemonThread) => {
      try {
        worker.postMessage(m);
      } catch {
        // The thread is already gone; its exit resolves.
      }
    };
    const onStop = (sig: string) => {
      stops++;
      send({ type: 'signal', signal: sig });
      // The thread exits at a second signal itself; should it be stuck, this thread does not wait on it.
      if (stops > 1) setTimeout(() => process.exit(1), 2_000).unref();
    };
    const onHup = () => send({ type: 'signal', signal: 'SIGHUP' });
    for (const sig of STOP_SIGNALS) process.on(sig, onStop);
    process.on('SIGHUP', onHup);
    worker.on('error', (err) => (error = err));
    worker.on('exit', (code) => {
      for (const sig of STOP_SIGNALS) process.off(sig, onStop);
      process.off('SIGHUP', onHup);
      if (error) {
        // Out of memory, or an error the thread's crash policy could not catch.
        const e = error as Error;
        process.stderr.write(`vigil run: the daemon's thread failed: ${e?.stack ?? String(error)}\n`);
        return resolve(CRASH_EXIT_CODE);
      }
      resolve(code);
    });
  });
}
