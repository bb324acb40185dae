// Gateway specifics for drills.
// - LiteLLM's `mock_testing_fallbacks: true` request field makes its router fail the primary deployment itself,
//   before any provider call, and walk the fallback list. It proves the fallback *config* only: a real failover
//   (a 529 from the provider, a reset, a timeout) is never exercised (LiteLLM #5512: the flag worked while a real
//   Anthropic overload did not fail over). Use it where no fault proxy can be put in front of the primary.
// - Portkey takes its routing per request in `x-portkey-config` (strategy.mode: fallback, targets[].custom_host),
//   and forwards client headers upstream only when `x-portkey-forward-headers` names them: the drill header
//   must be listed there or the proxy never sees it (checked against @portkey-ai/gateway 1.15.2).
import type { ProviderEndpoint } from '../domain.ts';
import type { HttpClient, HttpRequest } from '../http/types.ts';

/** Marks drill traffic; the proxy scopes a drill's faults to requests that carry its run id here. */
export const DRILL_HEADER = 'x-vigil-drill';

export const LITELLM_MOCK_FALLBACKS = { mock_testing_fallbacks: true } as const;

/** An HttpClient that adds `fields` to every JSON request body (probe requests are JSON objects). */
export function withBodyFields(http: HttpClient, fields: Record<string, unknown>): HttpClient {
  return {
    request(req: HttpRequest) {
      if (req.body === undefined) return http.request(req);
      let body: unknown;
      try {
        body = JSON.parse(req.body);
      } catch {
        return http.request(req);
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return http.request(req);
      return http.request({ ...req, body: JSON.stringify({ ...body, ...fields }) });
    },
    // The wrapped client belongs to its owner.
    close: async () => {},
  };
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * Headers for a drill's attempts: the drill header with the run id and, for a Portkey gateway, the instruction to
 * forward it upstream (merged with any forward list the endpoint already sends). LiteLLM forwards client headers
 * only with `forward_client_headers_to_llm_api: true` in its own config: nothing a request can ask for.
 */
export function drillHeaders(runId: string, endpoint: ProviderEndpoint | null, flavour: string | null): Record<string, string> {
  const out: Record<string, string> = { [DRILL_HEADER]: runId };
  if (flavour === 'portkey' && endpoint?.kind === 'gateway') {
    const existing = headerValue(endpoint.headers, 'x-portkey-forward-headers');
    const names = existing ? existing.split(',').map((s) => s.trim()).filter(Boolean) : [];
    if (!names.map((n) => n.toLowerCase()).includes(DRILL_HEADER)) names.push(DRILL_HEADER);
    out['x-portkey-forward-headers'] = names.join(',');
  }
  return out;
}

export interface PortkeyTarget {
  /** Portkey provider slug: openai, anthropic, google, vertex-ai, ... */
  provider: string;
  model?: string;
  /** Provider base including its version path, e.g. http://vigil:9465/proxy/anthropic/v1. */
  customHost?: string;
  /** Provider key (secret: the header is never logged). */
  apiKey?: string;
}

/**
 * An `x-portkey-config` value: fallback across `targets` in order. Without `onStatusCodes` Portkey falls back
 * on any non-2xx; with it, only on those codes (connection failures always).
 */
export function portkeyFallbackConfig(targets: readonly PortkeyTarget[], opts: { onStatusCodes?: number[] } = {}): string {
  return JSON.stringify({
    strategy: { mode: 'fallback', ...(opts.onStatusCodes ? { on_status_codes: opts.onStatusCodes } : {}) },
    targets: targets.map((t) => ({
      provider: t.provider,
      ...(t.apiKey ? { api_key: t.apiKey } : {}),
      ...(t.customHost ? { custom_host: t.customHost } : {}),
      ...(t.model ? { override_params: { model: t.model } } : {}),
    })),
  });
}
