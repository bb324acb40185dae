// The Prometheus text exposition, written in chunks instead of built as one string.
//
// prom-client's `registry.metrics()` makes a row object per series, formats every label of every row, and joins
// the whole page into one string: at 10,000 probes that is 750,000 lines, 143 MB of text and 2–3 s of the daemon's
// loop per scrape, on top of the memory it holds. Here the per-probe families (probe-series.ts) write their lines
// straight into ~64 kB chunks, with each probe's labels formatted once per scrape, and the loop gets a turn between
// chunks; every other metric is formatted by prom-client itself. The bytes are the ones `registry.metrics()` gives
// (test/metrics/exposition.test.ts compares them).
import type { Registry } from 'prom-client';

export type Labels = Record<string, string>;

/** Where a family's rows go: objects for prom-client (JSON, its own text), or text lines for the exposition. */
export interface RowSink {
  /** One series: `base`'s labels (a long-lived object), then up to two more, then the value. */
  row(base: Labels, value: number, k1?: string, v1?: string, k2?: string, v2?: string): void;
  /** A histogram's `_bucket`, `_sum` and `_count` rows; `base` (and `k1`) are the series' labels. */
  hist(name: string, bounds: readonly number[], h: readonly number[], base: Labels, k1?: string, v1?: string): void;
}

/** A metric whose rows it writes itself (probe-series.ts's families): a generator that yields after each probe. */
export interface TextFamily {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  writeRows(sink: RowSink): Iterable<void>;
}

const isTextFamily = (m: unknown): m is TextFamily => typeof (m as Partial<TextFamily>).writeRows === 'function';

const CHUNK = 64 * 1024;

// prom-client's own escaping and number formatting (lib/registry.js, lib/util.js).
const escapeString = (s: string): string => (s.includes('\\') || s.includes('\n') ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : s);
const escapeLabelValue = (s: string): string => {
  const e = escapeString(s);
  return e.includes('"') ? e.replace(/"/g, '\\"') : e;
};
export function valueText(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

const pair = (k: string, v: string): string => `${k}="${escapeLabelValue(v)}"`;

/** Text rows with the registry's default labels, in prom-client's order, into chunks. One per scrape. */
class TextSink implements RowSink {
  private buf = '';
  /** Formatted labels of each base object (a probe's, a served model's), once per scrape for every family. */
  private readonly formatted = new Map<Labels, string>();
  private readonly defaults: [string, string][];
  private readonly defaultsText: string;
  /** A chunk's worth is waiting. */
  pending = false;
  /** The family being written. */
  name = '';

  constructor(defaults: Labels) {
    this.defaults = Object.entries(defaults);
    this.defaultsText = this.defaults.map(([k, v]) => pair(k, v)).join(',');
  }

  take(): string {
    const out = this.buf;
    this.buf = '';
    this.pending = false;
    return out;
  }

  private line(s: string): void {
    this.buf += s;
    if (this.buf.length >= CHUNK) this.pending = true;
  }

  private labelsOf(base: Labels): string {
    let s = this.formatted.get(base);
    if (s === undefined) {
      s = Object.entries(base).map(([k, v]) => pair(k, v)).join(',');
      this.formatted.set(base, s);
    }
    return s;
  }

  /** The default labels not named by the row (prom-client lets a row's own label win). */
  private defaultsFor(base: Labels, k1?: string, k2?: string): string {
    if (this.defaults.length === 0) return '';
    let clash = false;
    for (const [k] of this.defaults) if (k in base || k === k1 || k === k2) clash = true;
    if (!clash) return this.defaultsText;
    return this.defaults.filter(([k]) => !(k in base) && k !== k1 && k !== k2).map(([k, v]) => pair(k, v)).join(',');
  }

  row(base: Labels, value: number, k1?: string, v1?: string, k2?: string, v2?: string): void {
    let labels = this.labelsOf(base);
    if (k1 !== undefined) labels = labels ? `${labels},${pair(k1, v1!)}` : pair(k1, v1!);
    if (k2 !== undefined) labels = labels ? `${labels},${pair(k2, v2!)}` : pair(k2, v2!);
    const d = this.defaultsFor(base, k1, k2);
    if (d) labels = labels ? `${labels},${d}` : d;
    this.line(`\n${this.name}${labels ? `{${labels}}` : ''} ${valueText(value)}`);
  }

  hist(name: string, bounds: readonly number[], h: readonly number[], base: Labels, k1?: string, v1?: string): void {
    // prom-client: `le` and the default labels (less those the series names), then the series' labels.
    let shared = this.labelsOf(base);
    if (k1 !== undefined) shared = shared ? `${shared},${pair(k1, v1!)}` : pair(k1, v1!);
    const d = this.defaultsFor(base, k1);
    const tail = d && shared ? `${d},${shared}` : d || shared;
    const after = tail ? `,${tail}` : '';
    let acc = 0;
    let out = '';
    for (let i = 0; i < bounds.length; i++) {
      acc += h[i];
      out += `\n${name}_bucket{le="${bounds[i]}"${after}} ${valueText(acc)}`;
    }
    const count = h[bounds.length + 1];
    const braces = tail ? `{${tail}}` : '';
    out += `\n${name}_bucket{le="+Inf"${after}} ${valueText(count)}\n${name}_sum${braces} ${valueText(h[bounds.length])}\n${name}_count${braces} ${valueText(count)}`;
    this.line(out);
  }
}

/**
 * Write the registry's text exposition to `write`, chunk by chunk: the same bytes as `registry.metrics()`
 * (Prometheus text format). `write` may wait (a socket's backpressure); the loop gets a turn between chunks.
 */
export async function writeExposition(registry: Registry, write: (chunk: string) => void | Promise<void>): Promise<void> {
  // prom-client keeps the default labels in a field with no getter; its own formatting reads the same field.
  const defaults = (registry as unknown as { _defaultLabels?: Labels })._defaultLabels ?? {};
  const metrics = registry.getMetricsAsArray();
  const sink = new TextSink(defaults);
  const turn = () => new Promise<void>((r) => setImmediate(r));
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i] as unknown;
    const sep = i === 0 ? '' : '\n\n';
    if (isTextFamily(m)) {
      const name = escapeString(m.name);
      sink.name = name;
      let head = `${sep}# HELP ${name} ${escapeString(m.help)}\n# TYPE ${name} ${m.type}`;
      const flush = async () => {
        const body = head + sink.take();
        head = '';
        if (body) await write(body);
        await turn();
      };
      // A chunk's worth is sent as soon as the sink holds it (checked after each probe's rows).
      for (const _ of m.writeRows(sink)) if (sink.pending) await flush();
      await flush();
    } else {
      const text = await (registry as unknown as { getMetricsAsString(m: unknown): Promise<string> }).getMetricsAsString(m);
      await write(sep + text);
    }
  }
  await write('\n');
}
