// Validated YAML (snake_case, strings with units) → the types the engine uses (camelCase, milliseconds,
// defaults applied). Runs only on input that passed the schema and the cross-file checks.
import path from 'node:path';
import type { Assertion, ChatMessage, ProbeSpec, ProviderEndpoint, ProviderKind, Timeouts } from '../domain.ts';
import { parseDuration } from './duration.ts';
import { mergePricing } from './pricing.ts';
import { latencySettings } from '../detectors/latency/config.ts';
import { serverSettings } from '../server/config.ts';
import type { AssertionInput, ProbeInput, VigilFile } from './schema.ts';
import type { VigilConfig } from './types.ts';

export const DEFAULT_BASE_URLS: Record<Exclude<ProviderKind, 'gateway'>, string> = {
  openai: 'https://api.openai.com',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
};

export const DEFAULT_API_VERSIONS: Partial<Record<ProviderKind, string>> = {
  anthropic: '2023-06-01',
  gemini: 'v1beta',
};

export const DEFAULT_TIMEOUTS = { connect: '5s', first_byte: '30s', total: '60s' } as const;

/** Duration that the schema already checked. */
function ms(text: string): number {
  const v = parseDuration(text);
  if (v === null) throw new Error(`unvalidated duration ${JSON.stringify(text)}`);
  return v;
}

export function resolveTimeouts(
  probe: { connect?: string; first_byte?: string; total?: string } | undefined,
  defaults: { connect?: string; first_byte?: string; total?: string },
): Timeouts {
  return {
    connectMs: ms(probe?.connect ?? defaults.connect ?? DEFAULT_TIMEOUTS.connect),
    firstByteMs: ms(probe?.first_byte ?? defaults.first_byte ?? DEFAULT_TIMEOUTS.first_byte),
    totalMs: ms(probe?.total ?? defaults.total ?? DEFAULT_TIMEOUTS.total),
  };
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

type GlobalPart = Omit<VigilConfig, 'files' | 'probes' | 'drills' | 'alerts' | 'webhooks' | 'modelLists' | 'consumers' | 'deprecations'>;

export function mapGlobal(v: VigilFile, dir: string): GlobalPart {
  const providers: Record<string, ProviderEndpoint> = {};
  const endpoints: Record<string, ProviderEndpoint> = {};
  for (const [name, p] of Object.entries(v.providers)) {
    const endpoint: ProviderEndpoint = {
      name,
      kind: p.kind,
      baseUrl: trimSlash(p.base_url ?? DEFAULT_BASE_URLS[p.kind]),
      headers: { ...(p.headers ?? {}) },
    };
    if (p.api_key) endpoint.apiKey = p.api_key;
    const apiVersion = p.api_version ?? DEFAULT_API_VERSIONS[p.kind];
    if (apiVersion) endpoint.apiVersion = apiVersion;
    providers[name] = endpoint;
    endpoints[`provider:${name}`] = endpoint;
  }
  let gateway: VigilConfig['gateway'] = null;
  if (v.gateway) {
    const endpoint: ProviderEndpoint = {
      name: 'gateway',
      kind: 'gateway',
      baseUrl: trimSlash(v.gateway.base_url),
      headers: { ...(v.gateway.headers ?? {}) },
    };
    if (v.gateway.api_key) endpoint.apiKey = v.gateway.api_key;
    gateway = { flavour: v.gateway.flavour, endpoint, ...(v.gateway.owner ? { owner: v.gateway.owner } : {}) };
    endpoints.gateway = endpoint;
  }
  const d = v.defaults;
  return {
    dir,
    chaos: v.chaos ?? null,
    heartbeat: v.heartbeat
      ? { url: v.heartbeat.url, method: v.heartbeat.method, everyMs: ms(v.heartbeat.every), timeoutMs: ms(v.heartbeat.timeout), headers: { ...v.heartbeat.headers } }
      : null,
    control: v.control ? { url: v.control.url, timeoutMs: ms(v.control.timeout) } : null,
    detectors: v.detectors ?? {},
    server: { host: v.server.host, port: v.server.port, ...serverSettings(v.server) },
    location: v.location ?? 'default',
    cluster: v.cluster?.min_failing_locations !== undefined ? { minFailingLocations: v.cluster.min_failing_locations } : {},
    storage: {
      ...(v.storage.url ? { url: v.storage.url } : {}),
      path: path.resolve(dir, v.storage.path),
      rawRetentionMs: ms(v.storage.raw_retention),
      rollupRetentionMs: ms(v.storage.rollup_retention),
      unwritableGraceMs: ms(v.storage.unwritable_grace),
      memoryBuffer: v.storage.memory_buffer,
    },
    scheduler: {
      confirmFailures: v.scheduler.confirm_failures,
      concurrencyPerProvider: v.scheduler.concurrency_per_provider,
      jitter: v.scheduler.jitter,
      shutdownGraceMs: ms(v.scheduler.shutdown_grace),
      probeThreads: v.scheduler.probe_threads,
    },
    defaults: {
      ...(d.owner ? { owner: d.owner } : {}),
      everyMs: ms(d.every),
      timezone: d.timezone,
      stream: d.stream,
      maxTokens: d.max_tokens,
      timeouts: resolveTimeouts(undefined, d.timeout),
    },
    providers,
    gateway,
    endpoints,
    pricing: mergePricing(v.pricing),
  };
}

export function mapMessages(p: ProbeInput): ChatMessage[] {
  if (p.messages) return p.messages.map((m) => ({ role: m.role, content: m.content }));
  const out: ChatMessage[] = [];
  if (p.system) out.push({ role: 'system', content: p.system });
  if (p.prompt) out.push({ role: 'user', content: p.prompt });
  return out;
}

export function mapAssertion(a: AssertionInput): Assertion {
  // The schema guarantees exactly one key is set.
  const [key, value] = Object.entries(a).find(([, v]) => v !== undefined)!;
  return { [key]: value } as Assertion;
}

export function mapProbe(p: ProbeInput, v: VigilFile, source: { file: string; line: number }): ProbeSpec {
  const d = v.defaults;
  const spec: ProbeSpec = {
    id: p.id,
    owner: (p.owner ?? d.owner)!,
    target: p.target,
    model: p.model,
    kind: p.kind,
    messages: mapMessages(p),
    stream: p.stream ?? d.stream,
    maxTokens: p.max_tokens ?? d.max_tokens,
    schedule: p.cron
      ? { cron: p.cron, timezone: p.timezone ?? d.timezone }
      : { everyMs: ms(p.every ?? d.every), timezone: p.timezone ?? d.timezone },
    timeouts: resolveTimeouts(p.timeout, d.timeout),
    assertions: (p.assert ?? []).map(mapAssertion),
    labels: { ...(p.labels ?? {}) },
    headers: { ...(p.headers ?? {}) },
    source,
  };
  if (p.locations) spec.locations = [...p.locations];
  if (p.temperature !== undefined) spec.temperature = p.temperature;
  spec.latency = latencySettings(p.latency, spec.schedule.timezone);
  return spec;
}
