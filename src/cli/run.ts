// `vigil run`: the daemon, with SIGHUP reload and graceful SIGTERM/SIGINT shutdown that always ends.
import { getCompileCacheDir } from 'node:module';
import { Daemon } from '../daemon.ts';
import { createLogger } from '../log.ts';
import { WARMED } from '../runtime/reexec.ts';
import { configDir, parse, UsageError } from './args.ts';
import type { Args } from './args.ts';

export async function runCommand(argv: Args): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string', short: 'c' },
    host: { type: 'string' },
    port: { type: 'string' },
    'strict-env': { type: 'boolean', default: false },
  });
  const signals = captureStopSignals();
  // How this process was started (src/runtime/reexec.ts): what an operator checks when the RSS is not what they expect.
  createLogger().info('runtime', {
    pid: process.pid,
    node: process.version,
    flags: process.execArgv.filter((f) => f.startsWith('--max-')),
    compileCache: getCompileCacheDir?.() ?? null,
    mallocArenas: process.env.MALLOC_ARENA_MAX ?? null,
    cacheWarmed: process.env[WARMED] || null,
    // Node's type stripper stays loaded for the life of the process (about 17 MB): only a cold cache needs it.
    typeStripper: ((process as { moduleLoadList?: string[] }).moduleLoadList ?? []).some((m) => m.includes('internal/deps/amaro')),
  });
  delete process.env[WARMED];
  // Config and start-up failures (ConfigLoadError, StartupError) are printed by main as one line each.
  const daemon = await Daemon.start({
    configDir: configDir(values.config),
    listen: { host: values.host, port: parsePort(values.port) },
    // Without it, probes whose keys are unset are disabled (and said so) instead of stopping the start.
    strictEnv: values['strict-env'],
  });
  return serveUntilSignal(daemon, signals);
}

/** `--port N`: 0..65535, or undefined when absent. */
export function parsePort(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new UsageError(`--port must be a port number (0-65535), not "${raw}"`);
  return n;
}

export interface StopSignals {
  /** Calls `fn` with the first SIGTERM/SIGINT, at once if one already came. */
  onStop(fn: (sig: string) => void): void;
  /** Calls `fn` on each SIGHUP from now on (null: ignore them). One that comes while starting is ignored. */
  onReload(fn: (() => void) | null): void;
}

/**
 * Take over SIGTERM/SIGINT from the start: a supervisor stopping Vigil while it is still starting must get a
 * graceful stop, not Node's default instant death halfway through opening the store.
 */
export function captureStopSignals(): StopSignals {
  const seen: string[] = [];
  let handler: ((sig: string) => void) | null = null;
  const on = (sig: string) => {
    seen.push(sig);
    if (handler) handler(sig);
    // Still starting, and asked twice: give up now.
    else if (seen.length > 1) process.exit(1);
  };
  let reload: (() => void) | null = null;
  process.on('SIGTERM', () => on('SIGTERM'));
  process.on('SIGINT', () => on('SIGINT'));
  // Node's default for SIGHUP is to die; a reload asked for while starting has nothing to reload yet.
  process.on('SIGHUP', () => reload?.());
  return {
    onStop(fn) {
      handler = fn;
      if (seen.length) fn(seen[0]);
    },
    onReload(fn) {
      reload = fn;
    },
  };
}

/**
 * Block until SIGTERM/SIGINT, reloading on SIGHUP. Shutdown always ends: the daemon's own steps are each guarded
 * and bounded, `onStop` gets 5 s, and a second signal exits at once. Resolves 0 after a clean stop, 1 otherwise.
 */
export function serveUntilSignal(daemon: Daemon, signals: StopSignals, onStop: () => Promise<void> = async () => {}): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) {
        daemon.log.warn('second signal while stopping; exiting now', { signal: sig });
        process.exit(1);
      }
      stopping = true;
      daemon.log.info('signal received', { signal: sig });
      signals.onReload(null);
      void (async () => {
        const report = await daemon.stop();
        const extra = await Promise.race([
          onStop().then(
            () => true,
            (err: unknown) => (daemon.log.error('shutdown step failed; going on', { step: 'after stop', error: String(err) }), false),
          ),
          new Promise<boolean>((r) => setTimeout(() => r(false), 5_000).unref()),
        ]);
        resolve(report.clean && extra ? 0 : 1);
      })();
    };
    signals.onReload(() => daemon.reload());
    signals.onStop(stop);
  });
}
