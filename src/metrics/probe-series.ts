// The per-probe series (blackbox-style gauges, GenAI histograms, token/cost/result counters) kept compactly and
// exposed to prom-client's registry as custom metrics built at scrape time. prom-client keeps, per label set, a
// labels object, a hash string and an object of bucket counts: about 6 kB per probe at 10,000 probes; here a probe
// is one small object with a few arrays of numbers. Plain arrays, not Float64Arrays: V8 keeps an array of doubles
// inline on its heap (16 bytes + 8 a value), while a Float64Array of more than 64 bytes gets its own ArrayBuffer
// and an off-heap backing store, about 300 bytes of bookkeeping each. Names, labels, values and text are what prom-client's
// Gauge, Counter and Histogram would export for the same calls (test/metrics/metrics.test.ts pins them).
import type { Registry } from 'prom-client';
import type { LabelHolder, Labels, RowSink, TextFamily } from './exposition.ts';

export type { Labels } from './exposition.ts';

/** The last-value gauges of a probe, by slot in `ProbeCell.g`. */
export const SLOT = { success: 0, degraded: 1, duration: 2, status: 3, last: 4 } as const;
/** blackbox_exporter's phases we can measure, in export order; slots follow SLOT's. */
export const PHASES = ['connect', 'tls', 'processing', 'transfer'] as const;
const PHASE0 = 5;
const SLOTS = PHASE0 + PHASES.length;

/** A histogram's state: a count per upper bound (not cumulative), then sum, then count. */
type Hist = number[];

/**
 * A few keyed entries in one flat array, [key, value, key, value, …]: a probe has one or two of each (served
 * model, error class, outcome), and an empty Map is about 100 bytes, ten times an entry here.
 */
export type Pairs<V> = (string | V)[];

/** Where the value under `key` is in `list`, or -1. */
function valueAt<V>(list: Pairs<V>, key: string): number {
  for (let i = 0; i < list.length; i += 2) if (list[i] === key) return i + 1;
  return -1;
}

/**
 * The value under `key` in `holder[field]`, created by `make` if missing. A new entry replaces the list by one a
 * pair longer instead of pushing: V8 gives a pushed-to array room for 17 values, about 170 bytes more than the one
 * or two pairs a list holds, and every probe has three lists.
 */
export function entry<F extends string, V>(holder: Record<F, Pairs<NoInfer<V>>>, field: F, key: string, make: () => V): V {
  const list = holder[field];
  const at = valueAt(list, key);
  if (at >= 0) return list[at] as V;
  const v = make();
  holder[field] = list.concat([key, v]); // one array argument: `v` (a histogram is an array) is not spread
  return v;
}

/** Add one to the count under `key` in `holder[field]` (a new key grows the list as `entry` does). */
export function bump<F extends string>(holder: Record<F, Pairs<number>>, field: F, key: string): void {
  const list = holder[field];
  const at = valueAt(list, key);
  if (at >= 0) (list[at] as number)++;
  else holder[field] = list.concat([key, 1]);
}

/** Each entry, in insertion order. */
export function eachPair<V>(list: Pairs<V>, f: (v: V, key: string) => void): void {
  for (let i = 0; i < list.length; i += 2) f(list[i + 1] as V, list[i] as string);
}

interface ServedCell extends LabelHolder {
  /** The probe's identity labels plus `served_model`. */
  readonly labels: Labels;
  ttft: Hist | null;
  /** By error_class label. */
  op: Pairs<Hist>;
  /** NaN until first counted (a series exists only once written, as in prom-client). */
  tokIn: number;
  tokOut: number;
  cost: number;
}

export interface ProbeCell extends LabelHolder {
  /** probe, provider, model, owner: shared by every series of the probe. */
  readonly labels: Labels;
  /** Gauge values by slot; NaN = never set. */
  g: number[];
  /** The served model of the info series (its labels), if any. */
  info: ServedCell | null;
  /** By served_model label. */
  served: Pairs<ServedCell>;
  /** `${outcome}\0${error_class}` → count. */
  results: Pairs<number>;
}

export function newCell(labels: Labels): ProbeCell {
  return { labels, fmtScrape: 0, fmtAt: 0, fmtLen: 0, g: new Array<number>(SLOTS).fill(NaN), info: null, served: [], results: [] };
}

export function setPhase(c: ProbeCell, i: number, v: number): void {
  c.g[PHASE0 + i] = v;
}

export function servedCell(c: ProbeCell, servedModel: string): ServedCell {
  return entry(c, 'served', servedModel, (): ServedCell => ({ labels: { ...c.labels, served_model: servedModel }, fmtScrape: 0, fmtAt: 0, fmtLen: 0, ttft: null, op: [], tokIn: NaN, tokOut: NaN, cost: NaN }));
}

export function newHist(bounds: readonly number[]): Hist {
  return new Array<number>(bounds.length + 2).fill(0);
}

/** prom-client's observe: the first bound ≥ v gets the count (none: only sum and count). */
export function observe(h: Hist, bounds: readonly number[], v: number): void {
  for (let i = 0; i < bounds.length; i++) {
    if (v <= bounds[i]) {
      h[i]++;
      break;
    }
  }
  h[bounds.length] += v;
  h[bounds.length + 1]++;
}

export const add = (a: number, b: number): number => (Number.isNaN(a) ? b : a + b);

interface Value {
  labels: Labels;
  value: number;
  metricName?: string;
  sharedLabels?: Labels;
  /** prom-client's histogram rows carry one (null for buckets): kept so getMetricsAsJSON is the same. */
  exemplar?: null;
}

/** Rows as prom-client's own metric classes give them (for getMetricsAsJSON and prom-client's text path). */
class ValuesSink implements RowSink {
  readonly out: Value[] = [];
  row(holder: LabelHolder, value: number, k1?: string, v1?: string, k2?: string, v2?: string): void {
    const base = holder.labels;
    let labels = base;
    if (k1 !== undefined) labels = k2 !== undefined ? { ...base, [k1]: v1!, [k2]: v2! } : { ...base, [k1]: v1! };
    this.out.push({ labels, value });
  }
  hist(name: string, bounds: readonly number[], h: readonly number[], holder: LabelHolder, k1?: string, v1?: string): void {
    const base = holder.labels;
    const labels = k1 !== undefined ? { ...base, [k1]: v1! } : base;
    let acc = 0;
    const bucket = `${name}_bucket`;
    for (let i = 0; i < bounds.length; i++) {
      acc += h[i];
      this.out.push({ labels: { le: bounds[i] as unknown as string }, value: acc, metricName: bucket, sharedLabels: labels, exemplar: null });
    }
    const count = h[bounds.length + 1];
    this.out.push(
      { labels: { le: '+Inf' }, value: count, metricName: bucket, sharedLabels: labels, exemplar: null },
      { labels: {}, value: h[bounds.length], metricName: `${name}_sum`, sharedLabels: labels, exemplar: undefined },
      { labels: {}, value: count, metricName: `${name}_count`, sharedLabels: labels, exemplar: undefined },
    );
  }
}

/**
 * A metric family whose series are built from the probe cells when scraped: written as text by exposition.ts
 * (the `/metrics` page), or as prom-client's row objects for getMetricsAsJSON and `registry.metrics()`.
 */
class Family implements TextFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly aggregator = 'sum';
  readonly #cells: Map<string, ProbeCell>;
  readonly #write: (c: ProbeCell, sink: RowSink) => void;
  constructor(name: string, help: string, type: Family['type'], cells: Map<string, ProbeCell>, write: (c: ProbeCell, sink: RowSink) => void) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#cells = cells;
    this.#write = write;
  }
  /** Each probe's rows into `sink`, yielding after each probe (the exposition sends a chunk when one is full). */
  *writeRows(sink: RowSink): Generator<void> {
    for (const c of this.#cells.values()) {
      this.#write(c, sink);
      yield;
    }
  }
  #values(): Value[] {
    const sink = new ValuesSink();
    for (const c of this.#cells.values()) this.#write(c, sink);
    return sink.out;
  }
  /** For prom-client's text path: histogram rows carry the series labels as prom-client's `sharedLabels`. */
  async getForPromString() {
    return { name: this.name, help: this.help, type: this.type, values: this.#values(), aggregator: this.aggregator };
  }
  /** For getMetricsAsJSON: labels splayed into one object (`le` first), as prom-client's Histogram.get(). */
  async get() {
    const values = this.#values().map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: sharedLabels ? Object.assign(labels, sharedLabels) : labels }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
  reset(): void {}
}

export interface FamilyNames {
  success: string;
  degraded: string;
  duration: string;
  httpDuration: string;
  httpStatus: string;
  lastTimestamp: string;
  servedModelInfo: string;
  operationDuration: string;
  timeToFirstChunk: string;
  tokenUsage: string;
  cost: string;
  results: string;
}

/** Register the per-probe families on `registry`, reading `cells` at each scrape. `help`: by the same keys. */
export function registerProbeFamilies(registry: Registry, cells: Map<string, ProbeCell>, names: FamilyNames, help: FamilyNames, buckets: readonly number[]): void {
  const family = (key: keyof FamilyNames, type: Family['type'], write: (c: ProbeCell, sink: RowSink) => void) => new Family(names[key], help[key], type, cells, write);
  const gauge = (key: keyof FamilyNames, slot: number) => family(key, 'gauge', (c, sink) => void (Number.isNaN(c.g[slot]) || sink.row(c, c.g[slot])));
  const served = (key: keyof FamilyNames, type: Family['type'], write: (s: ServedCell, sink: RowSink) => void) =>
    family(key, type, (c, sink) => eachPair(c.served, (s) => write(s, sink)));
  const families = [
    gauge('success', SLOT.success),
    gauge('degraded', SLOT.degraded),
    gauge('duration', SLOT.duration),
    family('httpDuration', 'gauge', (c, sink) => {
      PHASES.forEach((phase, i) => Number.isNaN(c.g[PHASE0 + i]) || sink.row(c, c.g[PHASE0 + i], 'phase', phase));
    }),
    gauge('httpStatus', SLOT.status),
    gauge('lastTimestamp', SLOT.last),
    family('servedModelInfo', 'gauge', (c, sink) => void (c.info && sink.row(c.info, 1))),
    served('operationDuration', 'histogram', (s, sink) => eachPair(s.op, (h, errorClass) => sink.hist(names.operationDuration, buckets, h, s, 'error_class', errorClass))),
    served('timeToFirstChunk', 'histogram', (s, sink) => void (s.ttft && sink.hist(names.timeToFirstChunk, buckets, s.ttft, s))),
    served('tokenUsage', 'counter', (s, sink) => {
      if (!Number.isNaN(s.tokIn)) sink.row(s, s.tokIn, 'gen_ai_token_type', 'input');
      if (!Number.isNaN(s.tokOut)) sink.row(s, s.tokOut, 'gen_ai_token_type', 'output');
    }),
    served('cost', 'counter', (s, sink) => void (Number.isNaN(s.cost) || sink.row(s, s.cost))),
    family('results', 'counter', (c, sink) => {
      eachPair(c.results, (n, k) => {
        const sep = k.indexOf('\0');
        sink.row(c, n, 'outcome', k.slice(0, sep), 'error_class', k.slice(sep + 1));
      });
    }),
  ];
  for (const f of families) registry.registerMetric(f as never);
}
