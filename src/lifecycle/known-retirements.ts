// Known retirement dates for common models, shipped as the last-resort source (research/lifecycle_signals.md
// §5): model lists, vigil.yaml `deprecations:` and webhooks come first, and the registry takes the earliest
// date of all origins. Every row names where its date comes from and when that source was read. No dates
// are made up here: rows are the OpenAI, Anthropic and Gemini API entries of LiteLLM's
// `model_prices_and_context_window.json` that carry `deprecation_date` (upstream main as of 2026-07-24, the
// extract in shared/data/lifecycle/litellm_deprecation_dates.json), plus the retirements that research
// found reported differently elsewhere, kept as their own rows so the earlier date wins and the
// disagreement is visible. Azure, Vertex and Bedrock dates differ from the first-party APIs and are left out.
// Replacements are left empty where the source names none.

export interface KnownRetirement {
  model: string;
  /** Provider kind the id belongs to. */
  provider: 'openai' | 'anthropic' | 'gemini';
  /** YYYY-MM-DD (UTC). */
  shutdownAt: string;
  replacement: string | null;
  /** Where the date comes from. */
  source: string;
  /** When that source was read (YYYY-MM-DD). */
  noted: string;
  /** Provider's deprecation page, for the notice's docs link. */
  url: string;
}

const LITELLM = 'https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json';
const LITELLM_NOTED = '2026-07-24';
const WATCH = 'https://github.com/ottto-ai/ai-provider-watch';
const WATCH_NOTED = '2026-11-23';

export const DEPRECATION_PAGES = {
  openai: 'https://developers.openai.com/api/docs/deprecations',
  anthropic: 'https://platform.claude.com/docs/en/about-claude/model-deprecations',
  gemini: 'https://ai.google.dev/gemini-api/docs/deprecations',
} as const;

const lite = (provider: KnownRetirement['provider'], model: string, shutdownAt: string): KnownRetirement => ({
  model,
  provider,
  shutdownAt,
  replacement: null,
  source: LITELLM,
  noted: LITELLM_NOTED,
  url: DEPRECATION_PAGES[provider],
});

export const KNOWN_RETIREMENTS: readonly KnownRetirement[] = [
  // OpenAI (LiteLLM provider "openai")
  lite('openai', 'gpt-4-0613', '2025-06-06'),
  lite('openai', 'gpt-4-0125-preview', '2026-03-26'),
  lite('openai', 'gpt-4-0314', '2026-03-26'),
  lite('openai', 'gpt-4-1106-preview', '2026-03-26'),
  lite('openai', 'gpt-3.5-turbo-1106', '2026-09-28'),
  // Anthropic (LiteLLM provider "anthropic")
  lite('anthropic', 'claude-3-7-sonnet-20250219', '2026-02-19'),
  lite('anthropic', 'claude-3-opus-20240229', '2026-05-01'),
  lite('anthropic', 'claude-opus-4-20250514', '2026-05-14'),
  lite('anthropic', 'claude-sonnet-4-20250514', '2026-05-14'),
  lite('anthropic', 'claude-opus-4-1-20250805', '2026-08-05'),
  // Gemini API (LiteLLM provider "gemini"; ids without the "gemini/" prefix)
  lite('gemini', 'gemini-1.5-flash', '2025-09-29'),
  lite('gemini', 'imagen-3.0-generate-002', '2025-11-10'),
  lite('gemini', 'gemini-2.5-flash-lite-preview-06-17', '2025-11-18'),
  lite('gemini', 'gemini-3-pro-preview', '2026-03-09'),
  lite('gemini', 'gemini-2.0-flash', '2026-06-01'),
  lite('gemini', 'gemini-2.0-flash-001', '2026-06-01'),
  lite('gemini', 'gemini-2.0-flash-lite', '2026-06-01'),
  lite('gemini', 'gemini-2.0-flash-lite-001', '2026-06-01'),
  // Reported differently by ottto-ai/ai-provider-watch (research/lifecycle_signals.md §5).
  { model: 'claude-3-opus-20240229', provider: 'anthropic', shutdownAt: '2026-01-05', replacement: null, source: WATCH, noted: WATCH_NOTED, url: DEPRECATION_PAGES.anthropic },
  { model: 'claude-opus-4-20250514', provider: 'anthropic', shutdownAt: '2026-06-15', replacement: null, source: WATCH, noted: WATCH_NOTED, url: DEPRECATION_PAGES.anthropic },
  { model: 'claude-sonnet-4-20250514', provider: 'anthropic', shutdownAt: '2026-06-15', replacement: null, source: WATCH, noted: WATCH_NOTED, url: DEPRECATION_PAGES.anthropic },
];
