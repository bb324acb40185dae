// The Prometheus text exposition, written as bytes in chunks instead of built as one string.
//
// prom-client's `registry.metrics()` makes a row object per series, formats every label of every row, and joins
// the whole page into one string: at 10,000 probes that is 750,000 lines, 143 MB of text and 2–3 s of the daemon's
// loop per scrape, on top of the memory it holds. Here the per-probe families (probe-series.ts) write their lines
// as bytes straight into ~64 kB buffers, with each label set formatted (and redacted) once per scrape into a
// byte table of its own, and the loop gets a turn between chunks; every other metric is formatted by prom-client
// itself. Bytes, not strings: a chunk built by `+=` is a tree of thousands of small strings, and the scavenges
// that run while it grows promote it to the old generation (about 9 MB a scrape at 10,000 probes, and a young
// generation grown to its maximum); a buffer lives outside the heap and the only heap objects a line makes are
// its number texts, dead before the next scavenge. The bytes are the ones `registry.metrics()` gives
// (test/metrics/exposition.test.ts compares them).
import type { Registry } from 'prom-client';

export type Labels = Record<string, string>;

/**
 * A long-lived owner of one label set (a probe's cell, a served model's): the exposition notes on it where
 * this scrape's bytes for those labels are, so a label set is formatted once per scrape with nothing kept.
 */
export interface LabelHolder {
  readonly labels: Labels;
  /** The scrape that last formatted `labels`, and where its bytes are in that scrape's label table. */
  fmtScrape: number;
  fmtAt: number;
  fmtLen: number;
}

/** Where a family's rows go: objects for prom-client (JSON, its own text), or bytes for the exposition. */
export interface RowSink {
  /** One series: `base`'s labels, then up to two more, then the value. */
  row(base: LabelHolder, value: number, k1?: string, v1?: string, k2?: string, v2?: string): void;
  /** A histogram's `_bucket`, `_sum` and `_count` rows; `base` (and `k1`) are the series' labels. */
  hist(name: string, bounds: readonly number[], h: readonly number[], base: LabelHolder, k1?: string, v1?: string): void;
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
const join = (a: string, b: string): string => (a && b ? `${a},${b}` : a || b);

/** Each scrape's number, so a holder's notes from another scrape are never read as this one's. */
let scrapes = 0;

/**
 * Rows as bytes, with the registry's default labels in prom-client's order, into chunks of whole lines. One per
 * scrape. Every label text it writes that does not come from a closed list passes through `redact` once.
 */
class ByteSink implements RowSink {
  /** Full chunks, waiting to be sent. */
  private ready: Buffer[] = [];
  /** Chunks the caller is done with (`recycle`), reused before new memory is asked for. */
  private readonly free: Buffer[] = [];
  private chunk: Buffer | null = null;
  private pos = 0;
  /** This scrape's formatted label sets, each written once and copied into every line that names it. */
  private table = Buffer.allocUnsafeSlow(64 * 1024);
  private tableLen = 0;
  private readonly scrape = ++scrapes;
  private readonly defaults: [string, string][];
  private readonly defaultsText: string;
  private readonly redact: (text: string) => string;
  /** `\n` and the family's name. */
  private lead = '';
  /** By histogram name, what bucketLeads gives. */
  private readonly leads = new Map<string, number[]>();

  constructor(defaults: Labels, redact: (text: string) => string) {
    this.defaults = Object.entries(defaults);
    this.redact = redact;
    this.defaultsText = redact(this.defaults.map(([k, v]) => pair(k, v)).join(','));
  }

  /** The family being written. */
  set name(name: string) {
    this.lead = `\n${name}`;
  }

  get pending(): boolean {
    return this.ready.length > 0;
  }

  /** The full chunks, and with `all` the one being filled. */
  take(all: boolean): Buffer[] {
    const out = this.ready;
    this.ready = [];
    if (all && this.chunk && this.pos > 0) {
      out.push(this.chunk.subarray(0, this.pos));
      this.chunk = null;
    }
    return out;
  }

  /** Text of its own (a family's HELP and TYPE lines). */
  text(s: string): void {
    this.room(s.length * 3);
    this.str(s);
  }

  /** At least `n` bytes free in the chunk; a chunk that has not got them is full (it ends on a line). */
  private room(n: number): void {
    if (this.chunk && this.pos + n <= this.chunk.length) return;
    if (this.chunk && this.pos > 0) this.ready.push(this.chunk.subarray(0, this.pos));
    this.chunk = n <= CHUNK && this.free.length > 0 ? this.free.pop()! : Buffer.allocUnsafeSlow(Math.max(CHUNK, n));
    this.pos = 0;
  }

  /**
   * A chunk handed out by `take` is the sink's again. Fresh memory for every chunk cost more than making the
   * lines: 143 MB of new pages a scrape at 10,000 probes, each faulted in by the kernel.
   */
  recycle(c: Buffer): void {
    if (c.buffer.byteLength === CHUNK && this.free.length < 4) this.free.push(Buffer.from(c.buffer, 0, CHUNK));
  }

  // Short pieces (names, braces, values) are copied byte by byte in JavaScript: a native call per piece costs more
  // than the copy. Text that is not ASCII goes to Buffer#write; label runs over 32 bytes and a histogram's repeated
  // tail go to Buffer#copy.

  /** `s` as UTF-8; the caller made room (at most 3 bytes per UTF-16 unit). */
  private str(s: string): void {
    const c = this.chunk!;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      if (ch >= 0x80) {
        this.pos = p + c.write(s.slice(i), p);
        return;
      }
      c[p++] = ch;
    }
    this.pos = p;
  }

  /** Bytes of the label table: short runs by hand, longer ones by Buffer#copy. */
  private fromTable(at: number, len: number): void {
    if (len > 32) {
      this.pos += this.table.copy(this.chunk!, this.pos, at, at + len);
      return;
    }
    const c = this.chunk!;
    const t = this.table;
    let p = this.pos;
    for (let i = at, end = at + len; i < end; i++) c[p++] = t[i];
    this.pos = p;
  }

  private copyLabels(h: LabelHolder): void {
    this.fromTable(h.fmtAt, h.fmtLen);
  }

  /** `text` into the label table (grown as needed): where it starts and its length in bytes. */
  private toTable(text: string): [at: number, len: number] {
    if (this.tableLen + text.length * 3 > this.table.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.table.length * 2, this.tableLen + text.length * 3));
      this.table.copy(grown, 0, 0, this.tableLen);
      this.table = grown;
    }
    const at = this.tableLen;
    const len = this.table.write(text, at);
    this.tableLen += len;
    return [at, len];
  }

  /** `h`'s labels in this scrape's table, formatted and redacted on first use (no string is kept). */
  private labelsOf(h: LabelHolder): void {
    if (h.fmtScrape === this.scrape) return;
    const [at, len] = this.toTable(this.redact(Object.entries(h.labels).map(([k, v]) => pair(k, v)).join(',')));
    h.fmtAt = at;
    h.fmtLen = len;
    h.fmtScrape = this.scrape;
  }

  /** Where each `\n<name>_bucket{le="<bound>` is in the table: [at, len] for each bound, then +Inf. */
  private bucketLeads(name: string, bounds: readonly number[]): number[] {
    let leads = this.leads.get(name);
    if (!leads) {
      leads = [];
      for (const b of [...bounds.map(String), '+Inf']) leads.push(...this.toTable(`\n${name}_bucket{le="${b}`));
      this.leads.set(name, leads);
    }
    return leads;
  }

  /** The default labels not named by the row (prom-client lets a row's own label win). */
  private defaultsFor(base: Labels, k1?: string, k2?: string): string {
    if (this.defaults.length === 0) return '';
    let clash = false;
    for (const [k] of this.defaults) if (k in base || k === k1 || k === k2) clash = true;
    if (!clash) return this.defaultsText;
    return this.redact(this.defaults.filter(([k]) => !(k in base) && k !== k1 && k !== k2).map(([k, v]) => pair(k, v)).join(','));
  }

  row(base: LabelHolder, value: number, k1?: string, v1?: string, k2?: string, v2?: string): void {
    this.labelsOf(base);
    // After the holder's labels: the row's own (closed lists: phase, outcome, error class, token type), then defaults.
    let rest = k1 === undefined ? '' : pair(k1, v1!);
    if (k2 !== undefined) rest = join(rest, pair(k2, v2!));
    rest = join(rest, this.defaultsFor(base.labels, k1, k2));
    const end = valueText(value);
    this.room((this.lead.length + rest.length + end.length) * 3 + base.fmtLen + 8);
    this.str(this.lead);
    const c = this.chunk!;
    if (base.fmtLen > 0 || rest) {
      c[this.pos++] = 0x7b; // {
      this.copyLabels(base);
      if (base.fmtLen > 0 && rest) c[this.pos++] = 0x2c; // ,
      this.str(rest);
      c[this.pos++] = 0x7d; // }
    }
    c[this.pos++] = 0x20;
    this.str(end);
  }

  hist(name: string, bounds: readonly number[], h: readonly number[], base: LabelHolder, k1?: string, v1?: string): void {
    // prom-client: `le`, the default labels (less those the series names), then the series' labels.
    this.labelsOf(base);
    const d = this.defaultsFor(base.labels, k1);
    const own = k1 === undefined ? '' : pair(k1, v1!);
    const hasTail = d !== '' || base.fmtLen > 0 || own !== '';
    this.room((bounds.length + 3) * ((name.length + d.length + own.length) * 3 + base.fmtLen + 96));
    const leads = this.bucketLeads(name, bounds);
    const c = this.chunk!;
    // The tail (`d,labels,own`) is written once, in the first bucket's line, and copied from there.
    let tailAt = -1;
    let tailEnd = -1;
    const tail = (): void => {
      if (tailAt >= 0) {
        this.pos += c.copy(c, this.pos, tailAt, tailEnd);
        return;
      }
      tailAt = this.pos;
      if (d) this.str(d);
      if (base.fmtLen > 0) {
        if (d) c[this.pos++] = 0x2c;
        this.copyLabels(base);
      }
      if (own) {
        if (d || base.fmtLen > 0) c[this.pos++] = 0x2c;
        this.str(own);
      }
      tailEnd = this.pos;
    };
    let acc = 0;
    for (let i = 0; i <= bounds.length; i++) {
      const count = i < bounds.length ? (acc += h[i]) : h[bounds.length + 1];
      this.fromTable(leads[2 * i], leads[2 * i + 1]);
      c[this.pos++] = 0x22; // "
      if (hasTail) {
        c[this.pos++] = 0x2c;
        tail();
      }
      c[this.pos++] = 0x7d;
      c[this.pos++] = 0x20;
      this.str(valueText(count));
    }
    for (const [suffix, v] of [['_sum', h[bounds.length]], ['_count', h[bounds.length + 1]]] as const) {
      this.str('\n');
      this.str(name);
      this.str(suffix);
      if (hasTail) {
        c[this.pos++] = 0x7b;
        tail();
        c[this.pos++] = 0x7d;
      }
      c[this.pos++] = 0x20;
      this.str(valueText(v));
    }
  }
}

export interface ExpositionOptions {
  /** Every label text, and every metric prom-client formats, passes through it (default: none). */
  redact?: (text: string) => string;
  /** `write`'s caller is done with a chunk once the promise `write` returned settles: it may be reused. */
  reuse?: boolean;
}

/**
 * Write the registry's text exposition to `write`, chunk by chunk (whole lines, UTF-8): the same bytes as
 * `registry.metrics()` (Prometheus text format). `write` may wait (a socket's backpressure); the loop gets a
 * turn between chunks. Without `reuse`, every chunk is the caller's to keep.
 */
export async function writeExposition(registry: Registry, write: (chunk: Buffer) => void | Promise<void>, opts: ExpositionOptions = {}): Promise<void> {
  const redact = opts.redact ?? ((text: string) => text);
  // prom-client keeps the default labels in a field with no getter; its own formatting reads the same field.
  const defaults = (registry as unknown as { _defaultLabels?: Labels })._defaultLabels ?? {};
  const metrics = registry.getMetricsAsArray();
  const sink = new ByteSink(defaults, redact);
  const send = async (all: boolean) => {
    const chunks = sink.take(all);
    for (const c of chunks) {
      await write(c);
      if (opts.reuse) sink.recycle(c);
    }
    if (chunks.length > 0) await new Promise<void>((r) => setImmediate(r));
  };
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i] as unknown;
    const sep = i === 0 ? '' : '\n\n';
    if (isTextFamily(m)) {
      const name = escapeString(m.name);
      sink.name = name;
      sink.text(`${sep}# HELP ${name} ${escapeString(m.help)}\n# TYPE ${name} ${m.type}`);
      // Full chunks are sent as soon as the sink holds one (checked after each probe's rows).
      for (const _ of m.writeRows(sink)) if (sink.pending) await send(false);
    } else {
      await send(true);
      const text = await (registry as unknown as { getMetricsAsString(m: unknown): Promise<string> }).getMetricsAsString(m);
      await write(Buffer.from(redact(sep + text)));
    }
  }
  sink.text('\n');
  await send(true);
}
