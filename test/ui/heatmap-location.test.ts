// The heatmap's location selector (location=): hidden on a one-location page, filters the cells to one vantage
// point, notes unknown or malformed names, and escapes every location string it prints. Run at several injected
// clocks (weekdays and hours, including a Thursday and the hour before midnight) so no result depends on the day.
import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/domain.ts';
import { HOUR_MS } from '../../src/store/store.ts';
import { renderPage } from '../../src/ui/routes.ts';
import { result, spec, tempStore, uiData } from './helpers.ts';

const CLOCKS = [
  Date.UTC(2026, 0, 14, 12, 30), // Wednesday midday
  Date.UTC(2026, 0, 15, 0, 10), // Thursday just after midnight
  Date.UTC(2026, 0, 18, 23, 50), // Sunday just before midnight
];
const HOSTILE = `"><script>alert(1)</script>`;

const s = spec('hm', { assertions: [{ max_ttft_ms: 1000 }] });

function at(t: number, location: string | undefined, ttft: number): ProbeResult {
  const r = result(s, t, { timings: { connectMs: 0, tlsMs: null, ttfbMs: 1, ttftMs: ttft, totalMs: ttft + 10, outputTokensPerSec: null } });
  if (location === undefined) delete r.location;
  else r.location = location;
  return r;
}

/** Every cell value of the probe's panel (data-v), as a sorted set. */
function cellValues(body: string): number[] {
  const panel = body.slice(body.indexOf('data-heatmap="hm"'));
  return [...new Set([...panel.matchAll(/data-v="(\d+)"/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

async function seeded(now: number, locations: (string | undefined)[]) {
  const store = tempStore();
  const rs: ProbeResult[] = [];
  // 30 hours of results, hourly: eu-west answers in 100 ms, us-east in 900 ms, a location-less row in 300 ms.
  for (let h = 1; h <= 30; h++) {
    for (const loc of locations) rs.push(at(now - h * HOUR_MS + 60_000, loc, loc === 'eu-west' ? 100 : loc === 'us-east' ? 900 : 300));
  }
  await store.insertResults(rs);
  // Rolled up to a few hours ago: the page reads rollups before the watermark and raw rows after it.
  await store.rollup(now - 5 * HOUR_MS);
  return uiData(store, [s], now);
}

describe.each(CLOCKS.map((c) => [new Date(c).toISOString(), c] as const))('heatmap location selector at %s', (_, NOW) => {
  it('one location: no selector and no location line (the page as it was)', async () => {
    const data = await seeded(NOW, ['eu-west']);
    const body = await renderPage(data, 'heatmap', new URLSearchParams());
    expect(body).not.toContain('name="location"');
    expect(body).not.toContain('data-location');
    expect(cellValues(body)).toEqual([100]);
  });

  it('two locations: a GET-form selector, every location by default, location= filters the cells', async () => {
    const data = await seeded(NOW, ['eu-west', 'us-east']);
    const all = await renderPage(data, 'heatmap', new URLSearchParams());
    const form = all.slice(all.indexOf('<form'), all.indexOf('</form>'));
    expect(form).toMatch(/method="get"/i);
    expect(form).toContain('<select id="hm-location" name="location">');
    expect(form).toContain('<option value="all" selected>All locations</option>');
    expect(form).toContain('<option value="eu-west">eu-west</option>');
    expect(form).toContain('<option value="us-east">us-east</option>');
    // Both together: each hour's p95 is the slower location's.
    expect(cellValues(all)).toEqual([900]);

    const eu = await renderPage(data, 'heatmap', new URLSearchParams('location=eu-west'));
    expect(cellValues(eu)).toEqual([100]);
    expect(eu).toContain('<option value="eu-west" selected>eu-west</option>');
    expect(eu).toContain('data-location="eu-west"');
    // The live region polls with the same selection.
    expect(eu).toContain('location=eu-west');
    const us = await renderPage(data, 'heatmap', new URLSearchParams('location=us-east&metric=total'));
    expect(cellValues(us)).toEqual([910]);
    expect(await renderPage(data, 'heatmap', new URLSearchParams('location=all'))).toContain('<option value="all" selected>');
  });

  it('unknown or malformed location: a visible note and every location shown, like a bad probe', async () => {
    const data = await seeded(NOW, ['eu-west', 'us-east']);
    const unknown = await renderPage(data, 'heatmap', new URLSearchParams('location=ap-south'));
    expect(unknown).toContain('No results from location "ap-south" in the last 7 days; showing every location.');
    expect(cellValues(unknown)).toEqual([900]);
    const bad = await renderPage(data, 'heatmap', new URLSearchParams(`location=${encodeURIComponent(HOSTILE)}`));
    expect(bad).toContain('is not a location name');
    expect(bad).not.toContain('<script>alert(1)');
    expect(bad).toContain('&lt;script&gt;');
    expect(cellValues(bad)).toEqual([900]);
    const long = await renderPage(data, 'heatmap', new URLSearchParams(`location=${'a'.repeat(5000)}`));
    expect(long).not.toContain('a'.repeat(65));
  });

  it('a hostile location name written to a shared store is escaped in the selector', async () => {
    // The hostile location's rows answer in 300 ms, eu-west's in 100 ms.
    const data = await seeded(NOW, ['eu-west', HOSTILE]);
    const body = await renderPage(data, 'heatmap', new URLSearchParams());
    expect(body).not.toContain('<script>alert(1)');
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).not.toMatch(/value=""><script>/);
    // It cannot be selected either: location= accepts only location names.
    const sel = await renderPage(data, 'heatmap', new URLSearchParams(`location=${encodeURIComponent(HOSTILE)}`));
    expect(sel).toContain('is not a location name');
    expect(cellValues(sel)).toEqual([300]);
    expect(cellValues(body)).toEqual([300]);
  });
});
