// Reads the shipped Prometheus rules and Grafana dashboard: every PromQL expression in them, and the metric
// names each expression reads. Enough of PromQL's lexical structure to find selectors: strings, label
// matchers, range brackets and grouping label lists are removed first, then every identifier that is not a
// function call or a keyword is a metric name.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../..');
export const RULES = join(ROOT, 'deploy/prometheus/vigil-rules.yml');
export const DASHBOARD = join(ROOT, 'deploy/grafana/vigil-dashboard.json');

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan', 'atan2']);

export function metricNames(expr: string): Set<string> {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ')
    .replace(/\$\{?[A-Za-z_]\w*\}?/g, ' ');
  const out = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1].toLowerCase())) continue;
    out.add(m[1]);
  }
  return out;
}

export interface RuleExpr {
  where: string;
  expr: string;
}

export function ruleExprs(): RuleExpr[] {
  const doc = parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: String(r.expr) })));
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every panel target and every query variable (`label_values(selector, label)` → the selector). */
export function dashboardExprs(): RuleExpr[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: { name: string; type: string; query?: { query?: string } | string }[] } };
  const out: RuleExpr[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      if (p.panels) walk(p.panels);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
    const m = /^label_values\((.*),\s*\w+\)$/.exec(q.trim());
    if (!m) throw new Error(`variable ${v.name}: only label_values(selector, label) queries are expected, got ${q}`);
    out.push({ where: `variable $${v.name}`, expr: m[1] });
  }
  return out;
}

/** Grafana's variables replaced by values Prometheus accepts, so an expression can be checked by promtool. */
export function concrete(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?\w+\}?/g, '.*');
}
