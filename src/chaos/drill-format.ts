// Human-readable drill run for `vigil drill`: the verdict first, then the journal, step by step.
import type { DrillRun } from './drill.ts';
import { vsBaseline } from './judge.ts';

const MARK: Record<string, string> = { ok: '✓', failed: '✗', skipped: '-', error: '!', info: '·' };

export function formatDrillRun(run: DrillRun): string {
  const lines: string[] = [];
  const secs = ((run.finishedAt - run.startedAt) / 1000).toFixed(1);
  lines.push(`drill ${run.drillId}: ${run.verdict.toUpperCase()} (${secs}s, run ${run.runId})`);
  lines.push(`  ${run.reason}`);
  lines.push(`  injected:  ${run.injected}`);
  if (run.servedBy !== null) lines.push(`  served by: ${run.servedBy}`);
  if (run.baselineMs !== null) lines.push(`  baseline:  ${run.baselineMs} ms to first token`);
  if (run.fallbackLatencyMs !== null) lines.push(`  fallback:  ${vsBaseline(run.fallbackLatencyMs)}`);
  if (run.provesConfigOnly) lines.push('  note:      gateway-native mock: proves the fallback config, not a real failover');
  lines.push(`  rollback:  ${run.rollback.ok ? 'ok' : 'FAILED'} (${run.rollback.detail})`);
  for (const f of run.findings ?? []) {
    lines.push(`  SAFETY BYPASS (${f.probe}, ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}): "${f.prompt}"`);
    lines.push(`    primary refused with: ${f.fault}`);
    lines.push(`    answered by:          ${f.servedBy ?? 'an unreported target'}${f.servedModel ? ` (${f.servedModel})` : ''}: "${f.excerpt}"`);
    lines.push(`    likely cause:         ${f.likelyCause}`);
    lines.push(`    fix:                  ${f.fix}`);
  }
  for (const w of run.warnings ?? []) {
    lines.push(`  warning (${w.probe}): benign prompt left refused: "${w.prompt}" (${w.likelyCause})`);
  }
  lines.push('journal:');
  const t0 = run.startedAt;
  for (const e of run.journal) {
    const at = `+${((e.at - t0) / 1000).toFixed(2)}s`.padStart(8);
    lines.push(`  ${at} ${MARK[e.status] ?? ' '} ${e.step.padEnd(19)} ${e.detail}`);
  }
  return lines.join('\n');
}
