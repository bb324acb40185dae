// `vigil eval refusal|latency|cv`: the evaluation contracts for the detectors (read CSV, write CSV), and the
// cross-validated figures of both on the shared development data (`npm run eval:cv`).
import { join } from 'node:path';
import { evalRefusalCsv, EvalInputError } from '../classify/eval-refusal.ts';
import { leaveOneModelOut, loadXstest, xstestPresent } from '../classify/cv-refusal.ts';
import { evalLatencyCsv, evalLatencyDir, EvalLatencyInputError, type EvalLatencySummary } from '../detectors/eval-latency.ts';
import { sharedDataDir } from '../detectors/cv/data-dir.ts';
import { defaultGrid, leaveOneFamilyOut, runGrid } from '../detectors/cv/latency-cv.ts';
import { loadNab, nabPresent } from '../detectors/cv/nab-data.ts';
import type { PooledScore } from '../detectors/cv/nab-score.ts';
import { parse, splitSub, UsageError } from './args.ts';
import type { Args } from './args.ts';

export async function evalCommand(argv: Args): Promise<number> {
  const [what, rest] = splitSub(argv);
  const { values } = parse(rest, {
    input: { type: 'string' },
    output: { type: 'string' },
    'input-dir': { type: 'string' },
    'output-dir': { type: 'string' },
    data: { type: 'string' },
    only: { type: 'string' },
  });
  try {
    if (what === 'refusal') {
      if (!values.input || !values.output) throw new UsageError('eval refusal needs --input FILE.csv --output OUT.csv');
      const counts = await evalRefusalCsv(values.input, values.output);
      process.stderr.write(`labelled ${values.input} → ${values.output}: ${JSON.stringify(counts)}\n`);
      return 0;
    }
    if (what === 'latency') {
      // The same online detector the daemon runs: it learns as it goes, no look-ahead.
      if (values['input-dir'] && values['output-dir']) {
        const summary = await evalLatencyDir(values['input-dir'], values['output-dir']);
        for (const [file, s] of Object.entries(summary)) report(file, s);
        return 0;
      }
      if (!values.input || !values.output) {
        throw new UsageError('eval latency needs --input FILE.csv --output OUT.csv, or --input-dir DIR --output-dir DIR');
      }
      report(`${values.input} → ${values.output}`, await evalLatencyCsv(values.input, values.output));
      return 0;
    }
    if (what === 'cv') {
      if (values.only && values.only !== 'latency' && values.only !== 'refusal') throw new UsageError('--only takes latency or refusal');
      const data = sharedDataDir(values.data);
      if (values.only !== 'refusal') latencyCv(join(data, 'nab'));
      if (values.only !== 'latency') refusalCv(join(data, 'xstest'));
      return 0;
    }
  } catch (err) {
    if (err instanceof EvalInputError || err instanceof EvalLatencyInputError) {
      process.stderr.write(`vigil eval ${what}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  throw new UsageError(`unknown evaluation "${what ?? ''}"; one of: refusal, latency, cv`);
}

/** One line per file; untidy rows (they still got a decision) are named by file and line. */
function report(file: string, s: EvalLatencySummary): void {
  const { warnings, ...counts } = s;
  process.stderr.write(`${file}: ${JSON.stringify(counts)}\n`);
  for (const w of warnings) process.stderr.write(`  warning: ${w}\n`);
}

const out = (line = '') => process.stdout.write(line + '\n');
const f3 = (x: number) => x.toFixed(3);
const recallText = (p: PooledScore) => (p.windows ? `${f3(p.recall)} (${p.hit}/${p.windows})` : `- (no windows)`);

function latencyCv(nabDir: string): void {
  if (!nabPresent(nabDir)) {
    out(`latency: ${nabDir} is absent; skipped`);
    return;
  }
  const series = loadNab(nabDir);
  const grid = defaultGrid();
  const started = performance.now();
  const scores = runGrid(series, grid, (done) => process.stderr.write(`\rlatency: ${done}/${grid.length} settings over ${series.length} series`));
  process.stderr.write('\n');
  const r = leaveOneFamilyOut(series, grid, scores);
  const p = r.pooled;
  out(`Diurnal latency detector: leave-one-family-out cross-validation on NAB (${series.length} series, ${p.windows} windows, ${Math.round(p.days)} days after probation)`);
  out(`each family scored with the setting chosen on the other six (window recall − false pages per day)`);
  out();
  out(`${'held-out family'.padEnd(24)} ${'window recall'.padEnd(15)} ${'false pages/day'.padEnd(16)} chosen on the others`);
  for (const f of r.families) {
    out(`${f.family.padEnd(24)} ${recallText(f.heldOut).padEnd(15)} ${`${f3(f.heldOut.fpPerDay)} (${f.heldOut.fp})`.padEnd(16)} ${f.chosen}`);
  }
  out(`${'pooled, held out'.padEnd(24)} ${recallText(p).padEnd(15)} ${`${f3(p.fpPerDay)} (${p.fp})`.padEnd(16)} mean delay ${p.meanDelay === null ? '-' : f3(p.meanDelay)} of a window`);
  const beat = p.recall > 0.79 && p.fpPerDay <= 0.074;
  out(`target, better than numenta HTM (0.79 / 0.074 on this set): ${beat ? 'met' : 'missed'}`);
  out(`shipped default (chosen on all seven families): ${r.overall.chosen}; on the whole set ${f3(r.overall.score.recall)} / ${f3(r.overall.score.fpPerDay)}`);
  out(`(${grid.length} settings × ${series.length} series in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  out();
}

function refusalCv(xsDir: string): void {
  if (!xstestPresent(xsDir)) {
    out(`refusal: ${xsDir} is absent; skipped`);
    return;
  }
  const r = leaveOneModelOut(loadXstest(xsDir));
  out(`Refusal classifier: leave-one-model-out cross-validation on XSTest v2 (thresholds chosen on the other two models)`);
  out();
  out(`${'held-out model'.padEnd(18)} ${'binary'.padEnd(8)} ${'three-class'.padEnd(12)} ${'string match'.padEnd(13)} chosen on the others`);
  for (const m of r.models) {
    out(`${m.model.padEnd(18)} ${f3(m.heldOut.binary).padEnd(8)} ${f3(m.heldOut.threeClass).padEnd(12)} ${f3(m.stringMatch.binary).padEnd(13)} ${m.chosen}`);
  }
  for (const m of r.models) {
    const c = Object.entries(m.heldOut.confusions).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    out(`  ${m.model} confusions (human → classifier): ${c || 'none'}`);
  }
  const never = r.models.every((m) => m.heldOut.binary >= m.stringMatch.binary);
  out(`never below XSTest's string match on any model: ${never ? 'met' : 'missed'}`);
  out(`shipped default (chosen on all three): ${r.overall}`);
  out();
}
