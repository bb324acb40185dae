// User-supplied regular expressions (silence and route matchers, probe `regex` assertions) run on RE2 through
// `re2js`, a pure-JavaScript port: matching time is linear in the input whatever the pattern, so no pattern
// (`(.*.*.*)*!`, `(a+)+$`) can stall the daemon. The price is RE2's syntax: no lookahead and no
// backreferences, which validation reports by name. Patterns and inputs are length-capped as well, so the
// cost of one match is bounded outright, not only asymptotically.
import { RE2JS } from 're2js';

export const MAX_PATTERN_LENGTH = 1024;
/** Longer inputs are matched on their first this-many characters (labels are short; answers are capped). */
export const MAX_SUBJECT_LENGTH = 64 * 1024;

export interface SafeRegex {
  readonly source: string;
  test(subject: string): boolean;
}

const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, s: RE2JS.DOTALL, m: RE2JS.MULTILINE };

export class RegexError extends Error {}

// Compiled once per (pattern, mode, flags); bounded so a stream of distinct patterns can't grow it forever.
const cache = new Map<string, SafeRegex>();
const CACHE_MAX = 2000;

/**
 * `anchored`: the whole subject must match (Alertmanager's `=~`); otherwise the pattern may match anywhere.
 * `flags`: JavaScript letters; i, s and m are honoured, g/y/d/u/v mean nothing for a yes/no test.
 * Throws RegexError naming what RE2 rejected.
 */
export function compileSafe(pattern: string, opts: { anchored: boolean; flags?: string }): SafeRegex {
  const key = `${opts.anchored ? 'A' : 'S'}/${opts.flags ?? ''}/${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  if (pattern.length > MAX_PATTERN_LENGTH) throw new RegexError(`regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  let bits = 0;
  for (const f of opts.flags ?? '') {
    if (!'gimsuyvd'.includes(f)) throw new RegexError(`unknown regular expression flag "${f}"`);
    bits |= FLAG_BITS[f] ?? 0;
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(opts.anchored ? `^(?:${pattern})$` : pattern, bits);
  } catch (err) {
    throw new RegexError(explain(err));
  }
  const compiled: SafeRegex = {
    source: pattern,
    test: (subject: string) => {
      const s = subject.length > MAX_SUBJECT_LENGTH ? subject.slice(0, MAX_SUBJECT_LENGTH) : subject;
      return opts.anchored ? re.matches(s) : re.test(s);
    },
  };
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

/** Null when the pattern compiles, else why not (validation collects every problem). */
export function regexProblem(pattern: string, opts: { anchored: boolean; flags?: string }): string | null {
  try {
    compileSafe(pattern, opts);
    return null;
  } catch (err) {
    return err instanceof RegexError ? err.message : String(err);
  }
}

function explain(err: unknown): string {
  const msg = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
  if (/Perl syntax: `\(\?[=!<]/.test(msg) || /\(\?<?[=!]/.test(msg)) return `invalid regular expression: lookahead and lookbehind are not supported (patterns run on RE2, in linear time): ${msg}`;
  if (/invalid escape sequence: `\\[1-9]/.test(msg)) return `invalid regular expression: backreferences are not supported (patterns run on RE2, in linear time): ${msg}`;
  return `invalid regular expression: ${msg}`;
}
