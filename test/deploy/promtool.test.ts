// The shipped Prometheus files through promtool (Debian's `prometheus` package; .ci/run installs it):
// `check rules`, `check config` on the example scrape config, the rules' unit tests, a mutation that the unit
// tests must catch, and every Grafana dashboard query parsed by Prometheus's own PromQL parser (as recording
// rules). Skipped, saying so, where promtool is not installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ROOT, RULES, concrete, dashboardExprs } from './queries.ts';

const PROMTOOL = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const DIR = join(ROOT, 'deploy/prometheus');
const tmp = mkdtempSync(join(tmpdir(), 'vigil-promtool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function promtool(args: string[], cwd = DIR): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe.skipIf(!PROMTOOL)(`deploy/prometheus with promtool${PROMTOOL ? '' : ' (promtool not installed: apt-get install prometheus)'}`, () => {
  it('check rules: the alerting rules are valid', () => {
    const r = promtool(['check', 'rules', 'vigil-rules.yml']);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code, r.out).toBe(0);
  });

  it('check config: the example scrape config (and the rules it loads) is valid', () => {
    const r = promtool(['check', 'config', 'prometheus.example.yml']);
    expect(r.code, r.out).toBe(0);
  });

  it('test rules: every alert fires when it should and not before', () => {
    const r = promtool(['test', 'rules', 'vigil-rules.test.yml', 'vigil-rules.long.test.yml']);
    expect(r.out).not.toMatch(/FAILED/);
    expect(r.code, r.out).toBe(0);
  }, 120_000);

  it('the unit tests catch a broken rule (VigilProbeDown waiting 10 minutes instead of 2)', () => {
    const rules = readFileSync(RULES, 'utf8');
    const broken = rules.replace(/(alert: VigilProbeDown\n\s+expr: [^\n]+\n\s+for: )2m/, '$110m');
    expect(broken).not.toBe(rules);
    writeFileSync(join(tmp, 'vigil-rules.yml'), broken);
    copyFileSync(join(DIR, 'vigil-rules.test.yml'), join(tmp, 'vigil-rules.test.yml'));
    const r = promtool(['test', 'rules', 'vigil-rules.test.yml'], tmp);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/FAILED[\s\S]*VigilProbeDown/);
  });

  it('every dashboard query is valid PromQL (parsed by promtool as recording rules)', () => {
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThan(20);
    const file = join(tmp, 'dashboard-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:query:${i}`, expr: concrete(e.expr) })) }] }));
    const r = promtool(['check', 'rules', file], tmp);
    expect(r.code, r.out).toBe(0);
  });
});
