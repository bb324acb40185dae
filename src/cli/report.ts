// `vigil report latency [--probe ID]`: the hour-of-week latency profile from the stored hourly rollups.
import { existsSync } from 'node:fs';
import { formatLatencyReport } from '../detectors/report-latency.ts';
import { Store } from '../store/store.ts';
import { configDir, parse, UsageError } from './args.ts';
import { loadLenient } from './load.ts';

export async function reportCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what !== 'latency') throw new UsageError('usage: vigil report latency [--probe ID] [--timezone TZ] [--since 28d]');
  const { values } = parse(rest, {
    config: { type: 'string', short: 'c' },
    probe: { type: 'string' },
    timezone: { type: 'string' },
    days: { type: 'string', default: '28' },
  });
  const config = loadLenient(configDir(values.config));
  const specs = values.probe ? config.probes.filter((p) => p.id === values.probe) : config.probes.filter((p) => p.kind === 'canary');
  if (values.probe && specs.length === 0) throw new UsageError(`no probe "${values.probe}"`);
  if (!existsSync(config.storage.path)) {
    process.stdout.write(`no data yet: ${config.storage.path} does not exist (has the daemon run?)\n`);
    return 0;
  }
  const store = await Store.connect(config.storage.path, { readOnly: true });
  try {
    const since = Date.now() - Number(values.days) * 86_400_000;
    for (const spec of specs) {
      const rollups = await store.rollups({ probe: spec.id, since });
      process.stdout.write(formatLatencyReport(rollups, { probe: spec.id, timezone: values.timezone ?? spec.schedule.timezone }) + '\n\n');
    }
    return 0;
  } finally {
    await store.close();
  }
}
