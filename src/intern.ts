// One copy of each string the daemon keeps per probe, and none that keeps a bigger string alive.
//
// Why: a parser's substrings are V8 "sliced strings" that point into the text they came from, so one prompt from
// the config kept the whole YAML file alive (2 MB for a 10,000-probe file) for the daemon's life; and the same
// value repeated on every probe (owner, target, provider, "stop", a served model, an assertion's verdict) was a
// separate string per probe, per config load and per result a probe thread sends back (a structured clone makes
// every string anew). An interner maps equal strings to one flat copy.

/** Strings longer than this are left as they are (answers, prompts): rarely equal, and the table must stay small. */
const MAX_INTERNED_LENGTH = 256;

/** V8 makes a substring of at least this many characters a slice of its parent instead of a copy. */
const SLICE_MIN_LENGTH = 13;

/** A flat copy of `s`, owning its characters (JSON is the one portable way to make V8 copy a string). */
export function flatCopy(s: string): string {
  return s.length < SLICE_MIN_LENGTH ? s : (JSON.parse(JSON.stringify(s)) as string);
}

export interface InternerOptions {
  /**
   * Bounds the table: when it is full it starts again empty, so strings that never repeat (an error message with a
   * request id) cannot grow it, and the values that do repeat are back in it after one round. Default 20,000.
   */
  maxEntries?: number;
  /** `deep` also copies the long strings it does not intern (parsed text: they may be slices of the source). */
  flattenLong?: boolean;
}

export class Interner {
  private readonly table = new Map<string, string>();
  private readonly maxEntries: number;
  private readonly flattenLong: boolean;

  constructor(opts: InternerOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 20_000;
    this.flattenLong = opts.flattenLong ?? false;
  }

  get size(): number {
    return this.table.size;
  }

  /** The shared copy of `s` (made flat when first seen). Long strings come back unchanged. */
  string(s: string): string {
    if (s.length > MAX_INTERNED_LENGTH) return s;
    const hit = this.table.get(s);
    if (hit !== undefined) return hit;
    if (this.table.size >= this.maxEntries) this.table.clear();
    const own = flatCopy(s);
    this.table.set(own, own);
    return own;
  }

  /** Every string in a tree of plain objects and arrays, replaced in place by its shared copy. */
  deep<T>(value: T): T {
    return this.walk(value, 0) as T;
  }

  private walk(v: unknown, depth: number): unknown {
    if (typeof v === 'string') return v.length <= MAX_INTERNED_LENGTH ? this.string(v) : this.flattenLong ? flatCopy(v) : v;
    if (v === null || typeof v !== 'object' || depth > 64) return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = this.walk(v[i], depth + 1);
      return v;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return v; // typed arrays, Dates, class instances: not ours to touch
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = this.walk(o[k], depth + 1);
    return v;
  }
}
