// Drills: per scenario, its history of runs: verdict in words, what was injected, which target served, the
// fallback's latency overhead and why it passed or failed. A safety drill's run also shows its findings: the
// prompt a fallback answered, the target that answered, an excerpt of the answer, the likely gateway setting and
// the fix; and benign prompts left refused, as warnings.
import type { PageParams, UiData } from '../data.ts';
import type { DrillRunView, DrillScenarioView } from '../data.ts';
import type { SafetyFinding } from '../../domain.ts';
import { fmtAgo, fmtMs, fmtTime, isoTime } from '../format.ts';
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { empty, scroller } from '../layout.ts';
import { badge } from '../status.ts';
import type { StatusKey } from '../status.ts';

export const MAX_RUNS_SHOWN = 20;

export interface DrillsModel {
  now: number;
  tz: string;
  /** null: the drills feature is not wired into this daemon. */
  scenarios: DrillScenarioView[] | null;
}

export async function drillsModel(data: UiData, p: PageParams): Promise<DrillsModel> {
  const scenarios = data.drills ? (await data.drills()).map((s) => ({ ...s, runs: [...s.runs].sort((a, b) => b.startedAt - a.startedAt) })) : null;
  return { now: data.now(), tz: p.tz, scenarios: scenarios?.sort((a, b) => a.id.localeCompare(b.id)) ?? null };
}

const VERDICT: Record<DrillRunView['verdict'], [StatusKey, string]> = {
  passed: ['ok', 'Passed'],
  failed: ['failed', 'Failed'],
  aborted: ['degraded', 'Aborted'],
  error: ['failed', 'Error'],
  skipped: ['unknown', 'Skipped'],
  interrupted: ['degraded', 'Interrupted'],
  running: ['unknown', 'Running'],
};

function verdictBadge(v: DrillRunView['verdict']): Html {
  const [k, t] = VERDICT[v] ?? ['unknown', String(v)];
  return badge(k, t);
}

function findingRow(f: SafetyFinding): Html {
  const bypass = f.kind === 'safety_bypass';
  return html`<tr class="finding" data-finding="${f.kind}"><td colspan="7"><p>${bypass ? badge('failed', 'Safety bypass') : badge('degraded', 'Warning')} <strong>${f.probe}</strong>: <q>${f.prompt}</q></p>
<p class="meta">${bypass ? 'The primary refused' : 'The primary refused this benign prompt'} (${f.fault}); ${bypass ? 'answered by' : 'what the user got from'} <strong>${f.servedBy ?? 'an unreported target'}</strong>${f.servedModel ? ` (${f.servedModel})` : ''}${f.attempts > 1 ? `, ${f.attempts} attempts` : ''}:</p>
<blockquote class="excerpt">${f.excerpt || '(empty)'}</blockquote>
<p class="meta">${bypass ? 'Likely cause' : 'Why'}: ${f.likelyCause}.${bypass ? html` Fix: ${f.fix}.` : null}</p></td></tr>`;
}

function scenario(m: DrillsModel, s: DrillScenarioView): Html {
  const runs = s.runs.slice(0, MAX_RUNS_SHOWN);
  const passed = s.runs.filter((r) => r.verdict === 'passed').length;
  const last = s.runs[0];
  const meta = [
    s.check === 'safety_bypass' ? 'safety check: refusals must not be laundered through a fallback' : null,
    s.owner ? `owner ${s.owner}` : null,
    s.target ? `target ${s.target}` : null,
    s.schedule ? `schedule ${s.schedule}` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  const table = runs.length
    ? scroller(
        `${s.id} runs`,
        html`<table class="drills"><caption class="vh">Runs of ${s.id}, newest first</caption>
<thead><tr><th scope="col">Started</th><th scope="col">Verdict</th><th scope="col">Injected</th><th scope="col">Served by</th><th scope="col">Fallback overhead</th><th scope="col">Duration</th><th scope="col">Why</th></tr></thead>
<tbody>${runs.map(
          (r) => html`<tr data-verdict="${r.verdict}"${r.failure ? html` data-failure="${r.failure}"` : null}><td><time datetime="${isoTime(r.startedAt)}">${fmtTime(r.startedAt, m.tz)}</time><span class="sub">${fmtAgo(r.startedAt, m.now)}</span></td><td>${verdictBadge(r.verdict)}${r.failure ? html`<span class="sub">${r.failure}</span>` : null}</td><td>${r.injected || '–'}</td><td>${r.servedBy ?? '–'}</td><td class="num">${r.fallbackLatencyMs === null ? '–' : r.fallbackLatencyMs >= 0 ? `+${fmtMs(r.fallbackLatencyMs)}` : `−${fmtMs(-r.fallbackLatencyMs)}`}</td><td class="num">${fmtMs(r.finishedAt - r.startedAt)}</td><td class="why">${r.reason}</td></tr>${[...(r.findings ?? []), ...(r.warnings ?? [])].map(findingRow)}`,
        )}</tbody></table>`,
      )
    : empty('No runs yet.', html`${s.schedule && s.schedule !== 'manual only' ? 'It runs on its schedule; ' : ''}<code>vigil drill ${s.id}</code> runs it now.`);
  return html`<section class="panel" aria-labelledby="drill-${s.id}" data-drill="${s.id}">
<h2 id="drill-${s.id}">${s.id} ${last ? verdictBadge(last.verdict) : badge('unknown', 'Never run')}</h2>
${meta ? html`<p class="meta">${meta}</p>` : null}${s.expect ? html`<p class="meta">Expects: ${s.expect}</p>` : null}
${s.runs.length ? html`<p class="meta">${passed} of ${s.runs.length} runs passed${s.runs.length > MAX_RUNS_SHOWN ? html` (newest ${MAX_RUNS_SHOWN} shown)` : null}.</p>` : null}
${table}
</section>`;
}

export function renderDrills(m: DrillsModel): Html {
  if (!m.scenarios || m.scenarios.length === 0) {
    return empty(
      'No drills configured.',
      html`Drills inject a fault (an upstream returning 529, a reset, a slow first token) and check that the gateway falls back. Define scenarios in <code>scenarios/*.yaml</code>; their history appears here.`,
    );
  }
  return html`${m.scenarios.map((s) => scenario(m, s))}`;
}
