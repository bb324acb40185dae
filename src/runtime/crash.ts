// Process-wide crash policy: an uncaught exception or unhandled rejection leaves the process in an unknown state,
// so Vigil never carries on as a zombie. It logs the error, gives its last-words hooks (the daemon pages its
// owner through the outbox) a short, hard time limit, and exits non-zero so the supervisor restarts it.
import { redact } from '../config/redact.ts';
import { createLogger } from '../log.ts';

/** Exit status after a crash (EX_SOFTWARE). */
export const CRASH_EXIT_CODE = 70;

export type LastWords = (err: unknown, kind: CrashKind) => Promise<void> | void;
export type CrashKind = 'uncaughtException' | 'unhandledRejection';

export interface CrashPolicyOptions {
  /** How long last-words hooks may take before the process exits anyway. Default 3000 ms. */
  graceMs?: number;
  write?: (line: string) => void;
  exit?: (code: number) => void;
}

const hooks = new Set<LastWords>();
let installed: { uncaught: (e: unknown) => void; rejection: (e: unknown) => void } | null = null;
let crashing = false;

/** Register something to do before exiting on a crash (best effort, time-limited). Returns an unregister function. */
export function onCrash(fn: LastWords): () => void {
  hooks.add(fn);
  return () => hooks.delete(fn);
}

/** Install the policy once per process (the CLI's entry point does). */
export function installCrashPolicy(opts: CrashPolicyOptions = {}): void {
  if (installed) return;
  const graceMs = opts.graceMs ?? 3_000;
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const handle = (kind: CrashKind) => (err: unknown) => {
    const first = errorLine(err);
    if (crashing) {
      // A second failure while the first one's last words run: no more waiting.
      write(`vigil: ${kind} while exiting after a crash: ${first}\n`);
      exit(CRASH_EXIT_CODE);
      return;
    }
    crashing = true;
    const stack = err instanceof Error && err.stack ? err.stack : String(err);
    const msg = `crashed (${kind}); exiting with status ${CRASH_EXIT_CODE} so the supervisor restarts Vigil`;
    // Through the process's log format (pretty on a terminal, JSON otherwise), unless a test takes the raw line.
    if (opts.write) write(redact(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg, error: first, stack })) + '\n');
    else createLogger().error(msg, { error: first, stack });
    // Exit on time whatever the hooks do; the timer keeps the process alive until then.
    const timer = setTimeout(() => exit(CRASH_EXIT_CODE), graceMs);
    void Promise.allSettled([...hooks].map(async (h) => h(err, kind))).then(() => {
      clearTimeout(timer);
      exit(CRASH_EXIT_CODE);
    });
  };
  installed = { uncaught: handle('uncaughtException'), rejection: handle('unhandledRejection') };
  process.on('uncaughtException', installed.uncaught);
  process.on('unhandledRejection', installed.rejection);
}

/** For tests that install the policy in-process. */
export function uninstallCrashPolicy(): void {
  if (!installed) return;
  process.off('uncaughtException', installed.uncaught);
  process.off('unhandledRejection', installed.rejection);
  installed = null;
  crashing = false;
  hooks.clear();
}

/** An error's first line (`Name: message`), cut to `max` characters, secrets masked: safe to log or send. */
export function errorLine(err: unknown, max = 300): string {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return redact(msg.split('\n')[0].slice(0, max));
}
