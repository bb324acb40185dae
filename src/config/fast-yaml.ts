// A lean parse for large config files (10,000 probes in one file): js-yaml's event stream turned straight into
// plain values, resolved with exactly the YAML 1.2 core rules `yaml` uses, plus the start offset of each
// top-level entry and of each item one level below (what assembling a config needs: a probe's line). `yaml`'s
// Document keeps every node with its source range; for a 2 MB probe file that is 2 s of CPU and ~270 MB of RSS
// the process never gives back, for positions that only an error message needs. So errors still come from
// `yaml`, parsed on demand (source.ts), and anything this path does not reproduce exactly returns null so the
// caller takes the `yaml` path: syntax errors, anchors, aliases, tags, merge keys, non-string or duplicate keys,
// directives, several documents, and flow collections closed at the start of a line (where `yaml` warns).
import { EVENT_ID, getScalarValue, parseEvents, SCALAR_STYLE } from 'js-yaml';
import type { Event, ScalarEvent } from 'js-yaml';
import type { FieldPath } from './errors.ts';

/** A string value with a `$` in it: interpolation runs on these only (interpolate.ts). */
export interface DollarScalar {
  path: FieldPath;
  /** Plain (unquoted) in the source: `port: ${PORT}` may then become a number. */
  plain: boolean;
}

export interface FastParse {
  /** What `yaml`'s `doc.toJS()` gives for the same text. */
  value: unknown;
  dollars: DollarScalar[];
  /** Start offset of the collection at `a` and at `a\0b` (b a key or an index), for the top two levels. */
  starts: Map<string, number>;
}

// yaml/dist/schema/core (and common/null): the same tests in the same order.
const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT_RE = /^0o[0-7]+$/;
const INT_RE = /^[-+]?[0-9]+$/;
const INT_HEX_RE = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN_RE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** A plain scalar's value under the YAML 1.2 core schema, as `yaml` resolves it. */
export function resolvePlain(s: string): unknown {
  if (NULL_RE.test(s)) return null;
  if (BOOL_RE.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT_OCT_RE.test(s)) return parseInt(s.substring(2), 8);
  if (INT_RE.test(s)) return parseInt(s, 10);
  if (INT_HEX_RE.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_NAN_RE.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (FLOAT_EXP_RE.test(s) || FLOAT_RE.test(s)) return parseFloat(s);
  return s;
}

// A flow collection whose `]` or `}` starts a line: `yaml` may warn about its indentation, so let it.
const FLOW_END_AT_LINE_START = /^[ \t]*[\]}]/m;

interface Frame {
  kind: 'map' | 'seq';
  value: Record<string, unknown> | unknown[];
  /** Map: the key whose value comes next (undefined while a key is awaited). */
  key: string | undefined;
  /** The path segment this container sits at (for dollar paths and start offsets). */
  seg: string | number | undefined;
}

/** Null when the text needs `yaml` (see the header); never throws. */
export function fastParse(text: string): FastParse | null {
  if (FLOW_END_AT_LINE_START.test(text)) return null;
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return null; // yaml names the error and its place
  }
  const dollars: DollarScalar[] = [];
  const starts = new Map<string, number>();
  const stack: Frame[] = [];
  let docs = 0;
  let root: unknown = null;
  let rootSet = false;

  const pathHere = (): (string | number)[] => {
    const p: (string | number)[] = [];
    for (let i = 1; i < stack.length; i++) p.push(stack[i].seg!);
    return p;
  };
  // Where the next value goes: the segment it takes in its parent.
  const nextSeg = (): string | number | undefined => {
    const top = stack[stack.length - 1];
    if (!top) return undefined;
    return top.kind === 'seq' ? (top.value as unknown[]).length : top.key;
  };
  const noteStart = (seg: string | number | undefined, start: number) => {
    // depth = stack.length: 1 → a top-level entry, 2 → one level below it
    if (stack.length === 1) starts.set(String(seg), start);
    else if (stack.length === 2) starts.set(`${String(stack[1].seg)}\0${String(seg)}`, start);
  };
  const place = (v: unknown): boolean => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = v;
      rootSet = true;
      return true;
    }
    if (top.kind === 'seq') (top.value as unknown[]).push(v);
    else {
      (top.value as Record<string, unknown>)[top.key!] = v;
      top.key = undefined;
    }
    return true;
  };

  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        // A `%YAML 1.1` (or any) directive changes how `yaml` resolves scalars (`yes` is a boolean there).
        if (++docs > 1 || ev.directives.length > 0) return null;
        break;
      case EVENT_ID.ALIAS:
        return null;
      case EVENT_ID.POP:
        if (stack.length) {
          const top = stack.pop()!;
          if (top.kind === 'map' && top.key !== undefined) return null; // a key without a value: let yaml decide
          place(top.value);
        }
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        if (ev.anchorStart >= 0 || ev.tagStart >= 0) return null;
        const top = stack[stack.length - 1];
        if (top?.kind === 'map' && top.key === undefined) return null; // a collection as a key
        const seg = nextSeg();
        noteStart(seg, ev.start);
        stack.push({ kind: ev.type === EVENT_ID.MAPPING ? 'map' : 'seq', value: ev.type === EVENT_ID.MAPPING ? {} : [], key: undefined, seg });
        break;
      }
      case EVENT_ID.SCALAR: {
        const s = ev as ScalarEvent;
        if (s.anchorStart >= 0 || s.tagStart >= 0) return null;
        const plain = s.style === SCALAR_STYLE.PLAIN;
        const str = getScalarValue(text, s);
        const top = stack[stack.length - 1];
        if (top?.kind === 'map' && top.key === undefined) {
          // A key: strings only, each once, and none that `yaml` treats specially.
          if (plain && resolvePlain(str) !== str) return null;
          if (str === '<<' || str === '__proto__' || Object.hasOwn(top.value, str)) return null;
          top.key = str;
          break;
        }
        const seg = nextSeg();
        const v = plain ? resolvePlain(str) : str;
        if (typeof v === 'string' && v.includes('$')) dollars.push({ path: [...pathHere(), seg!].filter((x) => x !== undefined), plain });
        place(v);
        break;
      }
    }
  }
  if (stack.length) return null;
  return { value: rootSet ? root : null, dollars, starts };
}
