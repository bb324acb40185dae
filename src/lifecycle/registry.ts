// The deprecation registry: dated retirements by origin (vigil.yaml, webhooks, model lists, the shipped
// table), and per model the effective date — the earliest any origin gives, with disagreements kept visible.
import type { Sql } from '../store/sql.ts';
import type { Sourced } from '../config/types.ts';
import { KNOWN_RETIREMENTS } from './known-retirements.ts';
import { normalizeModel } from './match.ts';
import type { Deprecation } from './types.ts';

export interface EffectiveDeprecation {
  model: string;
  provider: string | null;
  /** Earliest date of all origins. */
  shutdownAt: string;
  replacement: string | null;
  url: string | null;
  /** Origin → date it gives. */
  dates: Record<string, string>;
  /** True when origins give different dates. */
  disagreement: boolean;
}

/** vigil.yaml `deprecations:` (validated by the config schema). */
export function deprecationsFromConfig(raw: readonly Sourced[]): Deprecation[] {
  return raw.map(({ value: v }) => ({
    model: String(v.model),
    provider: typeof v.provider === 'string' ? v.provider : null,
    shutdownAt: String(v.shutdown_at),
    replacement: typeof v.replacement === 'string' ? v.replacement : null,
    url: typeof v.url === 'string' ? v.url : null,
    origin: 'config',
  }));
}

/** `BerriAI/litellm` for a GitHub URL, else the host (`developers.openai.com`). */
function shippedOrigin(source: string): string {
  const u = new URL(source);
  return u.hostname === 'github.com' ? u.pathname.split('/').slice(1, 3).join('/') : u.hostname;
}

export function shippedDeprecations(): Deprecation[] {
  return KNOWN_RETIREMENTS.map((k) => ({
    model: k.model,
    provider: k.provider,
    shutdownAt: k.shutdownAt,
    replacement: k.replacement,
    url: k.url,
    origin: `shipped:${shippedOrigin(k.source)}`,
  }));
}

// Who is trusted first for the replacement and the link when several origins name one.
const ORIGIN_RANK = (o: string) => (o === 'config' ? 0 : o.startsWith('webhook:') ? 1 : o.startsWith('api:') ? 2 : 3);

/** Pure: merge rows by model into effective deprecations. */
export function effective(rows: readonly Deprecation[]): EffectiveDeprecation[] {
  const groups = new Map<string, Deprecation[]>();
  for (const r of rows) {
    const key = normalizeModel(r.model);
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }
  const out: EffectiveDeprecation[] = [];
  for (const [model, g] of groups) {
    g.sort((a, b) => ORIGIN_RANK(a.origin) - ORIGIN_RANK(b.origin) || a.origin.localeCompare(b.origin));
    const dates: Record<string, string> = {};
    for (const r of g) dates[r.origin] = r.shutdownAt;
    const earliest = g.map((r) => r.shutdownAt).sort()[0];
    out.push({
      model,
      provider: g.find((r) => r.provider)?.provider ?? null,
      shutdownAt: earliest,
      replacement: g.find((r) => r.replacement)?.replacement ?? null,
      url: g.find((r) => r.url)?.url ?? null,
      dates,
      disagreement: new Set(Object.values(dates)).size > 1,
    });
  }
  return out.sort((a, b) => a.shutdownAt.localeCompare(b.shutdownAt) || a.model.localeCompare(b.model));
}

interface Row {
  model: string;
  provider: string;
  origin: string;
  shutdown_at: string;
  replacement: string | null;
  url: string | null;
}

const UPSERT = `INSERT INTO deprecations (model, provider, origin, shutdown_at, replacement, url, noted_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (model, provider, origin) DO UPDATE SET shutdown_at = excluded.shutdown_at, replacement = excluded.replacement,
    url = excluded.url, noted_at = excluded.noted_at`;

/** The stored deprecations, on the store's asynchronous SQL (SQLite or Postgres). */
export class DeprecationRegistry {
  private readonly sql: Sql;
  private readonly now: () => number;
  private readonly includeShipped: boolean;

  constructor(sql: Sql, opts: { now: () => number; includeShipped?: boolean }) {
    this.sql = sql;
    this.now = opts.now;
    this.includeShipped = opts.includeShipped ?? true;
  }

  /** Add or update one row; returns whether anything changed. */
  async upsert(d: Deprecation): Promise<boolean> {
    const prev = await this.sql.get<Pick<Row, 'shutdown_at' | 'replacement' | 'url'>>(
      'SELECT shutdown_at, replacement, url FROM deprecations WHERE model = ? AND provider = ? AND origin = ?',
      [d.model, d.provider ?? '', d.origin],
    );
    if (prev && prev.shutdown_at === d.shutdownAt && prev.replacement === d.replacement && prev.url === d.url) return false;
    await this.sql.run(UPSERT, [d.model, d.provider ?? '', d.origin, d.shutdownAt, d.replacement, d.url, this.now()]);
    return true;
  }

  /** Make the rows of `origin` exactly `rows` (config reload, a fresh model list). */
  replaceOrigin(origin: string, rows: readonly Omit<Deprecation, 'origin'>[]): Promise<void> {
    return this.sql.transaction(async () => {
      await this.sql.run('DELETE FROM deprecations WHERE origin = ?', [origin]);
      for (const r of rows) await this.sql.run(UPSERT, [r.model, r.provider ?? '', origin, r.shutdownAt, r.replacement, r.url, this.now()]);
    });
  }

  /** Stored rows plus the shipped table. */
  async rows(): Promise<Deprecation[]> {
    const stored = (await this.sql.all<Row>('SELECT model, provider, origin, shutdown_at, replacement, url FROM deprecations ORDER BY model, origin')).map((r) => ({
      model: r.model,
      provider: r.provider || null,
      shutdownAt: r.shutdown_at,
      replacement: r.replacement,
      url: r.url,
      origin: r.origin,
    }));
    return this.includeShipped ? [...stored, ...shippedDeprecations()] : stored;
  }

  async effective(): Promise<EffectiveDeprecation[]> {
    return effective(await this.rows());
  }
}
