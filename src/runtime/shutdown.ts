// Shutdown that always completes: each step runs whatever the previous ones did (a full disk failing the
// baseline save must not keep the HTTP server open), each has its own time limit, and the whole has a hard
// deadline after which the remaining steps are abandoned. The caller exits afterwards in every case.

export interface ShutdownStep {
  name: string;
  run: () => unknown | Promise<unknown>;
  /** Give up on this step after this long (default: the remaining overall time). */
  timeoutMs?: number;
}

export interface ShutdownReport {
  /** Every step ended on its own without error. */
  clean: boolean;
  failed: { step: string; error: string }[];
  timedOut: string[];
  /** Steps never started because the overall deadline had passed. */
  skipped: string[];
  elapsedMs: number;
}

export interface ShutdownLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Run `steps` in order, each guarded, within `deadlineMs` overall. Never throws. */
export async function runShutdown(steps: readonly ShutdownStep[], opts: { deadlineMs: number; log?: ShutdownLog }): Promise<ShutdownReport> {
  const start = performance.now();
  const report: ShutdownReport = { clean: true, failed: [], timedOut: [], skipped: [], elapsedMs: 0 };
  for (const step of steps) {
    const left = opts.deadlineMs - (performance.now() - start);
    // Within a timer's granularity of the deadline counts as past it.
    if (left < 10) {
      report.skipped.push(step.name);
      continue;
    }
    const limit = Math.max(1, Math.min(left, step.timeoutMs ?? left));
    const outcome = await within(step.run, limit);
    if (outcome === 'timeout') {
      report.timedOut.push(step.name);
      opts.log?.warn('shutdown step did not finish in time; going on', { step: step.name, limit_ms: Math.round(limit) });
    } else if (outcome !== 'ok') {
      report.failed.push({ step: step.name, error: outcome.error });
      opts.log?.error('shutdown step failed; going on', { step: step.name, error: outcome.error });
    }
  }
  if (report.skipped.length) opts.log?.error('shutdown deadline passed; steps abandoned', { steps: report.skipped, deadline_ms: opts.deadlineMs });
  report.clean = report.failed.length === 0 && report.timedOut.length === 0 && report.skipped.length === 0;
  report.elapsedMs = Math.round(performance.now() - start);
  return report;
}

async function within(fn: () => unknown, ms: number): Promise<'ok' | 'timeout' | { error: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      (async () => {
        await fn();
        return 'ok' as const;
      })(),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), ms);
      }),
    ]);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
