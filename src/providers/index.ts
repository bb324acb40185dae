// One adapter per wire protocol; the probe runner picks by the endpoint's kind.
import type { ProviderKind } from '../domain.ts';
import type { ProviderAdapter } from './types.ts';
import { anthropicAdapter } from './anthropic.ts';
import { gatewayAdapter } from './gateway.ts';
import { geminiAdapter } from './gemini.ts';
import { openaiAdapter } from './openai.ts';

const ADAPTERS: Record<ProviderKind, ProviderAdapter> = {
  openai: openaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  gateway: gatewayAdapter,
};

export function adapterFor(kind: ProviderKind): ProviderAdapter {
  const adapter = ADAPTERS[kind];
  if (!adapter) throw new Error(`no provider adapter for kind "${String(kind)}"`);
  return adapter;
}

export { anthropicAdapter, gatewayAdapter, geminiAdapter, openaiAdapter };
