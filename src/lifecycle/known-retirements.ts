// Known retirement dates of the first-party APIs (OpenAI, Anthropic, Gemini), shipped as the last-resort source
// (research/lifecycle_signals.md §5): model lists, in-band Gemini `modelStatus`, vigil.yaml `deprecations:` and
// webhooks come first, and the registry takes the earliest date of all origins. Every row names the page its
// date and replacement were read from and when. Rows were re-read on 2026-12-04 from the providers' deprecation
// pages; where a page's copy available to us was cut short, the row cites the secondary page that quotes the
// provider's table, and says so in `source`. Azure, Bedrock and Vertex set their own dates: Vigil reads those
// from their model lists (`model_lists:` in vigil.yaml), not from this table. Replacement is the provider's
// recommended one, null where it names none. A date in the past means the model is retired.

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

export const DEPRECATION_PAGES = {
  openai: 'https://developers.openai.com/api/docs/deprecations',
  anthropic: 'https://platform.claude.com/docs/en/about-claude/model-deprecations',
  gemini: 'https://ai.google.dev/gemini-api/docs/deprecations',
} as const;

const READ = '2026-12-04';

/** Where each row's date was read. Provider pages first; secondary pages only where they quote the provider's table. */
export const SOURCES = {
  openai: DEPRECATION_PAGES.openai,
  /** The 2026-10-23 batch as the OpenAI page listed it on 2026-10-15, quoted with the page's table. */
  openaiOct23: 'https://dev.to/importstatic/every-openai-model-shutdown-date-until-january-2027-and-what-replaces-it-1dfk',
  /** The 2026-12-11 replacements for gpt-5-nano, gpt-5-pro, o3 and o3-pro as re-read from the OpenAI page on 2026-11-22. */
  openaiDec11: 'https://github.com/samarthputhraya/Modelpin/releases/tag/v0.5.4',
  /** The page's 2025-11 entries (chatgpt-4o-latest, codex-mini-latest), archived. */
  openaiArchive: 'https://archive.li/3RThE',
  anthropic: DEPRECATION_PAGES.anthropic,
  /** Anthropic release notes for the 2026-06-15 retirement, as recorded with the official URL and retrieval time. */
  anthropicJun15: 'https://raw.githubusercontent.com/ottto-ai/ai-provider-watch/main/data/events/2026-06-15-anthropic-sonnet-4-opus-4-retirement.json',
  /** Anthropic release notes for the retirement of Claude Haiku 3. */
  anthropicHaiku3: 'https://24-ai.news/en/vijest/2026-04-21/anthropic-claude-haiku-3-retirement',
  /** Claude Opus 4.5 deprecation (2026-11-23) as read from Anthropic's model status table on 2026-11-26. */
  anthropicOpus45: 'https://github.com/samarthputhraya/Modelpin/releases/tag/v0.5.7',
  anthropicSonnet37: 'https://github.com/thevibeworks/claude-code-docs/pull/417',
  gemini: 'https://ai.google.dev/gemini-api/docs/deprecations.md.txt',
  /** gemini-2.5-pro / -flash shutdown of 2026-12-01 as the Gemini page listed it on 2026-11-10. */
  geminiDec1: 'https://dev.to/aideprecations/what-to-do-before-gemini-25-pro-and-25-flash-are-retired-on-december-1-2026-5gg9',
  /** Gemini 2.0 shutdowns (2026-06-01) from the Gemini page's 2026 table. */
  gemini20: 'https://dev.to/akaranjkar08/gemini-api-shutdowns-30-sept-omni-flash-preview-migration-guide-2jae',
  /** LiteLLM's published dates (upstream main 2026-07-24), only for models the provider pages above no longer list. */
  litellm: 'https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json',
} as const;

const row = (
  provider: KnownRetirement['provider'],
  models: readonly string[],
  shutdownAt: string,
  replacement: string | null,
  source: string,
  noted = READ,
): KnownRetirement[] => models.map((model) => ({ model, provider, shutdownAt, replacement, source, noted, url: DEPRECATION_PAGES[provider] }));

export const KNOWN_RETIREMENTS: readonly KnownRetirement[] = [
  // OpenAI
  ...row('openai', ['codex-mini-latest'], '2026-01-16', 'gpt-5-codex-mini', SOURCES.openaiArchive),
  ...row('openai', ['chatgpt-4o-latest'], '2026-02-17', 'gpt-5.1-chat-latest', SOURCES.openaiArchive),
  ...row('openai', ['gpt-3.5-turbo', 'gpt-3.5-turbo-0125'], '2026-10-23', 'gpt-5.6-terra', SOURCES.openaiOct23),
  ...row('openai', ['gpt-4', 'gpt-4-0613', 'gpt-4-1106-preview', 'gpt-4-turbo', 'gpt-4-turbo-2024-04-09'], '2026-10-23', 'gpt-5.6-sol', SOURCES.openaiOct23),
  ...row('openai', ['gpt-4o-2024-05-13'], '2026-10-23', 'gpt-5.6-sol', SOURCES.openaiOct23),
  ...row('openai', ['o1', 'o1-2024-12-17', 'o3-mini', 'o3-mini-2025-01-31', 'o1-pro', 'o1-pro-2025-03-19'], '2026-10-23', 'gpt-5.6-sol', SOURCES.openaiOct23),
  ...row('openai', ['o4-mini', 'o4-mini-2025-04-16'], '2026-10-23', 'gpt-5.6-terra', SOURCES.openaiOct23),
  ...row('openai', ['gpt-4.1-nano', 'gpt-4.1-nano-2025-04-14'], '2026-10-23', 'gpt-5.6-luna', SOURCES.openaiOct23),
  ...row('openai', ['gpt-image-1-mini', 'gpt-image-1.5', 'gpt-image-1.5-2025-12-16', 'chatgpt-image-latest'], '2026-12-01', 'gpt-image-2.6-sunburst', SOURCES.openai),
  ...row('openai', ['gpt-5', 'gpt-5-2025-08-07'], '2026-12-11', 'gpt-6.1-sol', SOURCES.openai),
  ...row('openai', ['gpt-5-mini', 'gpt-5-mini-2025-08-07'], '2026-12-11', 'gpt-6.1-terra', SOURCES.openai),
  ...row('openai', ['gpt-5-nano', 'gpt-5-nano-2025-08-07'], '2026-12-11', 'gpt-6-luna', SOURCES.openaiDec11),
  ...row('openai', ['gpt-5-pro', 'gpt-5-pro-2025-10-06', 'o3', 'o3-2025-04-16', 'o3-pro', 'o3-pro-2025-06-10'], '2026-12-11', 'gpt-6.1-sol', SOURCES.openaiDec11),
  ...row('openai', ['gpt-4o-2024-08-06', 'gpt-4o-2024-11-20', 'gpt-4o-mini-2024-07-18', 'gpt-4.1-2025-04-14', 'gpt-4.1-mini-2025-04-14'], '2027-01-14', 'gpt-6-luna', SOURCES.openai),
  ...row('openai', ['gpt-5.5-cyber-preview'], '2027-02-01', null, SOURCES.openai),
  ...row('openai', ['gpt-4-0314', 'gpt-4-0125-preview'], '2026-03-26', null, SOURCES.litellm, '2026-07-24'),
  ...row('openai', ['gpt-3.5-turbo-1106'], '2026-09-28', null, SOURCES.litellm, '2026-07-24'),
  // Anthropic
  ...row('anthropic', ['claude-3-opus-20240229'], '2026-01-05', null, SOURCES.anthropic),
  ...row('anthropic', ['claude-3-7-sonnet-20250219'], '2026-02-19', null, SOURCES.anthropicSonnet37),
  ...row('anthropic', ['claude-3-haiku-20240307'], '2026-04-20', 'claude-haiku-4-5', SOURCES.anthropicHaiku3),
  ...row('anthropic', ['claude-sonnet-4-20250514'], '2026-06-15', 'claude-sonnet-4-6', SOURCES.anthropicJun15),
  ...row('anthropic', ['claude-opus-4-20250514'], '2026-06-15', 'claude-opus-4-8', SOURCES.anthropicJun15),
  ...row('anthropic', ['claude-opus-4-5-20251101', 'claude-opus-4-5'], '2027-01-22', 'claude-opus-5-5', SOURCES.anthropicOpus45),
  // Gemini API (not Vertex)
  ...row('gemini', ['gemini-1.5-flash'], '2025-09-29', null, SOURCES.litellm, '2026-07-24'),
  ...row('gemini', ['gemini-2.5-flash-lite-preview-06-17'], '2025-11-18', null, SOURCES.litellm, '2026-07-24'),
  ...row('gemini', ['gemini-2.5-pro-preview-03-25', 'gemini-2.5-pro-preview-05-06', 'gemini-2.5-pro-preview-06-05'], '2025-12-02', 'gemini-3.1-pro-preview', SOURCES.gemini),
  ...row('gemini', ['gemini-3-pro-preview'], '2026-03-09', 'gemini-3.1-pro-preview', SOURCES.gemini),
  ...row('gemini', ['gemini-2.0-flash', 'gemini-2.0-flash-001', 'gemini-2.0-flash-lite', 'gemini-2.0-flash-lite-001'], '2026-06-01', null, SOURCES.gemini20),
  ...row('gemini', ['gemini-3-pro-image-preview'], '2026-06-25', 'gemini-3-pro-image', SOURCES.gemini),
  ...row('gemini', ['gemini-3.1-flash-image-preview'], '2026-06-25', 'gemini-3.1-flash-image', SOURCES.gemini),
  // From 2026-12-01 the Gemini API answers these with the replacement model (a silent swap, not an error).
  ...row('gemini', ['gemini-2.5-pro'], '2026-12-01', 'gemini-3.8-flash', SOURCES.geminiDec1),
  ...row('gemini', ['gemini-2.5-flash'], '2026-12-01', 'gemini-3.5-flash-lite', SOURCES.geminiDec1),
  ...row('gemini', ['gemini-omni-1.1-flash'], '2026-12-03', 'gemini-omni-1.2-flash', SOURCES.openaiDec11),
  ...row('gemini', ['gemini-3.1-flash-lite'], '2027-05-07', null, SOURCES.gemini),
];
