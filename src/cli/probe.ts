// `vigil probe <id>`: run one probe now and print what a user would have felt.
import { systemClock } from '../clock.ts';
import { createHttpClient } from '../http/client.ts';
import { runnerDeps } from '../probes/deps.ts';
import { formatResult } from '../probes/format.ts';
import { runProbe } from '../probes/run.ts';
import { configDir, parse, unknownId, UsageError } from './args.ts';
import type { Args } from './args.ts';
import { missingForProbe } from '../config/requirements.ts';
import { loadForCommand } from './load.ts';

export async function probeCommand(argv: Args): Promise<number> {
  const { values, positionals } = parse(argv, {
    config: { type: 'string', short: 'c' },
    json: { type: 'boolean', default: false },
  });
  const id = positionals[0];
  // Only this probe's keys: its provider's (or the gateway's) and its own fields'.
  const config = loadForCommand('probe', configDir(values.config), (cfg, missing) => {
    const spec = cfg.probes.find((p) => p.id === id);
    return { what: `probe ${id}`, missing: spec ? missingForProbe(spec, missing) : [] };
  });
  const ids = config.probes.map((p) => p.id);
  if (!id) throw new UsageError(`which probe? ${ids.length} are configured; \`vigil validate\` lists them (e.g. ${ids.slice(0, 3).join(', ')})`);
  const spec = config.probes.find((p) => p.id === id);
  if (!spec) throw unknownId('probe', id, ids, '`vigil validate`');
  const http = createHttpClient();
  try {
    const result = await runProbe(spec, runnerDeps(config, http, systemClock));
    process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : formatResult(result) + '\n');
    // 3: nothing learnt about the target (Vigil's own fault), as `drill` uses it.
    return result.outcome === 'failed' ? 1 : result.outcome === 'unknown' ? 3 : 0;
  } finally {
    await http.close();
  }
}
