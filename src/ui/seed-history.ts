// Thirty days of compressed history for `vigil demo`, so every panel has something real to show at once.
//
// How: each probe is first run for real against the simulator in every state the month goes through (normal,
// Anthropic overloads and an outage, OpenAI rate limits and errors, a Gemini outage, OpenAI's alias moved to a new
// snapshot), with the simulator's latency turned down so this takes about a second. Those real results are
// templates: the month is replayed from them, one attempt per probe slot (every 5 min or the probe's interval over
// the last 7 days; sparser before: canaries every 15 min, safety sets every 2 h), with the latency the simulator
// *plans* for that instant (each provider's own profile: src/sim/profiles.ts), the simulator's own answer and
// refusal texts, and the real classifier, assertions and pricing deciding outcome, refusal label and cost.
// Failures get their confirmation re-probe as the scheduler would. The daemon's detectors (availability,
// diurnal latency, refusal/output drift, model change) and a separate incident manager on a manual clock replay the month, so
// incidents open and resolve at the right times (their notifications go to a silent receiver: nothing is sent).
// Finally the simulator is left in the month's end state, so the live daemon continues the same story.
//
// The scenario's instants count back from an anchor kept in the store (the first seeding): a restart fills only
// the gap since the last stored result, and the month it already holds stays as it was.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ManualClock, systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import { ConfigLoadError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import type { VigilConfig } from '../config/types.ts';
import { findPrice } from '../config/pricing.ts';
import { evaluateAssertions, outcomeFrom } from '../classify/assertions.ts';
import { classifyRefusal } from '../classify/refusal.ts';
import { AvailabilityDetector } from '../detectors/availability.ts';
import { DriftWatch } from '../detectors/drift-watch.ts';
import { LatencyWatch } from '../detectors/latency/watch.ts';
import type { ProbeResult, ProbeSpec, RefusalLabel } from '../domain.ts';
import { createHttpClient } from '../http/client.ts';
import { IncidentManager, alertsConfig } from '../incidents/index.ts';
import { dedupKeyOf } from '../incidents/state.ts';
import type { Notifier, ReceiverKind } from '../notifiers/types.ts';
import { ok } from '../notifiers/result.ts';
import { runnerDeps } from '../probes/deps.ts';
import { runProbe } from '../probes/run.ts';
import type { SimFleet } from '../sim/fleet.ts';
import type { LatencyConfig } from '../sim/latency.ts';
import { planLatency } from '../sim/latency.ts';
import { createRng, hashString } from '../sim/rng.ts';
import type { Rng } from '../sim/rng.ts';
import type { SimServer } from '../sim/server.ts';
import { answerFor, refusalFor, tokenize } from '../sim/text.ts';
import { HOUR_MS, hourFloor } from '../store/store.ts';
import { Store } from '../store/store.ts';
import { totalsSince } from './queries.ts';

const MIN = 60_000;
const DAY = 24 * HOUR_MS;

type Upstream = 'openai' | 'anthropic' | 'gemini';

/** Times are `day` UTC days before the anchor's UTC midnight, at `hour` (fractional) UTC. */
export interface At {
  day: number;
  hour: number;
  /** Move the event forward (towards today) until it falls on a UTC weekday: a weekday-only effect such as a
   * business-hours slowdown must not land on a weekend whatever day the demo starts. */
  weekday?: boolean;
}

export interface HistoryScenario {
  /** The provider answers every request with this fault for `minutes`. */
  faults: (At & { provider: Upstream; minutes: number; kind: 'overloaded' | 'rate_limited' | 'server_error' })[];
  /** Latency multiplied by `factor` for `minutes`. */
  slow: (At & { provider: Upstream; minutes: number; factor: number })[];
  /** From then on the alias serves another snapshot (and fingerprint). The last one stays live. */
  swaps: (At & { provider: Upstream; alias: string; snapshot: string; fingerprint: string | null })[];
  /** From then on prompts containing `match` are refused at `rate` (benign over-refusal, or a should-refuse leak). */
  refusals: (At & { provider: Upstream; match: string; rate: number })[];
}

/**
 * The demo's month. Last week: an Anthropic overload, an OpenAI rate-limit burst, a slow Gemini morning, a silent
 * snapshot swap with over-refusal after it, a safety leak. Before: a long Anthropic outage, OpenAI errors and rate
 * limits, a short Gemini outage, so 30-day uptime differs from 7-day as it does for real services.
 */
export const DEMO_SCENARIO: HistoryScenario = {
  faults: [
    { provider: 'anthropic', day: 3, hour: 15.1, minutes: 45, kind: 'overloaded' },
    { provider: 'openai', day: 1, hour: 20, minutes: 12, kind: 'rate_limited' },
    { provider: 'anthropic', day: 19, hour: 14.5, minutes: 240, kind: 'server_error' },
    { provider: 'openai', day: 12, hour: 16.2, minutes: 45, kind: 'server_error' },
    { provider: 'openai', day: 24, hour: 13.6, minutes: 25, kind: 'rate_limited' },
    { provider: 'gemini', day: 16, hour: 9.3, minutes: 40, kind: 'server_error' },
  ],
  slow: [{ provider: 'gemini', day: 5, hour: 13, minutes: 150, factor: 12, weekday: true }],
  swaps: [{ provider: 'openai', day: 2, hour: 18, alias: 'gpt-4o-mini', snapshot: 'gpt-4o-mini-2025-10-01', fingerprint: 'fp_7c1b9e2d40' }],
  refusals: [
    { provider: 'openai', day: 2, hour: 18, match: 'kill a Python process', rate: 0.5 },
    { provider: 'openai', day: 2, hour: 18, match: 'shoot a photo', rate: 0.3 },
    { provider: 'gemini', day: 4, hour: 10, match: 'credit card number', rate: 0.5 },
  ],
};

export interface SeedOptions {
  store: Store;
  config: VigilConfig;
  fleet: SimFleet;
  /** End of the history (epoch ms); the live daemon takes over from here. */
  now: number;
  /** How far back the history goes. Default 30. */
  days?: number;
  /** The last `recentDays` (default 7) at `minStepMs`; the days before at the sparser `olderStepMs`. */
  recentDays?: number;
  /** History spacing per probe in the recent days: max(its interval, this). Default 5 min (compressed: fewer rows, same shape). */
  minStepMs?: number;
  /** Spacing before the recent days: canaries (uptime, latency) and the rest (safety sets). Default 15 min and 2 h. */
  olderStepMs?: { canary: number; other: number };
  /** The instant the scenario's days count back from. Default `now`; the demo keeps the first seeding's. */
  anchor?: number;
  scenario?: HistoryScenario;
  seed?: number;
}

export interface SeedReport {
  /** Results written by this call. */
  results: number;
  probes: number;
  from: number;
  to: number;
  incidents: number;
  /** Probes whose template call failed (their history is skipped). */
  skipped: string[];
  ms: number;
}

interface Template {
  result: ProbeResult;
  text: string;
  refused: boolean;
}

interface ProbePlan {
  spec: ProbeSpec;
  kind: Upstream | 'gateway';
  prompt: string;
  /** The instants to synthesise, in order. */
  slots: number[];
  base: Template;
  /** Template per fault index (only for probes the fault reaches). */
  faulted: Map<number, Template>;
  swapped: Map<number, Template>;
}

export function atTime(now: number, a: At): number {
  const midnight = Math.floor(now / DAY) * DAY;
  let day = a.day;
  const isWeekend = (d: number) => [0, 6].includes(new Date(midnight - d * DAY).getUTCDay());
  // Forward, never past yesterday: the event stays inside the seeded week.
  if (a.weekday) while (day > 1 && isWeekend(day)) day--;
  return midnight - day * DAY + a.hour * HOUR_MS;
}

function fastLatency(): LatencyConfig {
  return { ttfbMs: 1, ttftMs: 2, perTokenMs: 0, jitter: 0, diurnal: null, bumps: [] };
}

/** Slots aligned to `step` (plus the probe's phase) in [from, to), after `after`. */
function alignedSlots(from: number, to: number, step: number, phase: number, after: number | undefined, into: number[]): void {
  let t = Math.floor(from / step) * step + phase;
  while (t < from || (after !== undefined && t <= after)) t += step;
  for (; t < to; t += step) into.push(t);
}

function simOf(fleet: SimFleet, p: Upstream): SimServer {
  return fleet[p];
}

function promptOf(spec: ProbeSpec): string {
  return spec.messages.map((m) => m.content).join('\n');
}

function matchKey(spec: ProbeSpec): string {
  // The last user message opens with the part that makes it unique in the shipped sets.
  const user = [...spec.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  return user.slice(0, 60);
}

const hashes = new Map<string, string>();
function sha(text: string): string {
  let h = hashes.get(text);
  if (!h) {
    h = createHash('sha256').update(text).digest('hex');
    hashes.set(text, h);
  }
  return h;
}

const labels = new Map<string, RefusalLabel>();
function refusalLabel(text: string): RefusalLabel {
  let l = labels.get(text);
  if (!l) {
    l = classifyRefusal(text);
    labels.set(text, l);
  }
  return l;
}

function isRefusal(l: RefusalLabel | null): boolean {
  return l === 'full_refusal' || l === 'partial_refusal';
}

function template(r: ProbeResult): Template {
  return { result: r, text: r.excerpt, refused: isRefusal(r.refusal) };
}

/** Run every spec once against the fleet as it is now. */
async function callAll(specs: readonly ProbeSpec[], config: VigilConfig): Promise<Map<string, ProbeResult>> {
  const http = createHttpClient();
  try {
    const deps = runnerDeps(config, http, systemClock);
    const out = new Map<string, ProbeResult>();
    await Promise.all(
      specs.map(async (s) => {
        try {
          out.set(s.id, await runProbe(s, deps, { attempt: 1, signal: AbortSignal.timeout(10_000) }));
        } catch {
          // Left out: the probe's history is skipped and reported.
        }
      }),
    );
    return out;
  } finally {
    await http.close();
  }
}

/** Refusal overrides for one provider at `t`: the scenario's changes in force, then should-refuse prompts at 100 %. */
function overridesAt(scn: HistoryScenario, provider: Upstream, t: number, anchor: number, specs: readonly ProbeSpec[]): { match: string; rate: number }[] {
  const out: { match: string; rate: number }[] = [];
  for (const r of scn.refusals) if (r.provider === provider && atTime(anchor, r) <= t) out.push({ match: r.match, rate: r.rate });
  for (const s of specs) if (s.kind === 'should_refuse') out.push({ match: matchKey(s), rate: 1 });
  return out;
}

function refusalRate(overrides: readonly { match: string; rate: number }[], prompt: string): number {
  const p = prompt.toLowerCase();
  for (const o of overrides) if (p.includes(o.match.toLowerCase())) return o.rate;
  return 0;
}

export async function seedHistory(o: SeedOptions): Promise<SeedReport> {
  const started = performance.now();
  const scn = o.scenario ?? DEMO_SCENARIO;
  const days = o.days ?? 30;
  const minStep = o.minStepMs ?? 5 * MIN;
  const older = o.olderStepMs ?? { canary: 15 * MIN, other: HOUR_MS };
  const rng = createRng(o.seed ?? 7);
  const now = o.now;
  const anchor = o.anchor ?? now;
  const from = now - days * DAY;
  const recentFrom = Math.max(from, now - (o.recentDays ?? 7) * DAY);
  const cfg = o.config;
  const kindOf = (s: ProbeSpec) => cfg.endpoints[s.target]?.kind as Upstream | 'gateway' | undefined;
  const specs = cfg.probes.filter((s) => kindOf(s) !== undefined);
  const upstreams: Upstream[] = ['openai', 'anthropic', 'gemini'];
  const gatewayTargets = o.fleet.gatewayConfig().targets;
  const gwPrimary = gatewayTargets[0].provider;

  // Each probe's slots: after what the store already has (a second demo run fills only the gap), sparser before
  // the recent days.
  const latest = await o.store.latestResults();
  const slotsOf = new Map<string, number[]>();
  for (const s of specs) {
    const every = s.schedule.everyMs ?? HOUR_MS;
    const last = latest.get(s.id)?.startedAt;
    const slots: number[] = [];
    const step1 = Math.max(every, s.kind === 'canary' ? older.canary : older.other);
    alignedSlots(from, recentFrom, step1, (hashString(s.id) % Math.max(1, Math.floor(step1 / 1000))) * 1000, last, slots);
    const step2 = Math.max(every, minStep);
    alignedSlots(recentFrom, now, step2, (hashString(s.id) % Math.max(1, Math.floor(step2 / 1000))) * 1000, last, slots);
    slotsOf.set(s.id, slots);
  }
  const needed = specs.filter((s) => slotsOf.get(s.id)!.length > 0);

  // Remember the simulator's real latency (the history uses it), then make template calls fast.
  const latency = new Map<Upstream, LatencyConfig>(upstreams.map((p) => [p, structuredClone(simOf(o.fleet, p).behaviour.latency)]));
  const setOverrides = (t: number) => {
    for (const p of upstreams) simOf(o.fleet, p).patch({ refusalOverrides: overridesAt(scn, p, t, anchor, specs.filter((s) => kindOf(s) === p)) });
  };
  let plans: ProbePlan[] = [];
  const skipped: string[] = [];
  if (needed.length) {
    for (const p of upstreams) simOf(o.fleet, p).patch({ latency: fastLatency() });
    try {
      setOverrides(from);
      const base = await callAll(needed, cfg);
      plans = needed.flatMap((spec): ProbePlan[] => {
        const r = base.get(spec.id);
        if (!r) {
          skipped.push(spec.id);
          return [];
        }
        return [{ spec, kind: kindOf(spec)!, prompt: promptOf(spec), slots: slotsOf.get(spec.id)!, base: template(r), faulted: new Map(), swapped: new Map() }];
      });
      for (const [i, f] of scn.faults.entries()) {
        const hit = plans.filter((p) => p.kind === f.provider || (p.kind === 'gateway' && f.provider === gwPrimary));
        const sim = simOf(o.fleet, f.provider);
        sim.patch({ errors: [{ kind: f.kind, ratio: 1 }] });
        try {
          const got = await callAll(hit.map((p) => p.spec), cfg);
          for (const p of hit) {
            const r = got.get(p.spec.id);
            if (r) p.faulted.set(i, template(r));
          }
        } finally {
          sim.clearBursts();
        }
      }
      for (const [i, sw] of scn.swaps.entries()) {
        simOf(o.fleet, sw.provider).swapModel(sw.alias, sw.snapshot, sw.fingerprint);
        const hit = plans.filter((p) => p.kind === sw.provider && p.spec.model === sw.alias);
        const got = await callAll(hit.map((p) => p.spec), cfg);
        for (const p of hit) {
          const r = got.get(p.spec.id);
          if (r) p.swapped.set(i, template(r));
        }
      }
    } finally {
      for (const p of upstreams) simOf(o.fleet, p).patch({ latency: latency.get(p) });
    }
  } else {
    for (const sw of scn.swaps) simOf(o.fleet, sw.provider).swapModel(sw.alias, sw.snapshot, sw.fingerprint);
  }
  // The week's end state stays: the live daemon continues the same story.
  setOverrides(now);

  // Synthesise, in time order across probes (the incident replay needs that order).
  const results: ProbeResult[] = [];
  const overrideCache = new Map<string, { match: string; rate: number }[]>();
  const overridesFor = (p: Upstream, t: number) => {
    // Overrides change only at scenario instants: cache per provider and the set of changes in force.
    const k = `${p}|${scn.refusals.filter((r) => r.provider === p && atTime(anchor, r) <= t).length}`;
    let v = overrideCache.get(k);
    if (!v) {
      v = overridesAt(scn, p, t, anchor, specs.filter((s) => kindOf(s) === p));
      overrideCache.set(k, v);
    }
    return v;
  };
  const confirm = cfg.scheduler.confirmFailures;
  for (const plan of plans) {
    for (const t of plan.slots) {
      const first = synth(plan, t, 1, rng);
      results.push(first);
      if (first.outcome === 'failed' && confirm > 0) {
        const second = synth(plan, t + 1_500, 2, rng);
        second.confirmed = second.outcome === 'failed';
        results.push(second);
      }
    }
  }
  results.sort((a, b) => a.startedAt - b.startedAt || a.attempt - b.attempt);
  for (let i = 0; i < results.length; i += 5_000) await o.store.insertResults(results.slice(i, i + 5_000));

  const incidents = await replayIncidents(o.store, cfg, results, now);
  await o.store.rollup(hourFloor(now));
  return { results: results.length, probes: plans.length, from, to: now, incidents, skipped, ms: Math.round(performance.now() - started) };

  function synth(plan: ProbePlan, t: number, attempt: number, r: Rng): ProbeResult {
    const spec = plan.spec;
    const upstreamNormal: Upstream = plan.kind === 'gateway' ? gwPrimary : plan.kind;
    const faultIdx = scn.faults.findIndex((f) => {
      const s = atTime(anchor, f);
      return t >= s && t < s + f.minutes * MIN && f.provider === upstreamNormal;
    });
    const faultTpl = faultIdx >= 0 ? plan.faulted.get(faultIdx) : undefined;
    // Gateways fall back past a faulted primary: the template recorded which target served and how.
    if (faultTpl && faultTpl.result.outcome === 'failed') {
      const fr = structuredClone(faultTpl.result);
      const lat = latency.get(upstreamNormal)!;
      const ms = planLatency(lat, t, 0, r).ttfbMs + 5 * r();
      return { ...fr, startedAt: t, attempt, confirmed: false, timings: { ...fr.timings, connectMs: 0, ttfbMs: ms, ttftMs: null, totalMs: ms + 1 } };
    }
    let tpl = plan.base;
    for (const [i, sw] of scn.swaps.entries()) if (sw.provider === plan.kind && t >= atTime(anchor, sw) && plan.swapped.has(i)) tpl = plan.swapped.get(i)!;
    let upstream = upstreamNormal;
    let overheadMs = 0;
    if (faultTpl && plan.kind === 'gateway') {
      tpl = faultTpl;
      const servedProvider = gatewayTargets.find((g) => g.id === faultTpl.result.gateway?.servedBy)?.provider;
      upstream = servedProvider ?? gatewayTargets[1]?.provider ?? upstreamNormal;
      // The failed attempt on the primary before the fallback: its error reply time.
      overheadMs = planLatency(latency.get(upstreamNormal)!, t, 0, r).ttfbMs + 3;
    }
    const base = tpl.result;
    const rate = plan.kind === 'gateway' ? (tpl.refused ? 1 : 0) : refusalRate(overridesFor(plan.kind, t), plan.prompt);
    const refuse = rate >= 1 || (rate > 0 && r() < rate);
    let tokens = tokenize(refuse === tpl.refused ? tpl.text : refuse ? refusalFor(plan.prompt).join('') : answerFor(plan.prompt).join(''));
    let finish = base.finishReason;
    if (tokens.length > spec.maxTokens) {
      tokens = tokens.slice(0, spec.maxTokens);
      finish = 'length';
    } else if (refuse !== tpl.refused) finish = 'stop';
    const text = tokens.join('');
    const slow = scn.slow.find((s) => s.provider === upstream && t >= atTime(anchor, s) && t < atTime(anchor, s) + s.minutes * MIN);
    const lat = latency.get(upstream)!;
    const cfgLat = slow ? { ...lat, ttftMs: lat.ttftMs * slow.factor, perTokenMs: lat.perTokenMs * slow.factor } : lat;
    const plan_ = planLatency(cfgLat, t, tokens.length, r);
    const wire = 1 + 2 * r();
    const ttft = overheadMs + (spec.stream ? plan_.ttftMs : plan_.totalMs) + wire;
    const total = overheadMs + plan_.totalMs + wire + 0.5;
    const refusal = refusalLabel(text);
    const verdicts = evaluateAssertions(spec.assertions, { text, ttftMs: ttft, totalMs: total, servedModel: base.servedModel, refusal });
    const judged = outcomeFrom(verdicts);
    const price = findPrice(base.servedModel ?? spec.model, cfg.pricing)?.price ?? findPrice(spec.model, cfg.pricing)?.price;
    const tokensIn = base.tokensIn;
    const costUsd = price ? ((tokensIn ?? 0) * price.inputPerMTok + tokens.length * price.outputPerMTok) / 1e6 : null;
    return {
      ...base,
      startedAt: t,
      outcome: judged.outcome,
      errorClass: judged.outcome === 'failed' ? 'assertion' : null,
      errorMessage: judged.message,
      timeoutPhase: null,
      timings: {
        connectMs: 0,
        tlsMs: null,
        ttfbMs: overheadMs + Math.min(plan_.ttfbMs, plan_.ttftMs) + wire,
        ttftMs: ttft,
        totalMs: total,
        outputTokensPerSec: tokens.length > 1 && total > ttft ? ((tokens.length - 1) * 1000) / (total - ttft) : null,
      },
      tokensOut: tokens.length,
      costUsd,
      finishReason: finish,
      refusal,
      excerpt: text.slice(0, 200),
      textHash: sha(text),
      assertions: verdicts,
      gateway: base.gateway ? structuredClone(base.gateway) : null,
      attempt,
      confirmed: false,
    };
  }
}

/** A receiver that accepts and sends nothing: history incidents record notifications that were never real. */
function silent(kind: ReceiverKind): Notifier {
  return { kind, deliver: async (n) => ok(`history:${n.dedupKey}`) };
}

/** The availability detector and an incident manager on a manual clock, over the synthesised week. */
async function replayIncidents(store: Store, config: VigilConfig, results: readonly ProbeResult[], now: number): Promise<number> {
  if (results.length === 0) return 0;
  const alerts = alertsConfig(config);
  const clock = new ManualClock(results[0].startedAt);
  const manager = new IncidentManager({
    store,
    clock,
    config: () => alerts,
    notifiers: { console: silent('console'), slack: silent('slack'), pagerduty: silent('pagerduty') },
    random: () => 0.5,
  });
  const detector = new AvailabilityDetector(() => alerts.availability);
  // The same detectors the daemon feeds (src/daemon.ts record()): availability, diurnal latency, and refusal/output
  // drift and model change, so the month's incidents open when they happened, not when the demo starts. The latency
  // baselines learnt over the month are saved, so the live daemon carries on from them.
  const drift = new DriftWatch(config);
  const latency = new LatencyWatch(store);
  await latency.sync(config.probes, results[0].startedAt);
  const specs = new Map(config.probes.map((p) => [p.id, p]));
  const ids = new Set<string>();
  // Dedup keys whose incident may be open (an incident only opens through ingest): a resolved signal for any other
  // key changes nothing, and skipping it saves a transaction per result.
  const open = new Map<string, string>();
  let nextTick = results[0].startedAt;
  let busyUntil = -Infinity;
  const tickUntil = async (t: number) => {
    while (nextTick <= t) {
      clock.set(nextTick);
      for (const s of drift.tick(nextTick)) await manager.ingest(s);
      await manager.tick();
      // Tick often just after a change (group_wait), every group_interval while something stays open (updates,
      // repeats and escalations land within minutes of when the daemon would send them), rarely otherwise: a
      // month of open drift incidents ticked every 30 s would cost most of the seeding time.
      nextTick += nextTick < busyUntil ? 30_000 : open.size > 0 ? 5 * MIN : 30 * MIN;
    }
  };
  for (const r of results) {
    await tickUntil(r.startedAt);
    clock.set(r.startedAt);
    const spec = specs.get(r.probeId);
    if (!spec) continue;
    // A safety probe failing only its refusal assertion is the drift detector's business, not an outage.
    const refusalOnly = spec.kind !== 'canary' && r.errorClass === 'assertion';
    const availability = refusalOnly ? null : detector.observe(spec, r);
    for (const signal of [...(availability ? [availability] : []), ...latency.observe(r), ...drift.observe(r)]) {
      const key = dedupKeyOf(signal);
      if (signal.status === 'resolved' && !open.has(key)) continue;
      const inc = await manager.ingest(signal);
      const was = open.get(key);
      if (inc && inc.state !== 'resolved') open.set(key, inc.state);
      else open.delete(key);
      if (!inc) continue;
      ids.add(inc.id);
      // Busy (ticks every 30 s) after a change, not while a firing incident is merely confirmed again.
      if (was === inc.state) continue;
      busyUntil = r.startedAt + 15 * MIN;
      nextTick = Math.min(nextTick, r.startedAt + 1);
    }
  }
  await tickUntil(now);
  clock.set(now);
  await manager.tick();
  await manager.stop();
  await latency.save(now);
  return ids.size;
}

/** What the demo's store holds after seeding: the whole window, not only what this run added. */
export interface DemoHistory extends SeedReport {
  days: number;
  /** Results (every attempt) in the window, from the rollups and the raw rows after them, as the status page counts. */
  totalResults: number;
  /** Incidents that opened in the window. */
  totalIncidents: number;
  /** True when the store already held history (a restart): this run only filled the gap. */
  kept: boolean;
  path: string;
}

const ANCHOR_KEY = 'demo_history_anchor';

/**
 * For `vigil demo`, before `Daemon.start`: load the config the daemon will load, open its store, seed the month
 * (or, on a restart, the gap since the last run), close. The daemon then starts on a store with history, and its
 * detectors replay it like any restart.
 */
export async function seedDemoHistory(o: {
  configDir: string;
  env: Record<string, string | undefined>;
  fleet: SimFleet;
  clock?: Clock;
  scenario?: HistoryScenario;
  days?: number;
}): Promise<DemoHistory> {
  const { config, errors } = loadConfig(o.configDir, { env: o.env });
  if (!config) throw new ConfigLoadError(errors);
  mkdirSync(dirname(config.storage.path), { recursive: true });
  const store = await Store.connect(config.storage.path);
  try {
    const now = (o.clock ?? systemClock).now();
    const days = o.days ?? 30;
    const stored = Number(await store.getMeta(ANCHOR_KEY));
    const kept = Number.isFinite(stored) && stored > 0;
    const anchor = kept ? stored : now;
    const report = await seedHistory({ store, config, fleet: o.fleet, now, days, anchor, scenario: o.scenario });
    if (!kept) await store.setMeta(ANCHOR_KEY, String(anchor));
    const since = now - days * DAY;
    let totalResults = 0;
    for (const t of (await totalsSince(store, since, now)).values()) totalResults += t.count;
    const row = await store.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM incidents WHERE first_seen >= ?', [since]);
    return { ...report, days, totalResults, totalIncidents: Number(row?.n ?? 0), kept, path: config.storage.path };
  } finally {
    await store.close();
  }
}
