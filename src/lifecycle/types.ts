// Shared shapes of the lifecycle module: a dated deprecation and who uses a model.

/** One dated retirement, from one origin. Dates are UTC calendar days (YYYY-MM-DD). */
export interface Deprecation {
  model: string;
  /** Provider kind (openai, anthropic, gemini) the id belongs to, or null when it applies to any. */
  provider: string | null;
  shutdownAt: string;
  replacement: string | null;
  url: string | null;
  /** `config`, `webhook:<source>`, `api:<provider name>`, `shipped`. */
  origin: string;
}

/** A probe or declared consumer that uses a model. */
export interface ModelUser {
  kind: 'probe' | 'consumer';
  id: string;
  owner: string;
  /** The model as configured (may be an alias or a pattern for consumers). */
  model: string;
  /** Provider kind when known (from the probe's endpoint or the consumer's `provider`). */
  providerKind: string | null;
  /** Provider name of vigil.yaml (`openai` of `provider:openai`) when known. */
  providerName: string | null;
  /** Snapshot the provider last served for this probe (aliases resolve through it). */
  served: string | null;
}
