// `vigil report latency [--probe ID] [--location NAME]`: the hour-of-week latency profile from the stored hourly
// rollups, of every location together or of one (its own rollups, migration 11).
import { formatLatencyReport } from '../detectors/report-latency.ts';
import { Store } from '../store/store.ts';
import { configDir, parse, splitSub, unknownId, UsageError } from './args.ts';
import { readStore } from './store-path.ts';
import type { Args } from './args.ts';
import { loadLenient } from './load.ts';
import { LOCATION_RE } from '../config/schema.ts';

export async function reportCommand(argv: Args): Promise<number> {
  const [what, rest] = splitSub(argv);
  if (what !== 'latency') throw new UsageError('usage: vigil report latency [--probe ID] [--location NAME] [--timezone TZ] [--days 28]');
  const { values } = parse(rest, {
    config: { type: 'string', short: 'c' },
    db: { type: 'string' },
    probe: { type: 'string' },
    timezone: { type: 'string' },
    days: { type: 'string', default: '28' },
    location: { type: 'string' },
  });
  if (values.location !== undefined && !LOCATION_RE.test(values.location)) {
    throw new UsageError(`--location: "${values.location.slice(0, 64)}" is not a location name (lower-case letters, digits, "-" and "_", e.g. eu-west)`);
  }
  const config = loadLenient(configDir(values.config));
  const specs = values.probe ? config.probes.filter((p) => p.id === values.probe) : config.probes.filter((p) => p.kind === 'canary');
  if (values.probe && specs.length === 0) throw unknownId('probe', values.probe, config.probes.map((p) => p.id), '`vigil validate`');
  const where = readStore(config.storage, { db: values.db });
  process.stderr.write(where.note + '\n');
  if (!where.target) {
    process.stdout.write('no data yet\n');
    return 0;
  }
  const store = await Store.connect(where.target, { readOnly: true });
  try {
    const since = Date.now() - Number(values.days) * 86_400_000;
    for (const spec of specs) {
      const rollups = await store.rollups({ probe: spec.id, since, location: values.location });
      process.stdout.write(formatLatencyReport(rollups, { probe: spec.id, timezone: values.timezone ?? spec.schedule.timezone }) + '\n\n');
    }
    return 0;
  } finally {
    await store.close();
  }
}
