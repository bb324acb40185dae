// Per-provider latency as the demo and `vigil sim` run them: each provider its own speed, noise and weekly shape,
// so the status page shows three different services rather than one curve three times. Plain data over
// src/sim/latency.ts; the seeded history and the live simulator read the same numbers.
import type { LatencyConfig } from './latency.ts';

export type UpstreamName = 'openai' | 'anthropic' | 'gemini';

export const PROVIDER_LATENCY: Record<UpstreamName, LatencyConfig> = {
  // Quick to first token, a broad hump through the US business day, and a small one for Europe's morning.
  openai: {
    ttfbMs: 25,
    ttftMs: 320,
    perTokenMs: 11,
    jitter: 0.15,
    diurnal: { timezone: 'America/New_York', peakHour: 10.5, peakMultiplier: 2.2, widthHours: 2.5, weekdaysOnly: true },
    bumps: [{ timezone: 'Europe/Berlin', peakHour: 10, peakMultiplier: 1.4, widthHours: 1.5, weekdaysOnly: true }],
  },
  // Slower to first token, and much slower in US mornings: a sharp 9am New York peak on weekdays.
  anthropic: {
    ttfbMs: 35,
    ttftMs: 480,
    perTokenMs: 17,
    jitter: 0.12,
    diurnal: { timezone: 'America/New_York', peakHour: 9, peakMultiplier: 3, widthHours: 1.5, weekdaysOnly: true },
  },
  // Fast tokens but noisy; a mild US-hours hump, and a weekly maintenance window early on Sunday, Pacific time.
  gemini: {
    ttfbMs: 20,
    ttftMs: 400,
    perTokenMs: 7,
    jitter: 0.25,
    diurnal: { timezone: 'America/New_York', peakHour: 9.5, peakMultiplier: 1.6, widthHours: 3, weekdaysOnly: true },
    bumps: [{ timezone: 'America/Los_Angeles', peakHour: 1, peakMultiplier: 2.6, widthHours: 0.6, weekdaysOnly: false, weekday: 0 }],
  },
};
