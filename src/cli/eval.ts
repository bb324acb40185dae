// `vigil eval refusal|latency`: the evaluation contracts for the detectors (read CSV, write CSV).
import { evalRefusalCsv } from '../classify/eval-refusal.ts';
import { parse, UsageError } from './args.ts';

export async function evalCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  const { values } = parse(rest, {
    input: { type: 'string' },
    output: { type: 'string' },
    'input-dir': { type: 'string' },
    'output-dir': { type: 'string' },
  });
  if (what === 'refusal') {
    if (!values.input || !values.output) throw new UsageError('eval refusal needs --input FILE.csv --output OUT.csv');
    const counts = await evalRefusalCsv(values.input, values.output);
    process.stderr.write(`labelled ${values.input} → ${values.output}: ${JSON.stringify(counts)}\n`);
    return 0;
  }
  throw new UsageError(`unknown evaluation "${what ?? ''}"; one of: refusal`);
}
