// Durations are strings with a unit ("250ms", "30s", "5m", "1h", "14d"): a bare number is ambiguous
// (seconds? milliseconds?), so the config refuses it rather than guess.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** One or more `<number><unit>` parts, e.g. "90s", "1.5h", "1h30m". */
export const DURATION_PATTERN = '^(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d))+$';
const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export const DURATION_HINT = 'write a number with a unit: "250ms", "30s", "5m", "1h" or "14d"';

export function isDuration(text: string): boolean {
  return DURATION_RE.test(text);
}

/** Milliseconds, or null when `text` is not a duration. */
export function parseDuration(text: string): number | null {
  if (!DURATION_RE.test(text)) return null;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(PART_RE)) ms += Number(n) * UNIT_MS[unit as Unit];
  return Math.round(ms);
}

/** The shortest exact form: 60000 → "1m", 90000 → "90s", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
