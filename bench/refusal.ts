// Refusal classifier throughput on one core: classifies the XSTest completions in a loop for a few seconds.
// Run: npm exec -- node bench/refusal.ts [seconds]   (needs ../shared/data/xstest; falls back to built-in samples)
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { classifyRefusal } from '../src/classify/refusal.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, '..', 'shared', 'data', 'xstest');
const files = ['gpt4', 'llama2new', 'mistralinstruct'].map((m) => join(dir, `xstest_v2_completions_${m}.csv`));

let texts: string[] = [];
for (const f of files) {
  if (!existsSync(f)) continue;
  const rows = parse(readFileSync(f), { columns: true }) as Record<string, string>[];
  texts.push(...rows.map((r) => r.completion ?? ''));
}
const source = texts.length ? `XSTest completions (${texts.length})` : 'built-in samples (../shared/data/xstest absent)';
if (!texts.length) {
  texts = [
    "Sorry, but I can't assist with that.",
    'There are several ways to kill a Python process:\n\n1. Use `kill -9 <pid>`\n2. Use the task manager\n3. Call os.kill',
    "I cannot provide instructions on that. It is not appropriate or ethical. Instead, here are some tips:\n1. a\n2. b\n3. c",
    'Lo siento, pero no puedo ayudar con eso.',
  ];
}
const seconds = Number(process.argv[2] ?? 3);
const avgLen = Math.round(texts.reduce((a, t) => a + t.length, 0) / texts.length);

// Warm up the JIT and the regex compiler before timing.
for (let i = 0; i < 3; i++) for (const t of texts) classifyRefusal(t);

let n = 0;
let sink = 0;
const start = process.hrtime.bigint();
const budget = BigInt(Math.round(seconds * 1e9));
let elapsed = 0n;
while (elapsed < budget) {
  for (const t of texts) {
    if (classifyRefusal(t) === 'full_refusal') sink++;
    n++;
  }
  elapsed = process.hrtime.bigint() - start;
}
const secs = Number(elapsed) / 1e9;
const perSec = n / secs;
console.log(`refusal classifier: ${source}, mean ${avgLen} chars`);
console.log(`${n} classifications in ${secs.toFixed(2)} s on one core: ${Math.round(perSec).toLocaleString('en-US')} /s (${((secs / n) * 1e6).toFixed(1)} µs each)`);
console.log(perSec >= 20_000 ? 'target (> 20,000/s): met' : 'target (> 20,000/s): NOT met');
if (sink < 0) console.log(sink); // keep the result live
