// Build the probe runner's dependencies from a loaded config.
import type { Clock } from '../clock.ts';
import type { VigilConfig } from '../config/types.ts';
import { findPrice } from '../config/pricing.ts';
import type { HttpClient } from '../http/types.ts';
import type { RunnerDeps } from './run.ts';

export function runnerDeps(config: VigilConfig, http: HttpClient, clock: Clock): RunnerDeps {
  return {
    http,
    clock,
    endpointFor(target) {
      const ep = config.endpoints[target];
      if (!ep) throw new Error(`unknown probe target "${target}" (known: ${Object.keys(config.endpoints).join(', ')})`);
      return ep;
    },
    priceFor(model) {
      return findPrice(model, config.pricing)?.price ?? null;
    },
  };
}
