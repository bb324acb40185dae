// `vigil proxy [--config DIR] [--host H] [--port N]`: the fault-injection proxy as its own process, sharing no
// event loop with the daemon (a GC pause, a slow page render or a crash of the daemon never stalls the
// production traffic that goes through it). Run it as a sidecar container, or let the daemon spawn it
// (`chaos.process: spawn`). It reads vigil.yaml's `chaos:` section; its control token comes from
// chaos.control_token or VIGIL_CHAOS_TOKEN (how the daemon passes a generated one), and without one it refuses
// to start. When whoever injected faults is gone it keeps passing traffic, and every fault expires by its TTL.
//
// Started by the daemon (an IPC channel exists), it reports {type: 'listening', url, pid} once it listens.
import { systemClock } from '../clock.ts';
import { chaosProxyOptions, controlTokens } from '../chaos/config.ts';
import { startChaosProxy } from '../chaos/proxy.ts';
import { createLogger } from '../log.ts';
import { errorCode, startupStep, StartupError } from '../runtime/startup.ts';
import { configDir, parse, UsageError } from './args.ts';
import type { Args } from './args.ts';
import { loadForCommand } from './load.ts';

export interface ProxyListening {
  type: 'listening';
  url: string;
  pid: number;
}

/** Sent instead when it cannot listen: the one-line reason, so the daemon's start-up error says it. */
export interface ProxyFailed {
  type: 'failed';
  message: string;
  code: string | null;
}

export async function proxyCommand(argv: Args): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string', short: 'c' },
    host: { type: 'string' },
    port: { type: 'string' },
  });
  const env = process.env;
  // Only the `chaos:` section's variables are needed: a daemon that runs with some provider keys unset (their
  // probes disabled) still spawns its proxy.
  const config = loadForCommand(
    'proxy',
    configDir(values.config),
    (_c, missing) => ({ what: 'the fault proxy (chaos: in vigil.yaml)', missing: missing.filter((m) => /^vigil\.ya?ml$/.test(m.file) && m.path[0] === 'chaos') }),
    env,
  );
  const chaos = config.chaos;
  if (!chaos) throw new UsageError('no `chaos:` section in vigil.yaml: nothing says which upstreams to proxy');
  const tokens = controlTokens(chaos, env);
  if (tokens.length === 0) {
    throw new UsageError('refusing to start without a control token: set chaos.control_token (e.g. "${VIGIL_CHAOS_TOKEN}") or VIGIL_CHAOS_TOKEN');
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`--port: not a port: ${values.port}`);

  const log = createLogger({ base: { component: 'chaos-proxy' } });
  // A log pipe whose reader died (a daemon killed hard) must not take the proxy down with it.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const opts = chaosProxyOptions(chaos, systemClock, (e) => (e.type === 'applied' ? log.debug : log.info)('fault ' + e.type, { ...e }), env);
  const host = values.host ?? opts.host ?? '127.0.0.1';
  const listenPort = port ?? opts.port ?? 0;
  let proxy: Awaited<ReturnType<typeof startChaosProxy>>;
  try {
    proxy = await startupStep(
      { kind: 'listen', what: 'fault-injection proxy', host, port: listenPort, setting: values.port === undefined || process.send ? 'chaos.listen.port in vigil.yaml' : '--port' },
      () =>
        startChaosProxy({
          ...opts,
          host,
          port: listenPort,
          onError: (err) => log.error('request failed inside the proxy', { error: String((err as Error)?.stack ?? err) }),
        }),
    );
  } catch (err) {
    if (process.send && err instanceof StartupError) {
      const failed: ProxyFailed = { type: 'failed', message: err.message, code: errorCode(err.cause) };
      await new Promise<void>((r) => process.send!(failed, () => r()));
    }
    throw err;
  }
  log.info('fault-injection proxy listening', { url: proxy.url, pid: process.pid, upstreams: Object.keys(chaos.upstreams) });
  if (process.send) {
    process.send({ type: 'listening', url: proxy.url, pid: process.pid } satisfies ProxyListening);
    // The daemon going away (even kill -9) changes nothing here: traffic keeps flowing, faults expire by TTL.
    process.on('disconnect', () => log.info('the process that started the proxy is gone; still passing traffic'));
  }
  // A bug that escapes a handler: log it and exit non-zero so a supervisor restarts a clean proxy (with no faults).
  process.on('uncaughtException', (err) => {
    log.error('uncaught exception; exiting', { error: String(err?.stack ?? err) });
    process.exit(70);
  });
  process.on('unhandledRejection', (err) => {
    log.error('unhandled rejection; exiting', { error: String((err as Error)?.stack ?? err) });
    process.exit(70);
  });
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info('stopping', { signal, faults: proxy.list().length });
      proxy.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
