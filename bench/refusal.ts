// Refusal classifier throughput on one core: classifies the XSTest completions (1,350 real answers of three
// models) in a loop for a few seconds. Without ../shared/data/xstest there is nothing representative to time, so
// it refuses to report (exit 2): built-in strings would be far shorter than real answers and flatter the classifier.
// The rate is per CPU-second of this process (wall time on a shared 2-core machine mostly measures the other
// processes), and XSTest's string match is timed in the same run as a floor to read the figure against.
// Run: npm run bench:refusal [-- seconds]
import { join } from 'node:path';
import { loadXstest, stringMatch, xstestPresent } from '../src/classify/cv-refusal.ts';
import { sharedDataDir } from '../src/detectors/cv/data-dir.ts';
import { classifyRefusal } from '../src/classify/refusal.ts';

const TARGET = 20_000;
const dir = join(sharedDataDir(), 'xstest');

if (!xstestPresent(dir)) {
  console.error(`bench:refusal: ${dir} is absent, so there is no figure to report: timing built-in strings would say nothing about real answers.`);
  console.error(`Put the XSTest completions there (../shared/data/xstest beside the repository) and run it again. Target (> ${TARGET.toLocaleString('en-US')}/s): not measured.`);
  process.exit(2);
}
const texts = Object.values(loadXstest(dir)).flatMap((rows) => rows.map((r) => r.completion));
const seconds = Number(process.argv[2] ?? 3);
const avgLen = Math.round(texts.reduce((a, t) => a + t.length, 0) / texts.length);

/** Classifications per CPU-second of `fn` over the texts, for about `secs` of CPU. */
function rate(fn: (t: string) => string, secs: number): { perSec: number; n: number; cpu: number } {
  for (let i = 0; i < 3; i++) for (const t of texts) fn(t); // warm up the JIT and the regex compiler
  let n = 0;
  let sink = 0;
  const c0 = process.cpuUsage();
  let cpu = 0;
  while (cpu < secs) {
    for (const t of texts) {
      if (fn(t) === 'full_refusal') sink++;
      n++;
    }
    const c = process.cpuUsage(c0);
    cpu = (c.user + c.system) / 1e6;
  }
  if (sink < 0) console.log(sink); // keep the result live
  return { perSec: n / cpu, n, cpu };
}

const ours = rate((t) => classifyRefusal(t), seconds);
const floor = rate(stringMatch, Math.min(1, seconds));
console.log(`refusal classifier: XSTest completions (${texts.length}), mean ${avgLen} chars`);
console.log(
  `${ours.n} classifications in ${ours.cpu.toFixed(2)} CPU-s on one core: ${Math.round(ours.perSec).toLocaleString('en-US')} /s (${(1e6 / ours.perSec).toFixed(1)} µs each)`,
);
console.log(`floor in the same run, XSTest string match: ${Math.round(floor.perSec).toLocaleString('en-US')} /s (the classifier costs ${(floor.perSec / ours.perSec).toFixed(1)}× as much)`);
console.log(`target (> ${TARGET.toLocaleString('en-US')}/s): ${ours.perSec > TARGET ? 'met' : 'missed'}`);
process.exitCode = ours.perSec > TARGET ? 0 : 1;
