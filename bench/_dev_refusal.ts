import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { analyzeRefusal } from '../src/classify/refusal.ts';
const files = ['gpt4', 'llama2new', 'mistralinstruct'];
const show = process.argv[2] ?? '';
for (const f of files) {
  const rows = parse(readFileSync(`/work/shared/data/xstest/xstest_v2_completions_${f}.csv`), { columns: true }) as Record<string, string>[];
  let b = 0, t = 0;
  const conf: Record<string, number> = {};
  for (const r of rows) {
    const a = analyzeRefusal(r.completion);
    const gold = ({ '1': 'full_compliance', '2': 'full_refusal', '3': 'partial_refusal' } as Record<string, string>)[r.final_label[0]];
    if (a.label === gold) t++;
    if ((a.label !== 'full_compliance') === (gold !== 'full_compliance')) b++;
    const k = `${gold.slice(5, 9)}->${a.label.slice(5, 9)}`;
    conf[k] = (conf[k] ?? 0) + 1;
    if (a.label !== gold && (show === f || show === 'all')) {
      console.log(`--- ${r.id} gold=${gold} got=${a.label} r=${a.refusal.toFixed(2)} c=${a.compliance} [${a.reasons.join(',')}]\n${r.completion.slice(0, 400).replace(/\n+/g, ' ')}`);
    }
  }
  console.log(f, 'binary', (b / rows.length).toFixed(3), 'three', (t / rows.length).toFixed(3), JSON.stringify(conf));
}
