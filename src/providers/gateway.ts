// OpenAI-compatible gateways (LiteLLM, Portkey, OpenRouter, ...): the OpenAI wire format plus routing info.
import type { GatewayInfo } from '../domain.ts';
import type { Normalised, ProviderAdapter } from './types.ts';
import { isObject, lowerHeaders, shortMessage, str } from './errors.ts';
import { buildOpenAIRequest, createOpenAIStreamParser, parseOpenAIBody } from './openai.ts';

/**
 * Response headers worth keeping in `GatewayInfo.raw`. An allow-list, so nothing else (cookies, auth
 * echoes, upstream keys) can leak into stored results.
 */
export const GATEWAY_HEADERS = [
  'x-litellm-model-id',
  'x-litellm-model-api-base',
  'x-litellm-model-group',
  'x-litellm-attempted-fallbacks',
  'x-litellm-attempted-retries',
  'x-litellm-response-cost',
  'x-litellm-call-id',
  'x-portkey-last-used-option-index',
  'x-portkey-provider',
  'x-portkey-retry-attempt-count',
  'x-portkey-trace-id',
  'x-portkey-cache-status',
  'pydantic-ai-gateway-price-estimate',
] as const;

function count(v: string | undefined): number | null {
  return v !== undefined && /^\s*\d+\s*$/.test(v) ? Number(v) : null;
}

/** Drop `user:pass@` from a URL-valued header (an api base could carry credentials). */
function stripUserinfo(v: string): string {
  return v.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
}

/** What the body says about the upstream: Portkey/OpenRouter `provider`, OpenRouter `error.metadata.provider_name`. */
export function bodyProvider(json: unknown): string | null {
  if (!isObject(json)) return null;
  const direct = str(json.provider);
  if (direct) return direct;
  if (isObject(json.error) && isObject(json.error.metadata)) return str(json.error.metadata.provider_name);
  return null;
}

/** OpenRouter says only "Provider returned error"; the upstream's own words are in `error.metadata.raw`. */
function upstreamDetail(json: unknown): string | null {
  if (!isObject(json) || !isObject(json.error) || !isObject(json.error.metadata)) return null;
  return str(json.error.metadata.raw);
}

export function gatewayInfo(headers: Record<string, string>, providerFromBody: string | null): GatewayInfo {
  const h = lowerHeaders(headers);
  const raw: Record<string, string> = {};
  for (const name of GATEWAY_HEADERS) {
    const v = h[name];
    if (v !== undefined && v !== '') raw[name] = name === 'x-litellm-model-api-base' ? stripUserinfo(v) : v;
  }
  return {
    servedBy: str(h['x-litellm-model-id']) ?? str(h['x-portkey-last-used-option-index']),
    provider: str(h['x-portkey-provider']) ?? providerFromBody,
    // Portkey's option index says which target served, not how many were tried (loadbalance vs fallback), so
    // only LiteLLM's explicit count is reported.
    attemptedFallbacks: count(h['x-litellm-attempted-fallbacks']),
    retryAttempts: count(h['x-litellm-attempted-retries']) ?? count(h['x-portkey-retry-attempt-count']),
    raw,
  };
}

export const gatewayAdapter: ProviderAdapter = {
  kind: 'gateway',
  buildRequest: buildOpenAIRequest,
  parseResponse(status, headers, body): Normalised {
    const { result, json } = parseOpenAIBody(status, headers, body);
    const detail = upstreamDetail(json);
    const errorMessage = result.errorMessage && detail ? shortMessage(`${result.errorMessage}: ${detail}`) : result.errorMessage;
    return { ...result, errorMessage, gateway: gatewayInfo(headers, bodyProvider(json)) };
  },
  createStreamParser(_status, headers) {
    let provider: string | null = null;
    const inner = createOpenAIStreamParser((chunk) => {
      provider = bodyProvider(chunk) ?? provider;
    });
    return {
      push: inner.push,
      finish(cut) {
        return { ...inner.finish(cut), gateway: gatewayInfo(headers, provider) };
      },
    };
  },
};
