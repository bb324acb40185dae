// The `latency:` block of a probe (YAML) and its mapping to detector options. Exported for the config schema;
// the detector itself only sees LatencyDetectorOptions.
import { z } from 'zod';
import type { Direction, LatencyDetectorOptions } from './detector.ts';

export type LatencyMetric = 'ttft' | 'total';
export const LATENCY_METRICS: readonly LatencyMetric[] = ['ttft', 'total'];

const perMetric = (what: string) =>
  z
    .strictObject({
      ttft_ms: z.number().positive().optional().describe(`${what} for time to first token (ms).`),
      total_ms: z.number().positive().optional().describe(`${what} for total time (ms).`),
    })
    .describe(what);

/** Named sensitivities, as the rarity threshold (long-run standard deviations). */
/** Default floor: slowness pages need the recent p95 at or above this (ms). */
export const DEFAULT_FLOOR_MS = 50;

export const SENSITIVITY = { low: 4, normal: 3, high: 2.5 } as const;

export const latencyConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Run the diurnal latency detector on this probe.'),
    slo: perMetric('Ceiling: always page when sustained above this, whatever the hour').optional(),
    floor: perMetric('Floor: never page for slowness while the recent p95 is below this').optional(),
    sensitivity: z
      .union([z.enum(['low', 'normal', 'high']), z.number().min(1).max(20)])
      .default('normal')
      .describe('How unusual for the hour latency must be to page: low | normal | high, or a threshold in σ (normal = 3).'),
    min_samples: z.number().int().min(1).max(1000).default(6).describe('Samples an hour-of-week bucket needs before it is trusted (else hour of day, then all hours).'),
    direction: z
      .enum(['high', 'low', 'both'])
      .default('high')
      .describe('Page on slower (high, the default), faster or suspiciously steady (low: a cache or canned answer), or both.'),
  })
  .describe('Diurnal latency detector settings (hour-of-week baseline in the probe timezone).');

export type LatencyConfigInput = z.input<typeof latencyConfigSchema>;

/** Resolved per-probe settings (camelCase), what the daemon hands to the tracker. */
export type { LatencySettings } from '../../domain.ts';
import type { LatencySettings } from '../../domain.ts';

/**
 * Settings already made, by block and timezone: most probes share a handful (10,000 probes would otherwise hold
 * 10,000 equal objects and parse the same block 10,000 times). Shared, so read-only. Bounded like any cache fed by
 * config: a long run of reloads with ever-new blocks clears it.
 */
const made = new Map<string, LatencySettings>();

/** Map the YAML block (validated or not; undefined = defaults) plus the probe's timezone to settings. */
export function latencySettings(raw: LatencyConfigInput | undefined, timezone: string): LatencySettings {
  const key = JSON.stringify([raw ?? null, timezone]);
  const hit = made.get(key);
  if (hit) return hit;
  const settings = parseSettings(raw, timezone);
  if (made.size >= 1_000) made.clear();
  made.set(key, settings);
  return settings;
}

function parseSettings(raw: LatencyConfigInput | undefined, timezone: string): LatencySettings {
  const c = latencyConfigSchema.parse(raw ?? {});
  return {
    enabled: c.enabled,
    timezone,
    sensitivity: typeof c.sensitivity === 'number' ? c.sensitivity : SENSITIVITY[c.sensitivity],
    minSamples: c.min_samples,
    direction: c.direction,
    ceilingMs: { ttft: c.slo?.ttft_ms, total: c.slo?.total_ms },
    // Below 50 ms nothing an LLM API does is worth a page (and loopback test traffic wobbles at that scale).
    floorMs: { ttft: c.floor?.ttft_ms ?? DEFAULT_FLOOR_MS, total: c.floor?.total_ms ?? DEFAULT_FLOOR_MS },
  };
}

/** Detector options for one metric of a probe. */
export function detectorOptions(s: LatencySettings, metric: LatencyMetric): LatencyDetectorOptions {
  return {
    timezone: s.timezone,
    threshold: s.sensitivity,
    minSamples: s.minSamples,
    direction: s.direction,
    slo: { ceiling: s.ceilingMs[metric], floor: s.floorMs[metric] },
  };
}
