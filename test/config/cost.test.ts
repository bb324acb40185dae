import { describe, expect, it } from 'vitest';
import type { ProbeSpec } from '../../src/domain.ts';
import { estimateInputTokens, estimateProbeCost, MONTH_MS, runsPerMonth } from '../../src/config/cost.ts';
import { findPrice, mergePricing, SHIPPED_PRICING } from '../../src/config/pricing.ts';
import { formatDuration, parseDuration } from '../../src/config/duration.ts';
import { checkCron, cronRunsPerMonth } from '../../src/config/cron.ts';
import { closest } from '../../src/config/suggest.ts';
import { makeSpec } from '../fixtures.ts';

function spec(over: Partial<ProbeSpec> = {}): ProbeSpec {
  return makeSpec({
    id: 'p',
    owner: 'o',
    messages: [{ role: 'user', content: 'x'.repeat(40) }],
    stream: true,
    maxTokens: 10,
    timeouts: { connectMs: 1, firstByteMs: 1, totalMs: 1 },
    ...over,
  });
}

describe('estimateProbeCost', () => {
  it('prices input from characters and output from max_tokens', () => {
    // 40 chars → 10 tokens, +4 per message, +3 per request = 17 input tokens; 10 output tokens.
    const c = estimateProbeCost(spec(), SHIPPED_PRICING);
    expect(c).toMatchObject({ inputTokens: 17, outputTokens: 10, pricedAs: 'gpt-4o-mini' });
    expect(c.perRunUsd).toBeCloseTo((17 * 0.15 + 10 * 0.6) / 1e6, 15);
    expect(c.runsPerMonth).toBeCloseTo(43_830, 6); // 365.25 / 12 days of minutes
    expect(c.monthlyUsd).toBeCloseTo(c.perRunUsd! * 43_830, 12);
  });

  it('counts every message', () => {
    expect(estimateInputTokens([{ role: 'system', content: 'abcd' }, { role: 'user', content: 'abcde' }])).toBe(3 + (1 + 4) + (2 + 4));
  });

  it('projects runs from a cron expression', () => {
    const weekly = estimateProbeCost(spec({ schedule: { cron: '0 10 * * 2', timezone: 'UTC' } }), SHIPPED_PRICING);
    expect(weekly.runsPerMonth).toBeCloseTo(52 / 12, 6); // 2025 has 52 Tuesdays
    expect(runsPerMonth({ cron: '*/5 * * * *', timezone: 'UTC' })).toBeCloseTo(12 * 24 * 365 / 12, 6);
    expect(runsPerMonth({ cron: '0 9-17 * * mon-fri', timezone: 'UTC' })).toBeCloseTo((9 * 261) / 12, 6);
    expect(cronRunsPerMonth('*/15 * * * * *')).toBeCloseTo(4 * 60 * 24 * 365 / 12, 6);
    expect(cronRunsPerMonth('0 0 L * *')).toBe(1); // node-cron's "last day of month" form
    expect(runsPerMonth({ everyMs: 300_000, timezone: 'UTC' })).toBeCloseTo(MONTH_MS / 300_000, 9);
  });

  it('gives null cost for a model without a price, and uses overrides', () => {
    expect(estimateProbeCost(spec({ model: 'my-model' }), SHIPPED_PRICING)).toMatchObject({ perRunUsd: null, monthlyUsd: null, pricedAs: null });
    const table = mergePricing({ 'my-model': { input_per_mtok: 1, output_per_mtok: 2 }, 'gpt-4o-mini': { input_per_mtok: 0, output_per_mtok: 0 } });
    expect(estimateProbeCost(spec({ model: 'my-model' }), table).perRunUsd).toBeCloseTo((17 + 20) / 1e6, 15);
    expect(estimateProbeCost(spec(), table).perRunUsd).toBe(0);
  });
});

describe('findPrice', () => {
  it('matches dated snapshots and prefixed names to their family, never a shorter family', () => {
    const family = (m: string) => findPrice(m, SHIPPED_PRICING)?.family ?? null;
    expect(family('gpt-4o-mini-2024-07-18')).toBe('gpt-4o-mini');
    expect(family('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(family('gpt-4.1-nano-2025-04-14')).toBe('gpt-4.1-nano');
    expect(family('claude-haiku-4-5-20251001')).toBe('claude-haiku-4-5');
    expect(family('claude-3-5-haiku-latest')).toBe('claude-3-5-haiku');
    expect(family('gemini-2.0-flash-001')).toBe('gemini-2.0-flash');
    expect(family('gemini-2.5-flash-lite')).toBe('gemini-2.5-flash-lite');
    expect(family('gemini-2.5-flash-preview-09-2025')).toBe('gemini-2.5-flash');
    expect(family('models/gemini-2.5-flash')).toBe('gemini-2.5-flash');
    expect(family('openai/gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(family('anthropic.claude-3-5-haiku-20241022-v1:0')).toBe('claude-3-5-haiku');
    expect(family('GPT-4o-Mini')).toBe('gpt-4o-mini');
    // Not snapshots: different models that merely share a prefix.
    expect(family('gpt-4o-audio-preview-x')).toBe(null);
    expect(family('gpt-4.1-turbo')).toBe(null);
    expect(family('gemini-2.5-flash-image')).toBe(null);
  });
});

describe('durations and suggestions', () => {
  it('parses durations with units only', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('14d')).toBe(1_209_600_000);
    for (const bad of ['60', '', '5 m', '-1s', '1w', 's']) expect(parseDuration(bad), bad).toBeNull();
    expect([60_000, 90_000, 1500, 86_400_000].map(formatDuration)).toEqual(['1m', '90s', '1500ms', '1d']);
  });

  it('validates cron with node-cron', () => {
    expect(checkCron('*/5 * * * *')).toEqual({ ok: true });
    expect(checkCron('0 0 31 2 *').ok).toBe(false);
    expect(checkCron('* * *').ok).toBe(false);
  });

  it('suggests only plausible corrections', () => {
    expect(closest('evry', ['every', 'cron'])).toBe('every');
    expect(closest('max_token', ['max_tokens', 'model'])).toBe('max_tokens');
    expect(closest('first-byte', ['first_byte', 'total'])).toBe('first_byte');
    expect(closest('zzzz', ['every', 'cron'])).toBeUndefined();
  });
});
