// How a command's expected failures are told: one message and an exit status (the CLI's entry point prints it).
import { UsageError } from './args.ts';
import { ConfigLoadError, formatErrors } from '../config/errors.ts';
import { StartupError } from '../runtime/startup.ts';

export interface Failure {
  /** What to write to stderr, newline included. */
  text: string;
  code: number;
  /**
   * Exit at once rather than letting the loop drain: after a failed start, whatever the half-done start left open
   * must not delay the exit.
   */
  exitNow: boolean;
}

/** The failure to report for `err` thrown by command `name`, or null for an unexpected error (a crash). */
export function describeFailure(err: unknown, name: string): Failure | null {
  if (err instanceof UsageError) return { text: `vigil ${name}: ${err.message}\n`, code: 2, exitNow: false };
  if (err instanceof ConfigLoadError) {
    const n = err.errors.length;
    return { text: `${formatErrors(err.errors)}\nvigil ${name}: invalid config (${n} error${n === 1 ? '' : 's'})\n`, code: 2, exitNow: true };
  }
  // One line naming the step, the path or port, and the cause: what a supervisor's log should show.
  if (err instanceof StartupError) return { text: `vigil ${name}: ${err.message}\n`, code: err.exitCode, exitNow: true };
  return null;
}
