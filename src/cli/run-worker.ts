// The daemon's thread (started by src/cli/run-thread.ts): the same crash policy, signals and shutdown as
// `vigil run` on the main thread, with signals arriving as messages.
import { writeSync } from 'node:fs';
import { isMainThread, parentPort, resourceLimits, workerData } from 'node:worker_threads';
import { installCrashPolicy } from '../runtime/crash.ts';
import type { RunOptions, StopSignals } from './run.ts';

export type ToDaemonThread = { type: 'signal'; signal: string };

/** Signals as the supervising thread forwards them: the same contract as captureStopSignals. */
function forwardedSignals(port: NonNullable<typeof parentPort>): StopSignals {
  const seen: string[] = [];
  let stop: ((sig: string) => void) | null = null;
  let reload: (() => void) | null = null;
  port.on('message', (m: ToDaemonThread) => {
    if (m.type !== 'signal') return;
    if (m.signal === 'SIGHUP') return reload?.();
    seen.push(m.signal);
    if (stop) stop(m.signal);
    else if (seen.length > 1) process.exit(1);
  });
  return {
    onStop(fn) {
      stop = fn;
      if (seen.length) fn(seen[0]);
    },
    onReload(fn) {
      reload = fn;
    },
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  installCrashPolicy();
  const signals = forwardedSignals(port);
  const { createLogger } = await import('../log.ts');
  // Read back from V8 (this thread's own limits): what an operator checks when the RSS is not what they expect.
  createLogger().info('the daemon runs on its own thread', { youngGenerationMb: resourceLimits.maxYoungGenerationSizeMb });
  const { runDaemon } = await import('./run.ts');
  const { describeFailure } = await import('./failure.ts');
  let code: number;
  try {
    code = await runDaemon(workerData as RunOptions, signals);
  } catch (err) {
    const failure = describeFailure(err, 'run');
    if (!failure) throw err;
    // Straight to fd 2: a message or this thread's process.stderr could be cut off by the exit below.
    writeSync(2, failure.text);
    code = failure.code;
  }
  // Whatever a stop or a failed start left open (keep-alive sockets, timers) must not keep the thread.
  process.exit(code);
}
