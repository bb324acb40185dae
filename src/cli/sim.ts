// `vigil sim`: the simulated provider fleet on loopback.
import { runSimCli } from '../sim/fleet.ts';

export async function simCommand(argv: string[]): Promise<number> {
  await runSimCli(argv);
  return 0;
}
