// One shape for every config problem (YAML syntax, schema, cross-file checks), so they can be collected,
// sorted and printed together: all problems at once, never just the first.

export type FieldPath = readonly (string | number)[];

export interface ConfigError {
  severity: 'error' | 'warning';
  /** Path relative to the config directory, e.g. `probes/openai.yaml`. */
  file: string;
  /** 1-based; 0 when the problem has no place in a file (e.g. a missing file). */
  line: number;
  column: number;
  /** Field path in the file, e.g. `probes[0].assert[1].max_ttft_ms`; empty for whole-file problems. */
  path: string;
  message: string;
  hint?: string;
}

/** Thrown by callers that need a config or nothing (daemon start, reload). */
export class ConfigLoadError extends Error {
  readonly errors: ConfigError[];
  constructor(errors: ConfigError[]) {
    super(`invalid config:\n${formatErrors(errors)}`);
    this.name = 'ConfigLoadError';
    this.errors = errors;
  }
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['probes', 0, 'assert', 1, 'max_ttft_ms']` → `probes[0].assert[1].max_ttft_ms`. */
export function pathToString(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (PLAIN_KEY.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** `file:line:col  path  message; hint: …`, one line per problem, warnings marked. */
export function formatErrors(errors: readonly ConfigError[]): string {
  return errors.map(formatError).join('\n');
}

export function formatError(e: ConfigError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}:${e.column}` : e.file;
  const parts = [where];
  if (e.path) parts.push(e.path);
  const text = (e.severity === 'warning' ? 'warning: ' : '') + e.message + (e.hint ? `; hint: ${e.hint}` : '');
  parts.push(text);
  return parts.join('  ');
}

/** Stable order: by file, then position, errors before warnings on the same spot. */
export function sortErrors(errors: ConfigError[]): ConfigError[] {
  return errors.sort(
    (a, b) =>
      fileRank(a.file) - fileRank(b.file) ||
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
}

// vigil.yaml first: its mistakes (a provider name) often explain errors in probe files.
function fileRank(file: string): number {
  return file === 'vigil.yaml' || file === 'vigil.yml' ? 0 : 1;
}
