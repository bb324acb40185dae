// Planned latency: base times, seeded jitter and a diurnal multiplier over an injected clock.
// Pure functions, so tests, benchmarks and the latency detectors can compute the truth for any instant.
import { wallTime } from '../time.ts';
import type { Rng } from './rng.ts';

export interface DiurnalConfig {
  /** IANA timezone the peak is expressed in. */
  timezone: string;
  /** Local hour of the peak (may be fractional, e.g. 9.5). */
  peakHour: number;
  /** Multiplier at the peak (1 = no effect). */
  peakMultiplier: number;
  /** Gaussian width (standard deviation) of the bump, in hours. */
  widthHours: number;
  /** Only Monday–Friday (local) peak; weekends stay at ×1. */
  weekdaysOnly: boolean;
  /** Only on this local weekday (0 = Sunday … 6 = Saturday): a weekly window such as maintenance. */
  weekday?: number;
}

export interface LatencyConfig {
  /** Time to response headers for streams, and to any error response (ms). Clamped to ≤ TTFT. */
  ttfbMs: number;
  /** Time to first content token (ms). For non-stream replies the whole body comes at TTFT + (n-1) × perTokenMs. */
  ttftMs: number;
  /** Gap between output tokens (ms). */
  perTokenMs: number;
  /** Relative uniform jitter, 0.1 = ±10 %, drawn from the seeded RNG per request (TTFT) and per token. */
  jitter: number;
  /** Diurnal curve; null = flat. */
  diurnal: DiurnalConfig | null;
  /** Further bumps on top of the diurnal curve (a weekly maintenance window, another region's busy hours);
   * their excesses add up: ×(1 + Σ(peak − 1)·g). */
  bumps?: DiurnalConfig[];
}

export const DEFAULT_DIURNAL: DiurnalConfig = {
  timezone: 'America/New_York',
  peakHour: 9,
  peakMultiplier: 3,
  widthHours: 1.5,
  weekdaysOnly: true,
};

export const DEFAULT_LATENCY: LatencyConfig = {
  ttfbMs: 20,
  ttftMs: 250,
  perTokenMs: 15,
  jitter: 0.1,
  diurnal: { ...DEFAULT_DIURNAL },
};

export interface LatencyPlan {
  /** Diurnal multiplier applied. */
  multiplier: number;
  /** Offsets (ms from the request body being received). */
  ttfbMs: number;
  ttftMs: number;
  /** Offset of each output token; [0] === ttftMs when there is at least one token. */
  tokenAtMs: number[];
  /** Offset of the last byte (last token, or TTFT when there are none). */
  totalMs: number;
}

// Local time at each quarter hour, per zone: every zone's offset is a multiple of 15 min and changes on a quarter
// hour, so the rest of the quarter follows by adding the elapsed time. Intl's formatToParts costs microseconds, and
// the demo's month of history asks for hundreds of thousands of instants. Bounded: cleared when it grows large.
const QUARTER_MS = 15 * 60_000;
const quarters = new Map<string, LocalTime>();

export interface LocalTime {
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** Fractional hour 0 ≤ h < 24. */
  hour: number;
}

/** Local weekday and fractional hour of `epochMs` in `timezone` (DST-aware through Intl). */
export function localTime(epochMs: number, timezone: string): LocalTime {
  const q = Math.floor(epochMs / QUARTER_MS);
  const key = `${timezone}|${q}`;
  let v = quarters.get(key);
  if (!v) {
    const w = wallTime(q * QUARTER_MS, timezone);
    v = { weekday: w.weekday, hour: w.hour + w.minute / 60 };
    if (quarters.size >= 100_000) quarters.clear();
    quarters.set(key, v);
  }
  return { weekday: v.weekday, hour: v.hour + (epochMs - q * QUARTER_MS) / 3_600_000 };
}

/** The diurnal multiplier at `epochMs`: 1 + (peak − 1) × gaussian(distance to the peak hour). */
export function diurnalMultiplier(cfg: DiurnalConfig | null, epochMs: number): number {
  if (!cfg || cfg.peakMultiplier === 1) return 1;
  const { weekday, hour } = localTime(epochMs, cfg.timezone);
  if (cfg.weekdaysOnly && (weekday === 0 || weekday === 6)) return 1;
  let d = hour - cfg.peakHour;
  if (cfg.weekday !== undefined) {
    // Distance in hours to the window on its own day (it may spill over midnight into the next or previous day).
    const days = (weekday - cfg.weekday + 7) % 7;
    d += days > 3 ? (days - 7) * 24 : days * 24;
  } else {
    d = Math.abs(d);
    if (d > 12) d = 24 - d;
  }
  const w = Math.max(cfg.widthHours, 0.01);
  return 1 + (cfg.peakMultiplier - 1) * Math.exp(-0.5 * (d / w) ** 2);
}

/** The whole multiplier at `epochMs`: the diurnal curve plus every bump's excess. */
export function latencyMultiplier(cfg: Pick<LatencyConfig, 'diurnal' | 'bumps'>, epochMs: number): number {
  let m = diurnalMultiplier(cfg.diurnal, epochMs);
  for (const b of cfg.bumps ?? []) m += diurnalMultiplier(b, epochMs) - 1;
  return m;
}

function jittered(value: number, jitter: number, rng: Rng | undefined): number {
  if (!rng || jitter <= 0) return value;
  return value * (1 + jitter * (2 * rng() - 1));
}

/**
 * Planned timeline for one reply with `outputTokens` tokens at `epochMs`. Without `rng` there is no jitter
 * (the expected value), which is what detectors and tests compare against.
 */
export function planLatency(cfg: LatencyConfig, epochMs: number, outputTokens: number, rng?: Rng): LatencyPlan {
  const multiplier = latencyMultiplier(cfg, epochMs);
  const ttftMs = Math.max(0, jittered(cfg.ttftMs * multiplier, cfg.jitter, rng));
  const ttfbMs = Math.min(ttftMs, Math.max(0, cfg.ttfbMs * multiplier));
  const tokenAtMs: number[] = [];
  let t = ttftMs;
  for (let i = 0; i < outputTokens; i++) {
    if (i > 0) t += Math.max(0, jittered(cfg.perTokenMs * multiplier, cfg.jitter, rng));
    tokenAtMs.push(t);
  }
  return { multiplier, ttfbMs, ttftMs, tokenAtMs, totalMs: outputTokens > 0 ? t : ttftMs };
}
