// `vigil eval refusal|latency`: the evaluation contracts for the detectors (read CSV, write CSV).
import { evalRefusalCsv, EvalInputError } from '../classify/eval-refusal.ts';
import { evalLatencyCsv, evalLatencyDir, EvalLatencyInputError } from '../detectors/eval-latency.ts';
import { parse, UsageError } from './args.ts';

export async function evalCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  const { values } = parse(rest, {
    input: { type: 'string' },
    output: { type: 'string' },
    'input-dir': { type: 'string' },
    'output-dir': { type: 'string' },
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
        for (const [file, s] of Object.entries(summary)) process.stderr.write(`${file}: ${JSON.stringify(s)}\n`);
        return 0;
      }
      if (!values.input || !values.output) {
        throw new UsageError('eval latency needs --input FILE.csv --output OUT.csv, or --input-dir DIR --output-dir DIR');
      }
      const s = await evalLatencyCsv(values.input, values.output);
      process.stderr.write(`${values.input} → ${values.output}: ${JSON.stringify(s)}\n`);
      return 0;
    }
  } catch (err) {
    if (err instanceof EvalInputError || err instanceof EvalLatencyInputError) {
      process.stderr.write(`vigil eval ${what}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  throw new UsageError(`unknown evaluation "${what ?? ''}"; one of: refusal, latency`);
}
