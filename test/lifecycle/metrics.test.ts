// vigil_model_shutdown_timestamp_seconds: one series per model in use and owner, recomputed at each scrape.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { DeprecationRow } from '../../src/lifecycle/format.ts';
import { registerLifecycleMetrics } from '../../src/lifecycle/metrics.ts';

const row = (over: Partial<DeprecationRow>): DeprecationRow => ({
  model: 'gpt-4o-mini-2024-07-18',
  provider: 'openai',
  shutdownAt: '2027-01-14',
  daysLeft: 41,
  state: 'retiring',
  owners: ['platform', 'search'],
  usedBy: ['probe openai-canary'],
  replacement: 'gpt-6-luna',
  url: null,
  sources: [],
  disagreement: false,
  ...over,
});

describe('vigil_model_shutdown_timestamp_seconds', () => {
  it('exports the effective date per owner, drops unused rows, and follows the registry between scrapes', async () => {
    let rows: DeprecationRow[] = [row({}), row({ model: 'nobody-uses-me', owners: [] })];
    const reg = new Registry();
    registerLifecycleMetrics(reg, async () => rows);
    const text = await reg.metrics();
    expect(text).toContain('vigil_model_shutdown_timestamp_seconds{model="gpt-4o-mini-2024-07-18",provider="openai",owner="platform",replacement="gpt-6-luna"} 1799884800');
    expect(text).toContain('owner="search"');
    expect(text).not.toContain('nobody-uses-me');
    rows = [row({ model: 'gemini-2.5-flash', provider: 'gemini', shutdownAt: '2026-12-01', owners: ['platform'], replacement: null })];
    const next = await reg.metrics();
    expect(next).not.toContain('gpt-4o-mini');
    expect(next).toContain('vigil_model_shutdown_timestamp_seconds{model="gemini-2.5-flash",provider="gemini",owner="platform",replacement=""} 1796083200');
  });
});
