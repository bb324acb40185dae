// alerts/*.yaml: errors at file:line:column through the real loader, mapping, routes test, CLI text.
import { describe, expect, it } from 'vitest';
import { formatErrors } from '../../src/config/errors.ts';
import { fileJsonSchema } from '../../src/config/json-schema.ts';
import { loadConfig } from '../../src/config/load.ts';
import { formatIncidents, formatRoutesTest } from '../../src/incidents/format.ts';
import { routesTest } from '../../src/incidents/manager.ts';
import { BASE_ALERTS, ENV, MIN, T0, alertsFromYaml, configDir, harness, signal } from './helpers.ts';

const BROKEN = `owners:
  search-team:
    slak: "#search-oncall"
routes:
  - match: { severity: critical }
    notify: [pagerduty, email]
    group_wait: 30
silences:
  - matchers: { provider: gemini }
    starts_at: "2026-11-24T00:00:00Z"
    ends_at: "2026-11-23T00:00:00Z"
    comment: upgrade
    created_by: ana
maintenance:
  - name: weekly
    cron: "0 2 * * 0"
    timezone: Europe/Berlim
    mode: mute
inhibit_rules:
  - source: { key: control }
    source_re: { provider: "(" }
defaults:
  flap: { flips: 1 }
`;

describe('alerts config errors', () => {
  it('every problem, each at file:line:column with its field path', () => {
    const { config, errors } = loadConfig(configDir({ 'alerts/routing.yaml': BROKEN }), { env: ENV });
    expect(config).toBeNull();
    const lines = formatErrors(errors).split('\n');
    expect(lines).toEqual([
      'alerts/routing.yaml:3:5  owners.search-team.slak  unknown key `slak`; hint: did you mean `slack`?',
      'alerts/routing.yaml:6:25  routes[0].notify[1]  expected one of "pagerduty", "slack", "console", got "email"',
      'alerts/routing.yaml:7:17  routes[0].group_wait  expected a duration like "60s", got the number 30; hint: write a number with a unit: "250ms", "30s", "5m", "1h" or "14d"',
      'alerts/routing.yaml:11:14  silences[0].ends_at  ends_at must be after starts_at',
      'alerts/routing.yaml:15:5  maintenance[0].duration  missing required field `duration` (a recurring window needs cron and duration)',
      'alerts/routing.yaml:17:15  maintenance[0].timezone  unknown time zone "Europe/Berlim"; hint: use an IANA name such as "UTC", "Europe/Berlin" or "America/New_York"',
      expect.stringMatching(/^alerts\/routing\.yaml:21:28 {2}inhibit_rules\[0\]\.source_re\.provider {2}invalid regular expression/),
      'alerts/routing.yaml:23:18  defaults.flap.flips  must be at least 2, got the number 1',
    ]);
  });

  it('defaults and receiver kinds may be set in one file only', () => {
    const { errors } = loadConfig(
      configDir({
        'alerts/a.yaml': 'defaults: { group_wait: 10s }\nreceivers:\n  slack: { token: "${SLACK_BOT_TOKEN}" }\n',
        'alerts/b.yaml': 'defaults: { group_wait: 20s }\nreceivers:\n  slack: { token: "${SLACK_BOT_TOKEN}" }\n',
      }),
      { env: ENV },
    );
    expect(formatErrors(errors)).toContain('alerts/b.yaml:1:1  defaults  `defaults` is already defined at alerts/a.yaml:1:11');
    expect(formatErrors(errors)).toContain('alerts/b.yaml:3:3  receivers.slack  `receivers.slack` is already defined at alerts/a.yaml:3:10');
  });

  it('a silence needs a matcher; a maintenance window needs a time', () => {
    const { errors } = loadConfig(
      configDir({
        'alerts/routing.yaml': `silences:
  - starts_at: "2026-01-01T00:00:00Z"
    ends_at: "2026-01-02T00:00:00Z"
    comment: all
    created_by: me
maintenance:
  - name: nothing
`,
      }),
      { env: ENV },
    );
    const text = formatErrors(errors);
    expect(text).toContain('alerts/routing.yaml:2:5  silences[0]  a silence needs at least one matcher');
    expect(text).toContain('alerts/routing.yaml:7:5  maintenance[0]  a maintenance window needs a time');
  });

  it('the JSON Schema export describes the real alert fields', () => {
    const js = JSON.stringify(fileJsonSchema('alerts'));
    for (const field of ['page_after', 'group_wait', 'repeat_interval', 'matchers_re', 'inhibit_rules', 'success_threshold']) expect(js).toContain(field);
  });
});

const FULL = `owners:
  search-team:
    slack: "#search-oncall"
    pagerduty: "\${PD_SEARCH_ROUTING_KEY}"
    escalation: { page_after: 15m, page_at_once: [critical, warning] }
  other-team:
    slack: "#other"
receivers:
  slack: { token: "\${SLACK_BOT_TOKEN}" }
escalation: { page_after: 10m }
routes:
  - match: { severity: critical }
    notify: [pagerduty, slack, pagerduty]
  - match: { severity: warning }
    notify: [slack]
  - match_re: { provider: "gateway.*" }
    notify: [console]
    continue: true
  - match: { provider: gateway-eu }
    notify: [slack]
    group_by: [model]
    group_wait: 5s
`;

describe('mapping', () => {
  it('durations, defaults, owner escalation inheriting the global one, secrets resolved', () => {
    const cfg = alertsFromYaml(FULL);
    expect(cfg.owners['search-team']).toMatchObject({
      slackChannel: '#search-oncall',
      pagerdutyRoutingKey: ENV.PD_SEARCH_ROUTING_KEY,
      escalation: { pageAfterMs: 15 * MIN, pageAtOnce: ['critical', 'warning'] },
    });
    expect(cfg.owners['other-team'].escalation).toEqual({ pageAfterMs: 10 * MIN, pageAtOnce: ['critical'] });
    expect(cfg.routes[0]).toMatchObject({ notify: ['pagerduty', 'slack'], groupBy: ['provider', 'detector'], groupWaitMs: 30_000, groupIntervalMs: 5 * MIN, repeatIntervalMs: 240 * MIN });
    expect(cfg.routes[3]).toMatchObject({ groupBy: ['model'], groupWaitMs: 5000 });
    expect(cfg.routes[0].source).toBe('alerts/routing.yaml:12');
    expect(cfg.root.notify).toEqual(['slack']);
    expect(cfg.availability).toEqual({ failureThreshold: 1, successThreshold: 2, degradedThreshold: 0, forMs: 0 });
    expect(cfg.flap).toEqual({ flips: 4, windowMs: 30 * MIN });
    expect(cfg.expireAfterMs).toBe(24 * 60 * MIN);
  });
});

describe('routes test', () => {
  it('first match wins; continue goes on; nothing matching goes to defaults.notify', () => {
    const c = alertsFromYaml(FULL);
    const crit = routesTest(c, { owner: 'search-team', severity: 'critical', provider: 'openai' }, [], T0);
    expect(crit.routes.map((r) => r.receivers.map((x) => `${x.kind}:${x.ok}`))).toEqual([['pagerduty:true', 'slack:true']]);
    const gw = routesTest(c, { owner: 'search-team', severity: 'info', provider: 'gateway-eu', model: 'm' }, [], T0);
    expect(gw.routes.map((r) => r.route)).toEqual(['routes[2] at alerts/routing.yaml:16', 'routes[3] at alerts/routing.yaml:19']);
    expect(gw.routes[1].groupKey).toBe('route3{owner="search-team",model="m"}');
    const none = routesTest(c, { owner: 'ghost', severity: 'info', provider: 'x' }, [], T0);
    expect(none.routes[0].route).toMatch(/^root/);
    expect(none.routes[0].receivers[0]).toMatchObject({ kind: 'slack', ok: false, note: 'owner "ghost" has no slack channel in alerts/' });
    const warn = routesTest(c, { owner: 'other-team', severity: 'warning', provider: 'openai' }, [], T0);
    expect(warn.routes[0].receivers).toEqual([{ kind: 'slack', name: 'other-team/slack', ok: true, note: 'at once' }]);
    const text = formatRoutesTest(crit);
    expect(text).toContain('routes[0] at alerts/routing.yaml:12  match severity="critical"');
    expect(text).toContain('→ pagerduty search-team/pagerduty: at once (severity critical pages at once)');
    expect(text).not.toContain(ENV.PD_SEARCH_ROUTING_KEY);
  });
});

describe('formatIncidents', () => {
  it('verbose: one line per incident with its notifications', async () => {
    const h = harness(BASE_ALERTS.replace('group_wait: 30s', 'group_wait: 0s'));
    await h.manager.ingest(signal('openai-canary', 'firing', { summary: 'openai-canary failing: rate_limited (HTTP 429) since 09:00 UTC, 1 confirmed failure' }));
    await h.run(18 * MIN, MIN);
    const text = formatIncidents(await h.manager.listIncidents(), h.clock.now(), { verbose: true });
    const lines = text.split('\n');
    expect(lines[0]).toBe('FIRING    critical  openai-canary  since 2026-01-05 09:00Z (18m)  openai-canary failing: rate_limited (HTTP 429) since 09:00 UTC, 1 confirmed failure');
    expect(lines[1]).toMatch(/^ {10}pagerduty trigger sent vigil-[0-9a-f]{32} {2}· {2}slack trigger sent C123:/);
    expect(lines[2]).toMatch(/^ {10}id inc-\S+ {2}owner search-team {2}detector availability$/);
    expect(formatIncidents([], 0)).toBe('no incidents');
  });
});
