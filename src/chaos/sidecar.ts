// How the daemon gets its fault proxy, which never runs on the daemon's event loop:
// - `chaos.process: external`: a sidecar (`vigil proxy`, its own container) at chaos.url; the daemon only drives
//   it through the authenticated control API and never starts or stops it.
// - `chaos.process: spawn`: the daemon starts `vigil proxy` as a detached child process with the same config and
//   a control token in its environment (the configured one, else a random one per start). A clean daemon stop
//   stops it after the drills have rolled back; a daemon killed hard leaves it running (production traffic keeps
//   flowing, faults expire by TTL), and the next daemon adopts it when it answers with the configured token.
//   If the child dies on its own, it is started again on the same port.
import { fork } from 'node:child_process';
import { getCompileCacheDir } from 'node:module';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';
import { StartupError } from '../runtime/startup.ts';
import { controlTokens, proxyUrl } from './config.ts';
import type { ChaosConfig } from './config.ts';
import { STATUS_PATH } from './control.ts';
import { httpDriver } from './fault-driver.ts';
import type { FaultDriver } from './fault-driver.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

export interface ProxyLink {
  /** Base URL of the proxy, e.g. http://127.0.0.1:9465. */
  url: string;
  /** `${url}/proxy/<name>`: what a gateway's api_base / custom_host for that upstream becomes. */
  upstreamUrl(name: string): string;
  /** The control API, authenticated. */
  driver: FaultDriver;
  /** spawned: started by this daemon; adopted: a proxy a previous daemon started; external: a sidecar. */
  mode: 'spawned' | 'adopted' | 'external';
  /** The proxy's process id when this daemon owns it. */
  pid(): number | null;
  /** Stop a proxy this daemon owns (spawned or adopted); an external one is left alone. */
  stop(): Promise<void>;
}

export interface LinkOptions {
  configDir: string;
  env: Record<string, string | undefined>;
  log: Logger;
  /** How long the spawned proxy has to report that it listens (default 20 s). */
  startTimeoutMs?: number;
}

type Status = { pid?: unknown };

/** GET /proxy/_status: 'ok' with its body, 'refused' (answered, token not accepted), or 'down'. */
async function probeStatus(url: string, token: string): Promise<{ state: 'ok'; status: Status } | { state: 'refused' | 'down' }> {
  try {
    const res = await fetch(url + STATUS_PATH, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    if (res.status !== 200) return { state: 'refused' };
    return { state: 'ok', status: JSON.parse(text) as Status };
  } catch {
    return { state: 'down' };
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopPid(pid: number, graceMs = 5_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

function spawnProxy(opts: LinkOptions, token: string, port: number | null): Promise<{ child: ChildProcess; url: string }> {
  const args = [MAIN, 'proxy', '--config', opts.configDir, ...(port !== null ? ['--port', String(port)] : [])];
  // Detached: its own process group, so a Ctrl-C meant for the daemon reaches the proxy only through the daemon's
  // orderly stop (drills roll back first). The token travels in the environment, never on the command line.
  // The compile cache from the first line (NODE_COMPILE_CACHE): the proxy then never loads Node's TypeScript
  // stripper (about 17 MB) when the cache is warm.
  const cache = getCompileCacheDir?.();
  const child = fork(args[0], args.slice(1), {
    env: { ...opts.env, VIGIL_CHAOS_TOKEN: token, ...(cache && !opts.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: cache } : {}) },
    execArgv: [],
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigil proxy did not report listening within ${opts.startTimeoutMs ?? 20_000} ms`));
    }, opts.startTimeoutMs ?? 20_000);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`vigil proxy exited before listening (${signal ?? `exit code ${code}`}); see its log above`));
    };
    child.once('exit', onExit);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('message', (m: { type?: string; url?: string; message?: string }) => {
      if (m?.type === 'failed' && typeof m.message === 'string') {
        // Its own one-line start-up error (port taken, address not here): the daemon's start fails with it.
        clearTimeout(timer);
        child.off('exit', onExit);
        reject(new StartupError(m.message));
        return;
      }
      if (m?.type !== 'listening' || typeof m.url !== 'string') return;
      clearTimeout(timer);
      child.off('exit', onExit);
      // The IPC channel was only for this; without it the child no longer holds the daemon's event loop.
      child.disconnect();
      child.unref();
      resolve({ child, url: m.url });
    });
  });
}

/** Connect the daemon to its fault proxy per `chaos.process`. Throws when a spawned proxy cannot start. */
export async function linkProxy(cfg: ChaosConfig, opts: LinkOptions): Promise<ProxyLink> {
  const log = opts.log;
  const configured = controlTokens(cfg)[0];
  const link = (url: string, token: string, mode: ProxyLink['mode'], pid: () => number | null, stop: () => Promise<void>): ProxyLink => ({
    url,
    upstreamUrl: (name) => `${url}/proxy/${encodeURIComponent(name)}`,
    driver: httpDriver(url, { token }),
    mode,
    pid,
    stop,
  });

  if (cfg.process === 'external') {
    const url = proxyUrl(cfg);
    const probe = await probeStatus(url, configured!);
    if (probe.state === 'ok') log.info('fault-injection proxy (external) reachable', { url, pid: probe.status.pid });
    else log.warn(probe.state === 'down' ? 'fault-injection proxy (external) not reachable yet; drills fail until it is' : 'fault-injection proxy (external) refuses our control token', { url });
    return link(url, configured!, 'external', () => null, async () => {});
  }

  const token = configured ?? randomBytes(24).toString('base64url');
  // A proxy already on the configured port: one a previous daemon started (kept running through its crash).
  if (cfg.listen.port !== 0) {
    const url = proxyUrl(cfg);
    const probe = await probeStatus(url, token);
    if (probe.state === 'ok' && typeof probe.status.pid === 'number') {
      const pid = probe.status.pid;
      log.info('adopted the fault-injection proxy already running', { url, pid });
      return link(url, token, 'adopted', () => (alive(pid) ? pid : null), () => stopPid(pid));
    }
    if (probe.state === 'refused') {
      throw new Error(
        `a fault proxy already listens on ${url} and refuses our control token (left by a daemon that was killed, with no chaos.control_token configured?): stop it, or set chaos.control_token so a restarted daemon can adopt it`,
      );
    }
  }

  let stopping = false;
  let { child, url } = await spawnProxy(opts, token, cfg.listen.port === 0 ? null : cfg.listen.port);
  const port = Number(new URL(url).port);
  log.info('fault-injection proxy started', { url, pid: child.pid });
  // If it dies on its own (a bug it exits on), start it again on the same port: the gateway points there.
  let restarts = 0;
  const watch = (c: ChildProcess) => {
    c.once('exit', (code, signal) => {
      if (stopping) return;
      log.error('fault-injection proxy exited; starting it again', { code, signal, restarts });
      const delay = Math.min(30_000, 500 * 2 ** Math.min(restarts++, 6));
      setTimeout(() => {
        if (stopping) return;
        spawnProxy(opts, token, port).then(
          (s) => {
            child = s.child;
            watch(child);
          },
          (err) => log.error('fault-injection proxy could not be restarted', { error: String(err) }),
        );
      }, delay).unref();
    });
  };
  watch(child);
  return link(
    url,
    token,
    'spawned',
    () => (child.exitCode === null && child.signalCode === null ? (child.pid ?? null) : null),
    async () => {
      stopping = true;
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) await stopPid(child.pid);
    },
  );
}
