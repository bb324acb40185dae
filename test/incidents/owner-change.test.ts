// An open incident whose owner changes (a gateway failure attributed once the direct probe has run): the new
// owner is told, and every owner that got a trigger gets the resolve.
import { describe, expect, it } from 'vitest';
import { MIN, SEC, harness, signal } from './helpers.ts';

describe('owner changes while an incident is open', () => {
  it('pages the new owner and resolves for both', async () => {
    const h = harness(`
owners:
  platform: { pagerduty: "\${PD_SEARCH_ROUTING_KEY}" }
  gateway-team: { pagerduty: "\${PD_SEARCH_ROUTING_KEY}" }
receivers:
  pagerduty: {}
routes:
  - notify: [pagerduty]
defaults: { group_wait: 30s, group_interval: 1m }
`);
    const gw = { provider: 'gateway', probe: 'gateway-canary' };
    await h.manager.ingest(signal('gateway-canary', 'firing', { labels: { ...gw, owner: 'platform', attribution: 'pending' } }));
    await h.run(2 * MIN, 5 * SEC);
    await h.manager.ingest(signal('gateway-canary', 'firing', { labels: { ...gw, owner: 'gateway-team', attribution: 'gateway' } }));
    await h.run(2 * MIN, 5 * SEC);
    await h.manager.ingest(signal('gateway-canary', 'resolved', { severity: 'info', labels: { ...gw, owner: 'gateway-team', attribution: 'gateway' } }));
    await h.run(10 * MIN, 5 * SEC);
    const byOwner = (o: string) => h.pagerduty.delivered.filter((d) => d.n.owner === o).map((d) => d.n.action);
    expect(byOwner('platform')).toEqual(['trigger', 'resolve']);
    expect(byOwner('gateway-team')).toEqual(['trigger', 'resolve']);
  });
});
