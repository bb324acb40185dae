// `vigil drill <id> [--config DIR] [--json] [--proxy URL] [--no-record]`: run one drill now, print the verdict
// and the journal. Exit 0 when the fallback worked (passed), 1 when it did not (failed), 3 when the drill proved
// nothing either way (skipped, aborted, error), 2 for usage or config errors.
//
// Where faults go: --proxy URL (a running proxy's control API), else vigil.yaml `chaos:`: its listen address is
// tried first (a running daemon's proxy), and when nothing answers there an in-process proxy is started on it for
// the drill's duration. The run is recorded in the store (history, /api/drills) unless --no-record; the CLI never
// pages: the operator sees the verdict.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock } from '../clock.ts';
import { chaosProxyOptions, controlTokens, proxyUrl } from '../chaos/config.ts';
import { DrillService } from '../chaos/drills.ts';
import { formatDrillRun } from '../chaos/drill-format.ts';
import { httpDriver, inProcessDriver, proxyReachable } from '../chaos/fault-driver.ts';
import type { FaultDriver } from '../chaos/fault-driver.ts';
import { startChaosProxy } from '../chaos/proxy.ts';
import type { ChaosProxy } from '../chaos/proxy.ts';
import { createHttpClient } from '../http/client.ts';
import { redactUrl } from '../store/pg-url.ts';
import { Store, storeTarget } from '../store/store.ts';
import { configDir, parse, unknownId, UsageError } from './args.ts';
import type { Args } from './args.ts';
import { loadOrExit } from './load.ts';

// `running` and `interrupted` are stored states, never what runDrill returns; listed so the map covers every verdict.
export const DRILL_EXIT = { passed: 0, failed: 1, skipped: 3, aborted: 3, error: 3, interrupted: 3, running: 3 } as const;

export interface DrillCommandIo {
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
  env?: Record<string, string | undefined>;
}

export async function drillCommand(argv: Args, io: DrillCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((s: string) => process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => process.stderr.write(s));
  const env = io.env ?? process.env;
  const { values, positionals } = parse(argv, {
    config: { type: 'string', short: 'c' },
    json: { type: 'boolean', default: false },
    proxy: { type: 'string' },
    'no-record': { type: 'boolean', default: false },
  });
  const config = loadOrExit(configDir(values.config), env);
  const clock = systemClock;
  const http = createHttpClient();
  let store: Store | null = null;
  let proxy: ChaosProxy | null = null;
  try {
    const catalog = new DrillService({ clock, http, config: () => config, faults: null });
    const ids = catalog.specs().map((d) => d.id);
    const id = positionals[0];
    if (!id) throw new UsageError(`which drill? one of: ${ids.join(', ') || '(none configured)'}`);
    const spec = catalog.spec(id);
    if (!spec) throw unknownId('drill', id, ids, 'drills/*.yaml');

    const chaos = config.chaos;
    // The environment's token first (a sidecar's), else the config's first one.
    const token = env.VIGIL_CHAOS_TOKEN || (chaos ? controlTokens(chaos)[0] : undefined);
    let faults: FaultDriver | null = null;
    if (values.proxy) {
      faults = httpDriver(values.proxy, { token });
    } else if (chaos && spec.faults.length > 0) {
      const url = proxyUrl(chaos);
      if (await proxyReachable(url)) {
        faults = httpDriver(url, { token });
      } else {
        proxy = await startChaosProxy(chaosProxyOptions(chaos, clock, undefined, env));
        faults = inProcessDriver(proxy, `in-process chaos proxy on ${proxy.url}`);
      }
    }
    if (spec.faults.length > 0 && !faults) {
      throw new UsageError('nowhere to inject faults: add a `chaos:` section to vigil.yaml or pass --proxy http://HOST:PORT of a running chaos proxy');
    }

    if (!values['no-record']) {
      try {
        if (!config.storage.url) mkdirSync(dirname(config.storage.path), { recursive: true });
        store = await Store.connect(storeTarget(config.storage), { clock, location: config.location });
      } catch (e) {
        err(`vigil drill: not recording the run (store ${config.storage.url ? redactUrl(config.storage.url) : config.storage.path}: ${(e as Error).message})\n`);
      }
    }
    const service = new DrillService({ clock, http, config: () => config, faults, store });
    const ac = new AbortController();
    // Ctrl-C aborts the drill, which still rolls its faults back before exiting.
    const onSignal = () => ac.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let run;
    try {
      run = await service.run(id, { signal: ac.signal });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    out(values.json ? JSON.stringify(run, null, 2) + '\n' : formatDrillRun(run) + '\n');
    return DRILL_EXIT[run.verdict];
  } finally {
    await proxy?.close();
    await store?.close();
    await http.close();
  }
}
