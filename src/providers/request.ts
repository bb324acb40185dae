// Request-building helpers shared by the adapters.

/**
 * `{base}/{version}{path}`, without doubling the version when the configured base URL already ends in
 * one (`https://api.openai.com/v1`, `https://openrouter.ai/api/v1`, `.../v1beta`).
 */
export function apiUrl(baseUrl: string, version: string, path: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  if (/\/v\d+(?:alpha|beta)?\d*$/i.test(base)) return `${base}${path}`;
  return `${base}/${version}${path}`;
}

/**
 * Merge header sets case-insensitively, later sets winning (adapter defaults < endpoint < probe), so a
 * user's `Authorization` replaces ours instead of being sent twice.
 */
export function mergeHeaders(...sets: Array<Record<string, string> | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const set of sets) {
    if (!set) continue;
    for (const [k, v] of Object.entries(set)) out[k.toLowerCase()] = v;
  }
  return out;
}
