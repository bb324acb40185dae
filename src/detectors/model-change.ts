// Silent model change: per provider and requested model, what the provider says it served.
//  - pin mismatch: a dated snapshot was requested and something else was served (firing while it lasts);
//  - snapshot change: an alias (`gpt-4o-mini`) starts serving a snapshot it did not serve before;
//  - fingerprint change: OpenAI `system_fingerprint` shows a value not seen before (off-able, rate-limited, `info`).
// One signal per owner: the owners of every probe of that model and every declared consumer of it, so the
// incidents system routes each to its team.
//
// Noise handling: a new value must be seen in `persist` results (within `candidateTtlMs` of each other) before it
// counts; the first `learnResults` results of a stream are learnt silently, so gateways that load-balance across
// snapshots and fingerprints that rotate through a pool are learnt as a set, not flagged one by one; values not
// seen for `forgetAfterMs` are forgotten (a snapshot that comes back after a week is news again); results served
// after a gateway fallback, drill traffic and results without a served model are ignored. Fingerprint signals are
// rate-limited to one per `minIntervalMs` per stream (changes in between are learnt and counted in the next one).
import type { ProbeResult, ProbeSpec, Severity, Signal } from '../domain.ts';
import { ms, providerName } from './refusal-drift.ts';

export const MODEL_CHANGE = 'model_change';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type ChangeKind = 'pin_mismatch' | 'snapshot' | 'fingerprint';

export interface Consumer {
  id?: string;
  owner: string;
  models: string[];
}

export interface ModelChangeOptions {
  persist: number;
  candidateTtlMs: number;
  forgetAfterMs: number;
  learnResults: number;
  /** A snapshot or fingerprint change signal resolves this long after it fired (it is an event, not a state). */
  settleMs: number;
  severity: Severity;
  pinSeverity: Severity;
  fingerprint: { enabled: boolean; persist: number; minIntervalMs: number; severity: Severity };
  consumers: Consumer[];
  windowMs: number;
}

export const DEFAULT_MODEL_CHANGE: ModelChangeOptions = {
  persist: 3,
  candidateTtlMs: DAY,
  forgetAfterMs: 7 * DAY,
  learnResults: 10,
  settleMs: 6 * HOUR,
  severity: 'warning',
  pinSeverity: 'warning',
  fingerprint: { enabled: true, persist: 5, minIntervalMs: DAY, severity: 'info' },
  consumers: [],
  windowMs: 14 * DAY,
};

/** vigil.yaml `detectors.model_change`, already schema-checked; consumers come from vigil.yaml `consumers`. */
export interface ModelChangeYaml {
  persist?: number;
  candidate_ttl?: string;
  forget_after?: string;
  learn_results?: number;
  settle?: string;
  severity?: Severity;
  pin_severity?: Severity;
  fingerprint?: { enabled?: boolean; persist?: number; min_interval?: string; severity?: Severity };
  window?: string;
}

export function modelChangeOptionsFromYaml(y: ModelChangeYaml = {}, consumers: Consumer[] = []): Partial<ModelChangeOptions> {
  const o: Partial<ModelChangeOptions> = { consumers };
  if (y.persist !== undefined) o.persist = y.persist;
  if (y.learn_results !== undefined) o.learnResults = y.learn_results;
  if (y.candidate_ttl) o.candidateTtlMs = ms(y.candidate_ttl);
  if (y.forget_after) o.forgetAfterMs = ms(y.forget_after);
  if (y.settle) o.settleMs = ms(y.settle);
  if (y.window) o.windowMs = ms(y.window);
  if (y.severity) o.severity = y.severity;
  if (y.pin_severity) o.pinSeverity = y.pin_severity;
  if (y.fingerprint) {
    const f = y.fingerprint;
    const d = DEFAULT_MODEL_CHANGE.fingerprint;
    o.fingerprint = {
      enabled: f.enabled ?? d.enabled,
      persist: f.persist ?? d.persist,
      minIntervalMs: f.min_interval ? ms(f.min_interval) : d.minIntervalMs,
      severity: f.severity ?? d.severity,
    };
  }
  return o;
}

export interface ModelChangePlan {
  options: ModelChangeOptions;
  specs: Record<string, ProbeSpec>;
}

export function planModelChange(specs: readonly ProbeSpec[], options: Partial<ModelChangeOptions> = {}): ModelChangePlan {
  const o: ModelChangeOptions = {
    ...DEFAULT_MODEL_CHANGE,
    ...options,
    fingerprint: { ...DEFAULT_MODEL_CHANGE.fingerprint, ...options.fingerprint },
    consumers: options.consumers ?? [],
  };
  return { options: o, specs: Object.fromEntries(specs.map((s) => [s.id, s])) };
}

/** A dated snapshot: OpenAI `-2024-07-18`, Anthropic `-20251001`, Vertex `@20240620`, Gemini `-001`. */
export function isPinned(model: string): boolean {
  return /(?:-\d{4}-\d{2}-\d{2}|[-@]\d{8}|-\d{3})$/.test(model);
}

/** Provider spellings of the same id: Gemini's `models/` prefix. */
export function normaliseModel(m: string): string {
  return m.startsWith('models/') ? m.slice('models/'.length) : m;
}

// ---------------------------------------------------------------------------------------------------------------
// State

interface Tracker {
  /** value → last seen. */
  known: Record<string, number>;
  /** value → first/last seen and results seen in. */
  candidates: Record<string, { first: number; last: number; count: number }>;
  results: number;
  lastSignalAt: number | null;
  /** Changes learnt silently because of the rate limit since the last signal. */
  suppressed: number;
}

interface Firing {
  change: ChangeKind;
  old: string | null;
  new: string;
  firstSeen: number;
  at: number;
  /** When a snapshot/fingerprint signal resolves; null for pin mismatch (resolves when back on the pin). */
  resolveAt: number | null;
  owners: string[];
  alongside: boolean;
  suppressed: number;
}

interface Stream {
  provider: string;
  model: string;
  served: Tracker;
  fingerprint: Tracker;
  /** Pin: consecutive matching results while a mismatch fires; the mismatch candidate otherwise. */
  pin: { candidate: { value: string; first: number; last: number; count: number } | null; matches: number };
  firing: Partial<Record<ChangeKind, Firing>>;
}

export interface ModelChangeState {
  version: 1;
  streams: Record<string, Stream>;
}

export function newModelChangeState(): ModelChangeState {
  return { version: 1, streams: {} };
}

function newTracker(): Tracker {
  return { known: {}, candidates: {}, results: 0, lastSignalAt: null, suppressed: 0 };
}

// ---------------------------------------------------------------------------------------------------------------

interface Change {
  old: string | null;
  value: string;
  firstSeen: number;
  alongside: boolean;
  suppressed: number;
}

/** Feed one value into a tracker; returns a change when a new value has persisted. */
function trackValue(
  tr: Tracker,
  v: string,
  t: number,
  o: { persist: number; candidateTtlMs: number; forgetAfterMs: number; learnResults: number; minIntervalMs?: number },
): Change | null {
  tr.results++;
  // Forget stale values, but always keep the latest one seen: a long gap in probing must not hide a change.
  const latest = Object.entries(tr.known).sort((a, b) => b[1] - a[1])[0]?.[0];
  for (const [k, last] of Object.entries(tr.known)) if (k !== latest && last < t - o.forgetAfterMs) delete tr.known[k];
  for (const [k, c] of Object.entries(tr.candidates)) if (c.last < t - o.candidateTtlMs) delete tr.candidates[k];

  if (tr.known[v] !== undefined || tr.results <= o.learnResults) {
    tr.known[v] = Math.max(tr.known[v] ?? t, t);
    delete tr.candidates[v];
    return null;
  }
  const c = (tr.candidates[v] ??= { first: t, last: t, count: 0 });
  c.count++;
  c.last = t;
  if (c.count < o.persist) return null;
  delete tr.candidates[v];
  // The value it replaces: the known value seen most recently before the new one appeared.
  const before = Object.entries(tr.known).sort((a, b) => b[1] - a[1]);
  const old = before[0]?.[0] ?? null;
  const alongside = before.some(([, last]) => last > c.first);
  tr.known[v] = t;
  if (o.minIntervalMs !== undefined && tr.lastSignalAt !== null && t - tr.lastSignalAt < o.minIntervalMs) {
    tr.suppressed++;
    return null;
  }
  const suppressed = tr.suppressed;
  tr.suppressed = 0;
  tr.lastSignalAt = t;
  return { old, value: v, firstSeen: c.first, alongside, suppressed };
}

/** Who must hear about a change to `model` (or to the snapshots involved). */
export function ownersOf(plan: ModelChangePlan, provider: string, values: (string | null)[]): { owner: string; probes: string[]; consumers: string[] }[] {
  const names = new Set(values.filter((v): v is string => !!v));
  const by = new Map<string, { probes: string[]; consumers: string[] }>();
  const get = (o: string) => by.get(o) ?? by.set(o, { probes: [], consumers: [] }).get(o)!;
  for (const s of Object.values(plan.specs)) {
    if (names.has(s.model) && providerName(s.target) === provider) get(s.owner).probes.push(s.id);
  }
  for (const c of plan.options.consumers) {
    if (c.models.some((m) => names.has(m))) get(c.owner).consumers.push(c.id ?? c.owner);
  }
  return [...by].sort((a, b) => a[0].localeCompare(b[0])).map(([owner, v]) => ({ owner, ...v }));
}

/** Feed one result (in time order). Mutates `state`. */
export function observeModel(plan: ModelChangePlan, state: ModelChangeState, r: ProbeResult): Signal[] {
  const out = dueResolves(plan, state, r.startedAt);
  if (r.drillId || !r.servedModel) return out;
  if ((r.gateway?.attemptedFallbacks ?? 0) > 0) return out;
  const provider = providerName(r.target);
  const model = r.requestedModel;
  const key = `${provider}:${model}`;
  const st = (state.streams[key] ??= {
    provider,
    model,
    served: newTracker(),
    fingerprint: newTracker(),
    pin: { candidate: null, matches: 0 },
    firing: {},
  });
  const o = plan.options;
  const t = r.startedAt;
  const served = normaliseModel(r.servedModel);

  if (isPinned(model)) {
    const matches = served === model || served.startsWith(model);
    if (st.firing.pin_mismatch) {
      st.pin.matches = matches ? st.pin.matches + 1 : 0;
      if (st.pin.matches >= o.persist) {
        out.push(...signals(plan, st, st.firing.pin_mismatch, 'resolved', t));
        delete st.firing.pin_mismatch;
        st.pin.matches = 0;
      }
    } else if (!matches) {
      const c = st.pin.candidate && st.pin.candidate.value === served && st.pin.candidate.last >= t - o.candidateTtlMs ? st.pin.candidate : { value: served, first: t, last: t, count: 0 };
      c.count++;
      c.last = t;
      st.pin.candidate = c;
      if (c.count >= o.persist) {
        st.pin.candidate = null;
        st.pin.matches = 0;
        const f = fire(plan, st, 'pin_mismatch', { old: model, value: served, firstSeen: c.first, alongside: false, suppressed: 0 }, t, null);
        out.push(...signals(plan, st, f, 'firing', t));
      }
    } else {
      st.pin.candidate = null;
    }
  } else {
    const change = trackValue(st.served, served, t, o);
    if (change) out.push(...signals(plan, st, fire(plan, st, 'snapshot', change, t, t + o.settleMs), 'firing', t));
  }

  if (o.fingerprint.enabled && r.fingerprint) {
    const change = trackValue(st.fingerprint, r.fingerprint, t, { ...o, persist: o.fingerprint.persist, minIntervalMs: o.fingerprint.minIntervalMs });
    if (change) out.push(...signals(plan, st, fire(plan, st, 'fingerprint', change, t, t + o.settleMs), 'firing', t));
  }
  return out;
}

function fire(plan: ModelChangePlan, st: Stream, change: ChangeKind, c: Change, at: number, resolveAt: number | null): Firing {
  const owners = ownersOf(plan, st.provider, [st.model, c.old, c.value]).map((x) => x.owner);
  const f: Firing = { change, old: c.old, new: c.value, firstSeen: c.firstSeen, at, resolveAt, owners, alongside: c.alongside, suppressed: c.suppressed };
  st.firing[change] = f;
  return f;
}

/** Resolve snapshot/fingerprint signals whose settle time has passed. */
function dueResolves(plan: ModelChangePlan, state: ModelChangeState, now: number): Signal[] {
  const out: Signal[] = [];
  for (const st of Object.values(state.streams)) {
    for (const kind of ['snapshot', 'fingerprint'] as const) {
      const f = st.firing[kind];
      if (f && f.resolveAt !== null && now >= f.resolveAt) {
        out.push(...signals(plan, st, f, 'resolved', f.resolveAt));
        delete st.firing[kind];
      }
    }
  }
  return out;
}

/** Call periodically (e.g. every minute) so change signals resolve on time even when results stop. */
export function tickModelChange(plan: ModelChangePlan, state: ModelChangeState, now: number): Signal[] {
  return dueResolves(plan, state, now);
}

export function replayModelChange(
  plan: ModelChangePlan,
  results: Iterable<ProbeResult>,
  state: ModelChangeState = newModelChangeState(),
): { state: ModelChangeState; signals: Signal[] } {
  const out: Signal[] = [];
  for (const r of results) for (const s of observeModel(plan, state, r)) out.push(s);
  return { state, signals: out };
}

export function activeModelSignals(plan: ModelChangePlan, state: ModelChangeState): Signal[] {
  const out: Signal[] = [];
  for (const st of Object.values(state.streams)) for (const f of Object.values(st.firing)) if (f) out.push(...signals(plan, st, f, 'firing', f.at));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

function iso(t: number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function severity(o: ModelChangeOptions, c: ChangeKind): Severity {
  return c === 'fingerprint' ? o.fingerprint.severity : c === 'pin_mismatch' ? o.pinSeverity : o.severity;
}

function describe(st: Stream, f: Firing): string {
  const where = `${st.provider} ${st.model}`;
  if (f.change === 'pin_mismatch') return `${where}: pinned snapshot requested but ${f.new} served (since ${iso(f.firstSeen)})`;
  const what = f.change === 'snapshot' ? 'serves snapshot' : 'system_fingerprint changed to';
  const from = f.old ? ` (was ${f.old}${f.alongside ? ', still served too' : ''})` : '';
  return `${where} ${what} ${f.new}${from} since ${iso(f.firstSeen)}`;
}

/** One signal per owner (key `<provider>:<model>:<change>:<owner>`), or one unowned signal when nobody is known. */
function signals(plan: ModelChangePlan, st: Stream, f: Firing, status: 'firing' | 'resolved', at: number): Signal[] {
  const current = ownersOf(plan, st.provider, [st.model, f.old, f.new]);
  // A resolve goes to exactly the owners the firing went to (the config may have changed since).
  const who =
    status === 'resolved' ? f.owners.map((o) => current.find((c) => c.owner === o) ?? { owner: o, probes: [], consumers: [] }) : current;
  const owners = who.length ? who : [{ owner: '', probes: [], consumers: [] }];
  const resolvedText = f.change === 'pin_mismatch' ? 'back on the pinned snapshot' : 'change acknowledged window over';
  return owners.map((w) => ({
    detector: MODEL_CHANGE,
    key: `${st.provider}:${st.model}:${f.change}${w.owner ? `:${w.owner}` : ''}`,
    severity: severity(plan.options, f.change),
    status,
    summary: status === 'firing' ? `Model change: ${describe(st, f)}` : `Model change resolved (${resolvedText}): ${describe(st, f)}`,
    evidence: {
      change: f.change,
      old: f.old,
      new: f.new,
      first_seen: iso(f.firstSeen),
      detected_at: iso(f.at),
      old_still_served: f.alongside,
      changes_not_signalled: f.suppressed,
      probes: w.probes.join(',') || null,
      consumers: w.consumers.join(',') || null,
      owners: who.map((x) => x.owner).join(',') || null,
    },
    labels: { ...(w.owner ? { owner: w.owner } : {}), provider: st.provider, model: st.model, change: f.change },
    at,
  }));
}
