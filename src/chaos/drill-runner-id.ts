// Which process runs a drill, as written in drill_runs.runner ("host:pid"), and whether it is still alive: a
// `running` row of a live process is a drill in progress, one of a dead process is an interrupted run.
import { hostname as osHostname } from 'node:os';

export function formatRunner(host: string, pid: number): string {
  return `${host}:${pid}`;
}

export function parseRunner(runner: string | null): { host: string; pid: number } | null {
  if (!runner) return null;
  const i = runner.lastIndexOf(':');
  const pid = Number(runner.slice(i + 1));
  if (i <= 0 || !Number.isInteger(pid) || pid <= 0) return null;
  return { host: runner.slice(0, i), pid };
}

/**
 * true: that process is alive on this host; false: it is not (or the row names no process); null: another host,
 * so this one cannot tell. A pid reused by an unrelated process reads as alive: the run then stays `running`
 * until that process is gone too, which errs on the side of not closing a live drill.
 */
export function runnerAlive(runner: string | null, host: string = osHostname()): boolean | null {
  const r = parseRunner(runner);
  if (!r) return false;
  if (r.host !== host) return null;
  try {
    process.kill(r.pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
