// Whose fault is it: the same model probed through the gateway and directly (DESIGN "two vantage points").
// Pure functions; the daemon applies them to the availability detector's gateway signals and to every gateway
// result.
// - A gateway probe failing while a direct probe of the same model (and kind) works: the gateway's fault; the
//   incident goes to the gateway's owner (vigil.yaml `gateway.owner`, else the gateway probe's owner).
// - Failing on both paths: the provider's; the incident goes to the direct probe's owner and joins the
//   provider's alert group (its `provider` label is the provider's), so one outage is one notification.
// - No direct probe of that model, or none has a result yet: left as it is (nothing to compare with); a direct
//   success from before the gateway began failing: "not known yet" until the direct probe runs again.
// - The gateway answering from a fallback (it says so: LiteLLM's fallback count, Portkey's option index; else
//   the answer's model is not the one asked for): "on fallback", a warning, not a page; it resolves when the
//   primary answers again.
import { routeOf } from '../chaos/drill-safety.ts';
import type { ProbeResult, ProbeSpec, Signal } from '../domain.ts';
import { isFinal } from './availability.ts';

export const FALLBACK_DETECTOR = 'fallback';
/** The probe state /api/probes and the status page show while a gateway answers from a fallback. */
export const ON_FALLBACK = 'on fallback';

export function isGatewayTarget(target: string): boolean {
  return target === 'gateway' || target.startsWith('gateway:');
}

/** Direct (provider) probes of the same model and kind as a gateway probe. */
export function directPeers(gateway: Pick<ProbeSpec, 'model' | 'kind'>, probes: readonly ProbeSpec[]): ProbeSpec[] {
  return probes.filter((p) => p.target.startsWith('provider:') && p.model === gateway.model && p.kind === gateway.kind);
}

/** A served model that is the requested one (or a dated snapshot of it, or it with a provider prefix). */
function sameModel(requested: string, served: string): boolean {
  const s = served.slice(served.lastIndexOf('/') + 1);
  return s === requested || s.startsWith(`${requested}-`) || requested.startsWith(`${s}-`);
}

/** Whether a gateway answer came from a fallback rather than the primary. */
export function onFallback(spec: Pick<ProbeSpec, 'model'>, r: ProbeResult): boolean {
  if (r.outcome !== 'ok' && r.outcome !== 'degraded') return false;
  const route = routeOf(r, null);
  if (route !== 'unknown') return route === 'fallback';
  return r.servedModel !== null && !sameModel(spec.model, r.servedModel);
}

function hhmm(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

export interface Peer {
  spec: ProbeSpec;
  /** Its latest final result, if any. */
  last: ProbeResult | undefined;
}

/**
 * Attribute a firing availability signal of a gateway probe. `gatewayOwner`: vigil.yaml `gateway.owner`.
 * Returns the signal unchanged when there is nothing to compare with.
 */
export function attribute(signal: Signal, spec: ProbeSpec, peers: readonly Peer[], gatewayOwner: string | undefined): Signal {
  if (signal.status !== 'firing' || !isGatewayTarget(spec.target)) return signal;
  const judged = peers.flatMap((p) => (p.last !== undefined && isFinal(p.last) ? [{ spec: p.spec, last: p.last }] : []));
  if (judged.length === 0) return signal;
  // A success from before the gateway began failing says nothing about now: only later ones show the direct path
  // works. Without one, a failing direct probe makes it the provider's; with neither, wait for the direct probe's
  // next run (the gateway's next failure is attributed then).
  const since = typeof signal.evidence.since === 'string' ? Date.parse(signal.evidence.since) : Number.NaN;
  const answered = (p: { last: ProbeResult }) => p.last.outcome === 'ok' || p.last.outcome === 'degraded';
  const working = judged.find((p) => answered(p) && !(p.last.startedAt < since));
  if (!working && judged.every(answered)) {
    const stale = judged[0];
    return {
      ...signal,
      summary: `${signal.summary}; gateway or provider not known yet (${stale.spec.id} last answered at ${hhmm(stale.last.startedAt)}, before this began)`,
      labels: { ...signal.labels, attribution: 'pending' },
      evidence: { ...signal.evidence, attribution: 'pending', direct_probe: stale.spec.id },
    };
  }
  if (working) {
    const owner = gatewayOwner ?? spec.owner;
    return {
      ...signal,
      summary: `gateway fault: ${signal.summary}; the direct path works (${working.spec.id} ok at ${hhmm(working.last.startedAt)})`,
      labels: { ...signal.labels, owner, attribution: 'gateway' },
      evidence: { ...signal.evidence, attribution: 'gateway', direct_probe: working.spec.id, direct_outcome: working.last.outcome },
    };
  }
  const direct = judged.find((p) => !answered(p))!;
  const provider = direct.spec.target.slice('provider:'.length);
  return {
    ...signal,
    summary: `provider fault (${provider}, failing on both paths): ${signal.summary}; ${direct.spec.id} fails too (${direct.last.errorClass ?? 'failed'})`,
    labels: { ...signal.labels, owner: direct.spec.owner, provider, attribution: 'provider' },
    evidence: { ...signal.evidence, attribution: 'provider', direct_probe: direct.spec.id, direct_outcome: direct.last.outcome },
  };
}

/**
 * The "running on fallback" warning of a gateway probe, from its latest final result: firing while it is
 * answered by a fallback, resolved once the primary answers; null when the result says neither (a failure).
 */
export function fallbackSignal(spec: ProbeSpec, labels: Record<string, string>, r: ProbeResult): Signal | null {
  if (!isGatewayTarget(spec.target) || r.drillId || (r.outcome !== 'ok' && r.outcome !== 'degraded')) return null;
  const base = { detector: FALLBACK_DETECTOR, key: spec.id, labels: { ...labels, attribution: 'gateway' }, at: r.startedAt };
  if (onFallback(spec, r)) {
    const by = r.gateway?.servedBy ?? r.servedModel ?? 'a fallback';
    return {
      ...base,
      severity: 'warning',
      status: 'firing',
      summary: `${spec.id} running on fallback: the gateway answered from ${by}${r.servedModel ? ` (model ${r.servedModel})` : ''}, not the primary ${spec.model}`,
      evidence: { served_by: r.gateway?.servedBy ?? null, served_model: r.servedModel, attempted_fallbacks: r.gateway?.attemptedFallbacks ?? null, model: spec.model },
    };
  }
  return { ...base, severity: 'info', status: 'resolved', summary: `${spec.id} served by the primary again`, evidence: { served_by: r.gateway?.servedBy ?? null, served_model: r.servedModel } };
}
