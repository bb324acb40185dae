// Projected canary cost: what one run costs at most and what a month of runs costs. Pure; an estimate,
// not a bill (no tokenizer: ≈ 4 characters per token, and the whole max_tokens budget is assumed spent).
import type { ProbeSpec } from '../domain.ts';
import { cronRunsPerMonth } from './cron.ts';
import { findPrice } from './pricing.ts';
import type { PricingTable } from './pricing.ts';

/** Average month: 365.25 / 12 days. */
export const MONTH_MS = (365.25 / 12) * 86_400_000;
/** Chat formats wrap each message in a few tokens (role, separators) and prime the reply with a few more. */
export const TOKENS_PER_MESSAGE = 4;
export const TOKENS_PER_REQUEST = 3;

export interface CostEstimate {
  model: string;
  /** Table entry used, or null when the model has no price. */
  pricedAs: string | null;
  inputTokens: number;
  /** Upper bound: max_tokens. */
  outputTokens: number;
  runsPerMonth: number;
  /** USD; null when the model has no price. */
  perRunUsd: number | null;
  monthlyUsd: number | null;
}

export function estimateInputTokens(messages: ProbeSpec['messages']): number {
  let tokens = TOKENS_PER_REQUEST;
  for (const m of messages) tokens += Math.ceil(m.content.length / 4) + TOKENS_PER_MESSAGE;
  return tokens;
}

/** Scheduled runs in an average month (confirmation re-probes after failures are extra). */
export function runsPerMonth(schedule: ProbeSpec['schedule']): number {
  if (schedule.cron) return cronRunsPerMonth(schedule.cron);
  if (schedule.everyMs && schedule.everyMs > 0) return MONTH_MS / schedule.everyMs;
  return 0;
}

export function estimateProbeCost(spec: ProbeSpec, pricing: PricingTable): CostEstimate {
  const inputTokens = estimateInputTokens(spec.messages);
  const outputTokens = spec.maxTokens;
  const runs = runsPerMonth(spec.schedule);
  const match = findPrice(spec.model, pricing);
  const perRunUsd = match
    ? (inputTokens * match.price.inputPerMTok + outputTokens * match.price.outputPerMTok) / 1_000_000
    : null;
  return {
    model: spec.model,
    pricedAs: match?.family ?? null,
    inputTokens,
    outputTokens,
    runsPerMonth: runs,
    perRunUsd,
    monthlyUsd: perRunUsd === null ? null : perRunUsd * runs,
  };
}
