// Human-readable rendering of a ProbeResult for the CLI.
import type { ProbeResult } from '../domain.ts';

const ms = (v: number | null | undefined) => (v == null ? '-' : `${Math.round(v)} ms`);

export function formatResult(r: ProbeResult): string {
  const lines: string[] = [];
  const head = r.outcome === 'ok' ? 'OK' : r.outcome === 'degraded' ? 'DEGRADED' : r.outcome === 'unknown' ? 'UNKNOWN' : 'FAILED';
  lines.push(`${r.probeId}: ${head}${r.errorClass ? ` (${r.errorClass})` : ''}${r.errorMessage ? ` ${r.errorMessage}` : ''}`);
  lines.push(`  target        ${r.target} (${r.provider})`);
  lines.push(`  model         requested ${r.requestedModel}, served ${r.servedModel ?? '-'}${r.fingerprint ? `, fingerprint ${r.fingerprint}` : ''}`);
  if (r.gateway) {
    const g = r.gateway;
    lines.push(
      `  gateway       served by ${g.servedBy ?? '-'}${g.provider ? ` (${g.provider})` : ''}` +
        `${g.attemptedFallbacks != null ? `, fallbacks attempted ${g.attemptedFallbacks}` : ''}` +
        `${g.retryAttempts != null ? `, retries ${g.retryAttempts}` : ''}`,
    );
  }
  lines.push(`  http          ${r.httpStatus ?? '-'}${r.retryAfterSec != null ? `, retry-after ${r.retryAfterSec}s` : ''}${r.timeoutPhase ? `, timed out in ${r.timeoutPhase}` : ''}`);
  const t = r.timings;
  lines.push(`  timing        connect ${ms(t.connectMs)}, tls ${ms(t.tlsMs)}, ttfb ${ms(t.ttfbMs)}, ttft ${ms(t.ttftMs)}, total ${ms(t.totalMs)}` +
    (t.outputTokensPerSec != null ? `, ${t.outputTokensPerSec.toFixed(1)} tok/s` : ''));
  lines.push(`  tokens        in ${r.tokensIn ?? '-'}, out ${r.tokensOut ?? '-'}, cost ${r.costUsd == null ? '-' : '$' + r.costUsd.toFixed(6)}`);
  lines.push(`  finish        ${r.finishReason ?? '-'}${r.refusal ? `, refusal label ${r.refusal}` : ''}`);
  if (r.excerpt) lines.push(`  answer        ${JSON.stringify(r.excerpt.length > 120 ? r.excerpt.slice(0, 120) + '…' : r.excerpt)}`);
  for (const v of r.assertions) {
    lines.push(`  ${v.passed ? 'pass' : v.soft ? 'warn' : 'FAIL'}          ${v.assertion}: ${v.detail}`);
  }
  return lines.join('\n');
}
