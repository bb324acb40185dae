// Typed webhook sources from vigil.yaml `webhooks:` (already validated by src/config/schema.ts). Secrets stay
// in these objects only: nothing here is logged or served.
import type { Signal } from '../domain.ts';
import { parseDuration } from '../config/duration.ts';
import type { Sourced } from '../config/types.ts';

export type SignalSink = (s: Signal) => void;

export const DEFAULT_MAX_BODY = 256 * 1024;
export const DEFAULT_TOLERANCE_MS = 5 * 60_000;

interface Common {
  name: string;
  /** Display name for signals (default: the source name). */
  displayName: string;
  provider: string | null;
  maxBody: number;
}

export interface StandardWebhooksSource extends Common {
  kind: 'standard-webhooks';
  /** `whsec_…` strings, current first. */
  secrets: string[];
  toleranceMs: number;
}

export interface GenericSource extends Common {
  kind: 'generic';
  secrets: string[];
  toleranceMs: number;
  requireTimestamp: boolean;
}

export interface ComponentMapping {
  provider: string | null;
  models: string[];
}

export interface StatuspageSource extends Common {
  kind: 'statuspage';
  token: string;
  pageId: string | null;
  /** By component name. */
  components: Record<string, ComponentMapping>;
}

export type WebhookSource = StandardWebhooksSource | GenericSource | StatuspageSource;

/** From `config.webhooks` (the loader's Sourced records). */
export function webhookSources(raw: Record<string, Sourced>): Map<string, WebhookSource> {
  const out = new Map<string, WebhookSource>();
  for (const [name, { value: v }] of Object.entries(raw)) out.set(name, toSource(name, v));
  return out;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

export function toSource(name: string, v: Record<string, unknown>): WebhookSource {
  const common: Common = {
    name,
    displayName: str(v.name) ?? name,
    provider: str(v.provider),
    maxBody: typeof v.max_body === 'number' ? v.max_body : DEFAULT_MAX_BODY,
  };
  const tolerance = str(v.tolerance);
  const toleranceMs = tolerance ? (parseDuration(tolerance) ?? DEFAULT_TOLERANCE_MS) : DEFAULT_TOLERANCE_MS;
  const secrets = [str(v.secret), str(v.previous_secret)].filter((s): s is string => s !== null);
  switch (v.kind) {
    case 'standard-webhooks':
      if (secrets.length === 0) throw new Error(`webhook source ${name}: no secret`);
      return { ...common, kind: 'standard-webhooks', secrets, toleranceMs };
    case 'generic':
      if (secrets.length === 0) throw new Error(`webhook source ${name}: no secret`);
      return { ...common, kind: 'generic', secrets, toleranceMs, requireTimestamp: v.require_timestamp === true };
    case 'statuspage': {
      const token = str(v.token);
      if (!token) throw new Error(`webhook source ${name}: no token`);
      const components: Record<string, ComponentMapping> = {};
      for (const [cname, c] of Object.entries((v.components ?? {}) as Record<string, { provider?: string; models?: string[] }>)) {
        components[cname] = { provider: str(c.provider), models: c.models ?? [] };
      }
      return { ...common, kind: 'statuspage', token, pageId: str(v.page_id), components };
    }
    default:
      throw new Error(`webhook source ${name}: unknown kind`);
  }
}
