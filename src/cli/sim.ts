// `vigil sim`: the simulated provider fleet on loopback.
import { runSimCli } from '../sim/fleet.ts';
import { tokensOf } from './args.ts';
import type { Args } from './args.ts';

export async function simCommand(argv: Args): Promise<number> {
  // Options were checked by commander; the simulator reads its own flags from the tokens.
  await runSimCli(tokensOf(argv).filter((t) => t !== '--'));
  return 0;
}
