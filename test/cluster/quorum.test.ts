// Location quorum: one location failing is a warning to Vigil's owner naming that location; a majority (or
// min_failing_locations) failing is a page that lists them; a single instance pages as before.
import { describe, expect, it } from 'vitest';
import { LocationQuorum } from '../../src/cluster/quorum.ts';
import type { Signal } from '../../src/domain.ts';

const fire = (loc: string, at: number, severity: Signal['severity'] = 'critical'): Signal => ({
  detector: 'availability',
  key: 'openai-canary',
  severity,
  status: 'firing',
  summary: `openai-canary failing: timeout (seen from ${loc})`,
  evidence: { failures: 1 },
  labels: { probe: 'openai-canary', owner: 'search', provider: 'openai' },
  at,
});
const ok = (at: number): Signal => ({ ...fire('x', at), severity: 'info', status: 'resolved', summary: 'recovered' });
const brief = (ss: Signal[]) => ss.map((s) => `${s.status} ${s.severity} ${s.detector}:${s.key}${s.labels.locations ? ` [${s.labels.locations}]` : ''} → ${s.labels.owner}`);

describe('location quorum', () => {
  const quorum = (minFailing?: number) => new LocationQuorum({ owner: () => 'vigil-ops', minFailing: () => minFailing });

  it('an outage seen from one of three locations is one warning naming it, to Vigil\'s owner; no page', () => {
    const q = quorum();
    for (const loc of ['eu-west', 'us-east', 'ap-south']) expect(q.observe('openai-canary', loc, null)).toEqual([]);
    const w = q.observe('openai-canary', 'eu-west', fire('eu-west', 1));
    expect(brief(w)).toEqual(['firing warning location:openai-canary@eu-west → vigil-ops']);
    expect(w[0].summary).toContain('fails from eu-west only (1 of 3 locations; 2 needed to page): eu-west egress or regional outage');
    // Repeated failures from the same place change nothing.
    expect(q.observe('openai-canary', 'eu-west', fire('eu-west', 2))).toEqual([]);
    expect(brief(q.observe('openai-canary', 'eu-west', ok(3)))).toEqual(['resolved warning location:openai-canary@eu-west → vigil-ops']);
  });

  it('two of three is a page listing both; the single-location warning gives way to it', () => {
    const q = quorum();
    for (const loc of ['eu-west', 'us-east', 'ap-south']) q.observe('openai-canary', loc, null);
    q.observe('openai-canary', 'us-east', fire('us-east', 1));
    const page = q.observe('openai-canary', 'eu-west', fire('eu-west', 2));
    expect(brief(page)).toEqual([
      'firing critical availability:openai-canary [eu-west,us-east] → search',
      'resolved warning location:openai-canary@us-east → vigil-ops',
    ]);
    expect(page[0].summary).toContain('seen from eu-west, us-east (2 of 3 locations)');
    expect(page[0].evidence).toMatchObject({ failing_locations: 2, reporting_locations: 3 });
    // One recovers: below quorum again, the page resolves and the remaining location is warned about.
    expect(brief(q.observe('openai-canary', 'eu-west', ok(3)))).toEqual([
      'resolved critical availability:openai-canary [eu-west,us-east] → search',
      'firing warning location:openai-canary@us-east → vigil-ops',
    ]);
  });

  it('a single instance pages on its own failure, as before; min_failing_locations overrides the majority', () => {
    const solo = quorum();
    expect(brief(solo.observe('openai-canary', 'default', fire('default', 1)))).toEqual(['firing critical availability:openai-canary [default] → search']);
    expect(brief(solo.observe('openai-canary', 'default', ok(2)))).toEqual(['resolved critical availability:openai-canary [default] → search']);

    const strict = quorum(3);
    for (const loc of ['a', 'b', 'c']) strict.observe('p', loc, null);
    strict.observe('p', 'a', fire('a', 1));
    expect(brief(strict.observe('p', 'b', fire('b', 2))).filter((s) => s.includes('availability'))).toEqual([]);
    expect(brief(strict.observe('p', 'c', fire('c', 3)))[0]).toBe('firing critical availability:openai-canary [a,b,c] → search');
  });

  it('config problems (warnings) pass through once, wherever seen, and never count towards a page', () => {
    const q = quorum();
    for (const loc of ['a', 'b']) q.observe('openai-canary', loc, null);
    expect(brief(q.observe('openai-canary', 'a', fire('a', 1, 'warning')))).toEqual(['firing warning availability:openai-canary → search']);
    expect(q.observe('openai-canary', 'b', fire('b', 2, 'warning'))).toEqual([]);
  });
  it('lazy (latency): every firing verdict counts, the page reads as its worst location, and a quiet unit holds no state', () => {
    const live = ['eu-west', 'us-east', 'ap-south'];
    const q = new LocationQuorum({ owner: () => 'vigil-ops', minFailing: () => undefined, counts: () => true, reporting: () => live });
    // Verdicts of null for a unit nobody fires on keep nothing.
    for (const loc of live) expect(q.observe('openai-canary', loc, null)).toEqual([]);
    expect(q.size).toBe(0);
    // One anomaly (a warning from the detector) counts: a single-location warning, the three locations reporting.
    const w = q.observe('openai-canary', 'us-east', fire('us-east', 1, 'warning'));
    expect(brief(w)).toEqual(['firing warning location:openai-canary@us-east → vigil-ops']);
    expect(w[0].evidence.reporting_locations).toBe(3);
    // An SLO breach elsewhere makes two of three: the page takes the critical one's severity and words.
    const page = q.observe('openai-canary', 'eu-west', fire('eu-west', 2, 'critical'));
    expect(brief(page)).toEqual([
      'firing critical availability:openai-canary [eu-west,us-east] → search',
      'resolved warning location:openai-canary@us-east → vigil-ops',
    ]);
    expect(page[0].summary).toContain('(seen from eu-west)');
    q.observe('openai-canary', 'eu-west', ok(3));
    q.observe('openai-canary', 'us-east', ok(4));
    expect(q.size).toBe(0);
  });
});
