// Memory of latency decided across locations (src/cluster/location-latency.ts) against its floor measured in the
// same run: the single-instance LatencyWatch holding one state per probe. Each probe gets a day of hourly values
// (every bucket of the day allocated) from 3 locations; heap plus array buffers measured after forced GCs. No target of its own: the
// figure to watch is the ratio (3 locations should cost well under 3× one location: the tracker is shared and a
// state exists only for a location that reported the probe).
// Run: node_modules/.bin/node --expose-gc bench/location-latency-mem.ts [probes=5000]
import { LocationLatency } from '../src/cluster/location-latency.ts';
import { LatencyWatch } from '../src/detectors/latency/watch.ts';
import type { ProbeResult, ProbeSpec } from '../src/domain.ts';
import type { Store } from '../src/store/store.ts';
import { makeResultFor, makeSpec } from '../test/fixtures.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const N = Number(process.argv[2] ?? 5000);
const LOCS = ['eu-west', 'us-east', 'ap-south'];
const STEPS = 24;
const T0 = Date.UTC(2026, 0, 5);
const specs = Array.from({ length: N }, (_, i) => makeSpec({ id: `p${i}`, schedule: { everyMs: 3_600_000, timezone: 'UTC' } }));
const byId = new Map(specs.map((s) => [s.id, s]));
const result = (s: ProbeSpec, t: number, location: string | undefined): ProbeResult =>
  makeResultFor(s, t, { location, attempt: 1, outcome: 'ok', timings: { connectMs: 0, tlsMs: null, ttfbMs: 50, ttftMs: 300 + (t % 97), totalMs: 800 + (t % 89), outputTokensPerSec: 40 } });
const heap = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers; // typed arrays live outside the JS heap
};

// Floor: one state per probe, as a single instance keeps them (nothing stored: an empty store).
let h0 = heap();
const empty = { sql: { all: async () => [], run: async () => {}, transaction: async (f: () => Promise<unknown>) => f() } } as unknown as Store;
const watch = new LatencyWatch(empty);
await watch.sync(specs, T0);
for (let k = 0; k < STEPS; k++) for (const s of specs) watch.observe(result(s, T0 + k * 3_600_000, undefined));
const floor = heap() - h0;

h0 = heap();
const latency = new LocationLatency({
  store: { load: async () => new Map(), save: async () => {} },
  spec: (id) => byId.get(id),
  minFailing: () => undefined,
  owner: () => 'vigil-owner',
  reporting: () => LOCS,
  ownLocation: () => LOCS[0],
});
for (let k = 0; k < STEPS; k++) for (const s of specs) for (const loc of LOCS) latency.observe(result(s, T0 + k * 3_600_000 + 1, loc));
const used = heap() - h0;
if (watch.stateOf('p0')!.total.count !== STEPS || latency.states !== N * LOCS.length) throw new Error('not every value was learnt');

const kB = (b: number) => (b / 1024).toFixed(1);
console.log(`probes ${N}, ${STEPS} hourly values each`);
console.log(`floor  LatencyWatch, one state per probe:        ${kB(floor / N)} kB/probe`);
console.log(`       LocationLatency, ${LOCS.length} locations:           ${kB(used / N)} kB/probe, ${kB(used / N / LOCS.length)} kB per probe × location`);
console.log(`       ratio to the floor: ${(used / floor).toFixed(2)}× for ${LOCS.length}× the states`);
