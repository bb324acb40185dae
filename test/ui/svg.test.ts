import { describe, expect, it } from 'vitest';
import { lineChart, sparkline } from '../../src/ui/svg.ts';

describe('svg charts', () => {
  it('sparkline: labelled, gaps break the line, isolated points still show, no NaN', () => {
    const out = sparkline({ values: [100, 120, null, 90, null, null, 300], upper: [150, 180, null, 100, null, null, 500], label: 'p50 <x>' }).value;
    expect(out).toMatch(/^<svg [^>]*role="img" aria-label="p50 &lt;x&gt;"><title>p50 &lt;x&gt;<\/title>/);
    const main = /<path class="spark-main" d="([^"]*)"/.exec(out)![1];
    expect(main.match(/M/g)).toHaveLength(3);
    expect(out).toContain('class="spark-main-dot"');
    expect(out).not.toContain('NaN');
    // Scaled 0..max: the largest value touches the top margin.
    expect(out).toMatch(/class="spark-upper" d="[^"]*M119 2"/);
    expect(sparkline({ values: [null, null], label: 'none' }).value).toContain('none: no data');
  });

  it('line chart: title and description, bands, markers inside the range only, values clamped to the axis', () => {
    const out = lineChart({
      title: 'Refusal rate',
      summary: 'benign 2 %',
      from: 0,
      to: 1000,
      series: [{ name: 'benign', cls: 'benign', points: [{ t: 0, v: 0 }, { t: 500, v: null }, { t: 1000, v: 1.4 }] }],
      bands: [{ name: 'baseline', cls: 'benign', low: 0.1, high: 0.2 }],
      markers: [{ t: 400, label: '1', title: 'swap' }, { t: 5000, label: '2', title: 'outside' }],
      yMax: 1,
      yTicks: [0, 0.5, 1],
      yFormat: (v) => `${v * 100}%`,
      xTicks: [{ t: 0, text: 'a' }],
    }).value;
    expect(out).toContain('<title>Refusal rate</title><desc>benign 2 %</desc>');
    expect(out).toContain('class="band band-benign"');
    expect(out.match(/class="marker"/g)).toHaveLength(1);
    expect(out).not.toContain('NaN');
    const ys = [...out.matchAll(/<circle[^>]* cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(18);
  });
});
