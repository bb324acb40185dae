// A parsed YAML file that remembers where every value came from, so any problem found later (schema,
// cross-file checks) can be reported at the line and column of the offending key or value.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { ConfigError, FieldPath } from './errors.ts';
import { pathToString } from './errors.ts';
import { fastParse } from './fast-yaml.ts';
import { Interner } from '../intern.ts';
import type { FastParse } from './fast-yaml.ts';

export interface SourceFile {
  /** Relative to the config directory. */
  file: string;
  /** With every node's position; for a file read by the lean parse, parsed on first use (a problem to place). */
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  /** Set when the lean parse read the file (fast-yaml.ts): its values, `$` strings and top-level offsets. */
  readonly fast?: FastParse;
}

/** Files from this size on are read by the lean parse first; smaller ones cost `yaml` little. */
export const FAST_PARSE_MIN_BYTES = 64 * 1024;

/** A file read by the lean parse; `yaml`'s Document is made only when a position beyond its index is asked for. */
class LeanSource implements SourceFile {
  readonly file: string;
  readonly fast: FastParse;
  readonly #text: string;
  #doc: Document | undefined;
  #lineCounter: LineCounter | undefined;
  #newlines: number[] | undefined;
  constructor(file: string, text: string, fast: FastParse) {
    this.file = file;
    this.#text = text;
    this.fast = fast;
  }
  #parse(): void {
    this.#lineCounter = new LineCounter();
    this.#doc = parseDocument(this.#text, { lineCounter: this.#lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  }
  get doc(): Document {
    if (!this.#doc) this.#parse();
    return this.#doc!;
  }
  get lineCounter(): LineCounter {
    if (!this.#lineCounter) this.#parse();
    return this.#lineCounter!;
  }
  /** 1-based line of a source offset. */
  lineAt(offset: number): number {
    if (!this.#newlines) {
      const nl: number[] = [];
      for (let i = this.#text.indexOf('\n'); i >= 0; i = this.#text.indexOf('\n', i + 1)) nl.push(i);
      this.#newlines = nl;
    }
    // number of newlines before offset, + 1
    let lo = 0;
    let hi = this.#newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#newlines[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }
}

/**
 * The values of a parsed file, as `yaml`'s `toJS` gives them (after interpolation, which edits them in place), with
 * every string a flat copy shared by equal values: both parsers' strings are slices of the file's text, and the
 * config lives as long as the daemon (src/intern.ts).
 */
export function valuesOf(src: SourceFile): unknown {
  const values: unknown = src.fast ? src.fast.value : src.doc.toJS({ maxAliasCount: 1000 });
  return new Interner({ maxEntries: Infinity, flattenLong: true }).deep(values);
}

/** The line of `path`: from the lean parse's index when it has it (a probe in a 10,000-probe file), else `locate`. */
export function lineOf(src: SourceFile, path: FieldPath): number {
  if (src instanceof LeanSource && path.length >= 1 && path.length <= 2) {
    const off = src.fast.starts.get(path.length === 1 ? String(path[0]) : `${String(path[0])}\0${String(path[1])}`);
    if (off !== undefined) return src.lineAt(off);
  }
  return locate(src, path).line;
}

export interface Position {
  line: number;
  column: number;
}

/** Parse YAML; syntax errors come back with yaml's own positions and `source` is then null. */
export function parseSource(file: string, text: string, opts: { fastFrom?: number } = {}): { source: SourceFile | null; errors: ConfigError[] } {
  if (text.length >= (opts.fastFrom ?? FAST_PARSE_MIN_BYTES)) {
    const fast = fastParse(text);
    if (fast) return { source: new LeanSource(file, text, fast), errors: [] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const problems = [
    ...doc.errors.map((e) => ({ e, severity: 'error' as const })),
    ...doc.warnings.map((e) => ({ e, severity: 'warning' as const })),
  ];
  const errors: ConfigError[] = problems.map(({ e, severity }) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return {
      severity,
      file,
      line,
      column: col,
      path: '',
      message: `YAML ${severity === 'error' ? 'syntax error' : 'warning'}: ${firstLine(e.message)}`,
      hint: text.slice(e.pos[0] - 1, e.pos[0] + 1) === '${' ? 'inside { } or [ ], quote a reference: "${VAR}"' : yamlHint(e.code),
    };
  });
  // After the first syntax error yaml's parser reports mostly consequences of it; keep the first.
  const syntax = errors.filter((e) => e.severity === 'error');
  if (syntax.length > 1) {
    syntax[0].message += ` (and ${syntax.length - 1} more YAML error${syntax.length > 2 ? 's' : ''} after it)`;
    for (const extra of syntax.slice(1)) errors.splice(errors.indexOf(extra), 1);
  }
  const fatal = errors.some((e) => e.severity === 'error');
  return { source: fatal ? null : { file, doc, lineCounter }, errors };
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'each key may appear once per mapping; remove or rename one';
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return 'check the indentation and quoting around this spot; quote values that contain ": " or start with "{", "[", "*", "&" or "@"';
    default:
      return undefined;
  }
}

/**
 * The position of `path` in the file: the value node, or with `key: true` the key of the last segment
 * (unknown keys point at the key itself). Falls back to the deepest node that exists (a missing field
 * points at the mapping that lacks it).
 */
export function locate(src: SourceFile, path: FieldPath, opts: { key?: boolean } = {}): Position {
  let node: unknown = src.doc.contents;
  let pos = nodePos(src, node) ?? { line: 1, column: 1 };
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(src.doc);
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyOf(p.key) === String(seg));
      if (!pair) return pos;
      const keyPos = nodePos(src, pair.key);
      if (last && opts.key) return keyPos ?? pos;
      node = pair.value;
      pos = nodePos(src, node) ?? keyPos ?? pos;
      if (pair.value == null) return pos;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      const p = nodePos(src, node);
      if (!p) return pos;
      pos = p;
    } else {
      return pos;
    }
  }
  return pos;
}

function keyOf(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function nodePos(src: SourceFile, node: unknown): Position | undefined {
  const range = (node as Node | null | undefined)?.range;
  if (!range) return undefined;
  const { line, col } = src.lineCounter.linePos(range[0]);
  return { line, column: col };
}

/** A ConfigError placed at `path` in `src`. */
export function errorAt(
  src: SourceFile,
  path: FieldPath,
  message: string,
  opts: { hint?: string; key?: boolean; severity?: 'error' | 'warning' } = {},
): ConfigError {
  const { line, column } = locate(src, path, { key: opts.key });
  return {
    severity: opts.severity ?? 'error',
    file: src.file,
    line,
    column,
    path: pathToString(path),
    message,
    ...(opts.hint ? { hint: opts.hint } : {}),
  };
}
