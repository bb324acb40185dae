// `vigil run`: the daemon, with SIGHUP reload and graceful SIGTERM/SIGINT shutdown.
import { Daemon } from '../daemon.ts';
import { ConfigLoadError } from '../config/errors.ts';
import { configDir, parse } from './args.ts';

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string', short: 'c' },
    host: { type: 'string' },
    port: { type: 'string' },
  });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({
      configDir: configDir(values.config),
      listen: { host: values.host, port: values.port ? Number(values.port) : undefined },
    });
  } catch (err) {
    if (err instanceof ConfigLoadError) {
      process.stderr.write(err.message + '\n');
      return 2;
    }
    throw err;
  }
  return serveUntilSignal(daemon);
}

/** Block until SIGTERM/SIGINT, reloading on SIGHUP. */
export function serveUntilSignal(daemon: Daemon, onStop: () => Promise<void> = async () => {}): Promise<number> {
  return new Promise((resolve) => {
    const reload = () => daemon.reload();
    const stop = (sig: string) => {
      daemon.log.info('signal received', { signal: sig });
      process.off('SIGHUP', reload);
      daemon
        .stop()
        .then(onStop)
        .then(
          () => resolve(0),
          (err) => {
            daemon.log.error('shutdown failed', { error: String(err) });
            resolve(1);
          },
        );
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
