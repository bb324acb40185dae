// Label values for Prometheus series. Every value that reaches a label passes through here, so the
// number of series stays bounded: config-derived values are trimmed, provider-reported values
// (served model) are sanitised and capped per probe, and error classes come from the closed list.

import { ERROR_CLASSES } from '../domain.ts';
import type { ErrorClass } from '../domain.ts';

/** Longest label value we export; config ids are short, anything longer is a mistake or an attack. */
const MAX_CONFIG_VALUE = 128;
/** Served model names are short identifiers (`gpt-4o-mini-2024-07-18`, `models/gemini-2.5-flash`). */
const MAX_SERVED_MODEL = 64;

export const OTHER = 'other';
export const UNKNOWN = 'unknown';
export const NONE = 'none';

const ERROR_CLASS_SET: ReadonlySet<string> = new Set(ERROR_CLASSES);

/** A value from config (probe id, owner, model, target): bounded by the config, only trimmed here. */
export function configLabel(value: string | null | undefined): string {
  if (!value) return UNKNOWN;
  // Control characters are legal in label values but break dashboards and log lines.
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '');
  return clean.length > MAX_CONFIG_VALUE ? clean.slice(0, MAX_CONFIG_VALUE) : clean || UNKNOWN;
}

/** `provider:openai` → `openai`; `gateway` and `gateway:<name>` stay as they are. */
export function providerLabel(target: string): string {
  return configLabel(target.startsWith('provider:') ? target.slice('provider:'.length) : target);
}

/**
 * A model name reported by the provider (untrusted): keep identifier characters only, cap the length.
 * Case is kept because providers use it consistently and users grep for the exact string.
 */
export function sanitizeServedModel(value: string | null | undefined): string {
  if (value == null) return UNKNOWN;
  const s = value.trim().replace(/[^A-Za-z0-9._:/@+-]/g, '_').slice(0, MAX_SERVED_MODEL);
  return s === '' || /^_+$/.test(s) ? UNKNOWN : s;
}

/** `none` for no error; a class from the closed list; `other` should a caller ever pass something else. */
export function errorClassLabel(value: ErrorClass | string | null | undefined): string {
  if (value == null) return NONE;
  return ERROR_CLASS_SET.has(value) ? value : OTHER;
}

/**
 * Per-probe allowance of distinct served-model label values. The first `max` distinct values a probe
 * reports keep their own label; later ones become `other`. First-come rather than LRU so a provider
 * rotating through many names can't churn series: the set only resets when the probe is removed.
 */
export class ServedModelLimiter {
  private readonly max: number;
  private readonly seen = new Map<string, Set<string>>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxServedModelsPerProbe must be an integer >= 1, got ${max}`);
    this.max = max;
  }

  label(probeId: string, servedModel: string | null | undefined): string {
    const value = sanitizeServedModel(servedModel);
    // `unknown` (no answer) is not a model and doesn't use up the allowance.
    if (value === UNKNOWN) return value;
    let set = this.seen.get(probeId);
    if (!set) this.seen.set(probeId, (set = new Set()));
    if (set.has(value)) return value;
    if (set.size >= this.max) return OTHER;
    set.add(value);
    return value;
  }

  /** The served-model values a probe was allowed (besides `other` and `unknown`). */
  values(probeId: string): Iterable<string> {
    return this.seen.get(probeId) ?? [];
  }

  forget(probeId: string): void {
    this.seen.delete(probeId);
  }
}
