// Retired vs retiring on the status page: the overview's card and the deprecations page count the same rows, a
// past date reads "Retired", and a retired model still in use is loud on both (it used to say "None known" on
// the overview beside a retired row on the deprecations page).
import { describe, expect, it } from 'vitest';
import type { DeprecationView } from '../../src/ui/data.ts';
import { renderPage } from '../../src/ui/routes.ts';
import { spec, tempStore, uiData } from './helpers.ts';

const NOW = Date.UTC(2026, 11, 4, 12, 0);
const view = (o: Partial<DeprecationView>): DeprecationView => ({ model: 'm', provider: 'openai', shutdownAt: '2027-01-14', daysLeft: 41, owners: [], usedBy: [], replacement: null, url: null, ...o });

async function pages(rows: DeprecationView[]): Promise<{ overview: string; deprecations: string }> {
  const data = uiData(tempStore(), [spec('c')], NOW, { deprecations: () => rows });
  return { overview: await renderPage(data, 'overview', new URLSearchParams()), deprecations: await renderPage(data, 'deprecations', new URLSearchParams()) };
}

describe('retirements on the status page', () => {
  it('a retired model still in use: a loud card on the overview and an alert on the deprecations page', async () => {
    const p = await pages([
      view({ model: 'gemini-2.5-flash', provider: 'gemini', shutdownAt: '2026-12-01', daysLeft: -3, owners: ['platform'], usedBy: ['probe gemini-canary'], replacement: 'gemini-3.5-flash-lite' }),
      view({ model: 'gpt-4o-mini-2024-07-18', owners: ['search'], replacement: 'gpt-6-luna' }),
    ]);
    expect(p.overview).toContain('Retired, still in use');
    expect(p.overview).toContain('gemini-2.5-flash');
    expect(p.overview).not.toContain('None known');
    expect(p.deprecations).toMatch(/role="alert"[^]*1 retired model is still in use[^]*gemini-2\.5-flash[^]*gemini-3\.5-flash-lite/);
    expect(p.deprecations).toMatch(/data-model="gemini-2.5-flash"[^>]*data-state="retired"[^]*Retired 3 days ago/);
    expect(p.deprecations).toMatch(/data-model="gpt-4o-mini-2024-07-18"[^>]*data-state="retiring"[^]*41 days left/);
  });

  it('a retired model nobody uses: the overview says so instead of "None known", the page shows it as retired', async () => {
    const p = await pages([view({ model: 'gpt-4o-2024-05-13', shutdownAt: '2026-10-23', daysLeft: -42 })]);
    expect(p.overview).toContain('None upcoming');
    expect(p.overview).toContain('1 listed model is already retired, none in use');
    expect(p.overview).not.toContain('None known');
    expect(p.deprecations).not.toContain('role="alert"');
    expect(p.deprecations).toContain('Retired 42 days ago');
  });

  it('the next retiring model, with retired unused ones mentioned; the shutdown day itself reads "Retired today"', async () => {
    const p = await pages([view({ model: 'old', shutdownAt: '2026-10-23', daysLeft: -42 }), view({ model: 'soon', daysLeft: 20, owners: ['platform'] }), view({ model: 'today', shutdownAt: '2026-12-04', daysLeft: 0 })]);
    expect(p.overview).toContain('Next retirement');
    expect(p.overview).toMatch(/soon on 2027-01-14 \(2 already retired, unused\)/);
    expect(p.deprecations).toContain('Retired today');
  });
});
