// The environment the shipped vigil.yaml reads its provider URLs and keys from, pointed at a simulated fleet.
// One definition for `vigil demo`, the end-to-end tests and the benchmarks. The simulator accepts any key.
import type { SimFleet } from './fleet.ts';

export function simEnv(urls: Pick<SimFleet['urls'], 'openai' | 'anthropic' | 'gemini' | 'gateway'>): Record<string, string> {
  return {
    OPENAI_BASE_URL: urls.openai,
    ANTHROPIC_BASE_URL: urls.anthropic,
    GEMINI_BASE_URL: urls.gemini,
    GATEWAY_BASE_URL: urls.gateway,
    OPENAI_API_KEY: 'sim-openai-key',
    ANTHROPIC_API_KEY: 'sim-anthropic-key',
    GEMINI_API_KEY: 'sim-gemini-key',
    GATEWAY_API_KEY: 'sim-gateway-key',
  };
}
