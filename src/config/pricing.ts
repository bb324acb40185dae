// Shipped list prices for common models, USD per million tokens (standard tier, text, no caching or
// batch discounts; Gemini 2.5 Pro at the ≤200k-token prompt rate). Used for cost estimates only.
// Sources: openai.com/api/pricing, docs.claude.com/en/docs/about-claude/pricing (platform.claude.com
// model pages), ai.google.dev/gemini-api/docs/pricing; checked 2025-11. Prices change: override or add
// models in vigil.yaml `pricing:`.

export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

export type PricingTable = Readonly<Record<string, ModelPrice>>;

const p = (inputPerMTok: number, outputPerMTok: number): ModelPrice => ({ inputPerMTok, outputPerMTok });

export const SHIPPED_PRICING: PricingTable = Object.freeze({
  // OpenAI
  'gpt-4o-mini': p(0.15, 0.6),
  'gpt-4o': p(2.5, 10),
  'gpt-4.1': p(2, 8),
  'gpt-4.1-mini': p(0.4, 1.6),
  'gpt-4.1-nano': p(0.1, 0.4),
  'gpt-5': p(1.25, 10),
  'gpt-5-mini': p(0.25, 2),
  'gpt-5-nano': p(0.05, 0.4),
  // Anthropic
  'claude-haiku-4-5': p(1, 5),
  'claude-sonnet-4-5': p(3, 15),
  'claude-sonnet-4': p(3, 15),
  'claude-opus-4-1': p(15, 75),
  'claude-3-7-sonnet': p(3, 15),
  'claude-3-5-haiku': p(0.8, 4),
  'claude-3-haiku': p(0.25, 1.25),
  // Google Gemini
  'gemini-2.5-pro': p(1.25, 10),
  'gemini-2.5-flash': p(0.3, 2.5),
  'gemini-2.5-flash-lite': p(0.1, 0.4),
  'gemini-2.0-flash': p(0.1, 0.4),
  'gemini-2.0-flash-lite': p(0.075, 0.3),
});

/** Shipped table with the user's entries on top (theirs win). */
export function mergePricing(overrides: Record<string, { input_per_mtok: number; output_per_mtok: number }>): PricingTable {
  const table: Record<string, ModelPrice> = { ...SHIPPED_PRICING };
  for (const [model, v] of Object.entries(overrides)) table[model.toLowerCase()] = p(v.input_per_mtok, v.output_per_mtok);
  return Object.freeze(table);
}

/**
 * Snapshot and version suffixes a family name may carry: `-2024-07-18`, `-20241022`, `-latest`, `-001`,
 * `-preview-09-2025`, `-exp`. Only these, so `gpt-4o-mini` never falls back to `gpt-4o`'s price.
 */
const SUFFIX_RE = /^(?:-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest|\d{3}|preview(?:-[\w-]+)?|exp(?:-[\w-]+)?|v\d+(?::\d+)?))+$/;

export interface PriceMatch {
  /** The table key that matched, e.g. `gpt-4o-mini` for `gpt-4o-mini-2024-07-18`. */
  family: string;
  price: ModelPrice;
}

/**
 * Price for a model as requested or served: exact name, else the longest family name followed only by a
 * snapshot suffix. Provider prefixes (`openai/…`, `models/…`, `anthropic.`) are ignored.
 */
export function findPrice(model: string, table: PricingTable): PriceMatch | null {
  const name = model.toLowerCase().replace(/^(?:[a-z0-9_-]+\/)+/, '').replace(/^anthropic\./, '');
  const exact = table[name];
  if (exact) return { family: name, price: exact };
  let best: string | null = null;
  for (const family of Object.keys(table)) {
    if (name.startsWith(family) && SUFFIX_RE.test(name.slice(family.length)) && (!best || family.length > best.length)) {
      best = family;
    }
  }
  return best ? { family: best, price: table[best] } : null;
}
