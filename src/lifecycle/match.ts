// Model-id matching shared by the poller, the inventory and the status-page mapping. Pure.
//
// Aliases vs snapshots: a model list names `gpt-4o-mini` and `gpt-4o-mini-2024-07-18` (OpenAI), only dated
// snapshots such as `claude-haiku-4-5-20251001` (Anthropic), or `models/gemini-2.0-flash-001` (Gemini). A
// configured alias is satisfied by itself in the list or by one of its dated snapshots.

/** Gemini names models `models/<id>`; LiteLLM-style ids carry `<provider>/`. Both reduce to the bare id. */
export function normalizeModel(id: string): string {
  let m = id.trim();
  if (m.startsWith('models/')) m = m.slice('models/'.length);
  const slash = /^(openai|anthropic|gemini|google)\/(.+)$/.exec(m);
  if (slash) m = slash[2];
  return m;
}

const globCache = new Map<string, RegExp>();

/** `*` matches any run of characters; everything else is literal. Whole-string match. */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map(escapeRe).join('.*')}$`);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re.test(value);
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

// Date-like suffixes of snapshots: -20251001, -2024-07-18, -0613, -001.
const SNAPSHOT_SUFFIX = /^(\d{8}|\d{4}-\d{2}-\d{2}|\d{3,4})$/;

/** True when `id` is a dated snapshot of `alias` (`claude-haiku-4-5` → `claude-haiku-4-5-20251001`). */
export function isSnapshotOf(alias: string, id: string): boolean {
  const base = alias.endsWith('-latest') ? alias.slice(0, -'-latest'.length) : alias;
  if (!id.startsWith(`${base}-`)) return false;
  return SNAPSHOT_SUFFIX.test(id.slice(base.length + 1));
}

/** The listed id that satisfies `model` (itself first, else its newest-looking snapshot), or null. */
export function satisfiedBy(model: string, listed: ReadonlySet<string>): string | null {
  const m = normalizeModel(model);
  if (listed.has(m)) return m;
  let best: string | null = null;
  for (const id of listed) if (isSnapshotOf(m, id) && (best === null || id > best)) best = id;
  return best;
}
