// The incident state machine, pure: (incident, signal or time, settings) → (incident, events).
//
//   (none) ──firing signal──► pending ──for elapsed──► firing ──resolved signal──► resolved
//                               └──resolved signal──► resolved (cancelled: it never fired, nobody heard)
//
// Flap damping: every firing↔resolved flip of a key is remembered for `window` (also across the key's
// incidents). With `flips` of them inside the window the incident is flapping: a resolve is held (the
// incident stays firing, marked flapping) until no flip happened for `window`; then it resolves if the
// detector still says resolved, or stays firing, no longer flapping.
import type { Signal } from '../domain.ts';
import type { IncidentEvent, IncidentRow } from './types.ts';

export interface StateSettings {
  forMs: number;
  flap: { flips: number; windowMs: number };
}

export interface Transition {
  /** Null: nothing to keep (a resolved signal for a key with no open incident). */
  incident: IncidentRow | null;
  events: IncidentEvent[];
  /** True when the incident became firing in this step (it then joins notification groups). */
  fired: boolean;
}

const SUMMARY_MAX = 1000;

export function dedupKeyOf(s: Pick<Signal, 'detector' | 'key'>): string {
  return `${s.detector}:${s.key}`;
}

function clipSummary(s: string): string {
  return s.length > SUMMARY_MAX ? `${s.slice(0, SUMMARY_MAX - 1)}…` : s;
}

function recentFlips(flips: readonly number[], now: number, windowMs: number): number[] {
  return flips.filter((t) => t > now - windowMs);
}

/**
 * Apply one signal. `current` is the key's open incident (pending or firing) or null; `previous` the
 * key's last resolved incident (its flips count toward flapping). `newId` names a new incident.
 */
export function applySignal(
  current: IncidentRow | null,
  previous: IncidentRow | null,
  signal: Signal,
  now: number,
  settings: StateSettings,
  newId: () => string,
): Transition {
  const events: IncidentEvent[] = [];
  const { flips: maxFlips, windowMs } = settings.flap;

  if (!current) {
    if (signal.status === 'resolved') return { incident: null, events, fired: false };
    const carried = previous?.firedAt != null ? recentFlips(previous.flips, now, windowMs) : [];
    const inc: IncidentRow = {
      id: newId(),
      dedupKey: dedupKeyOf(signal),
      detector: signal.detector,
      key: signal.key,
      state: 'pending',
      severity: signal.severity,
      summary: clipSummary(signal.summary),
      labels: { ...signal.labels },
      evidence: { ...signal.evidence },
      firstSeen: now,
      lastSeen: now,
      resolvedAt: null,
      flapping: false,
      firedAt: null,
      forMs: settings.forMs,
      signalStatus: 'firing',
      flips: carried,
    };
    events.push({ kind: 'pending', detail: inc.summary });
    const fired = maybeFire(inc, now, settings, events);
    return { incident: inc, events, fired };
  }

  const inc: IncidentRow = { ...current, flips: recentFlips(current.flips, now, windowMs) };
  if (signal.status === 'firing') {
    inc.lastSeen = now;
    if (signal.severity !== inc.severity) events.push({ kind: 'severity', detail: `${inc.severity} → ${signal.severity}` });
    inc.severity = signal.severity;
    inc.summary = clipSummary(signal.summary);
    inc.labels = { ...signal.labels };
    inc.evidence = { ...signal.evidence };
    if (inc.state === 'pending') {
      const fired = maybeFire(inc, now, settings, events);
      return { incident: inc, events, fired };
    }
    if (inc.signalStatus === 'resolved') {
      // A held (flapping) incident fails again: a flip, but it never stopped firing.
      inc.signalStatus = 'firing';
      inc.flips.push(now);
      events.push({ kind: 'refiring', detail: `failing again while flapping (${inc.flips.length} flips in ${fmtMin(windowMs)})` });
    }
    return { incident: inc, events, fired: false };
  }

  // resolved
  inc.lastSeen = now;
  if (inc.state === 'pending') {
    inc.state = 'resolved';
    inc.resolvedAt = now;
    inc.signalStatus = 'resolved';
    events.push({ kind: 'cancelled', detail: 'recovered before it fired; nobody was notified' });
    return { incident: inc, events, fired: false };
  }
  if (inc.signalStatus === 'firing') {
    inc.flips.push(now);
    inc.signalStatus = 'resolved';
  }
  if (inc.flapping || inc.flips.length >= maxFlips) {
    if (!inc.flapping) events.push({ kind: 'flapping', detail: `${inc.flips.length} state changes in ${fmtMin(windowMs)}; holding it firing until quiet for ${fmtMin(windowMs)}` });
    else events.push({ kind: 'held', detail: 'recovered, but flapping: held firing' });
    inc.flapping = true;
    return { incident: inc, events, fired: false };
  }
  resolve(inc, now, events, 'recovered');
  return { incident: inc, events, fired: false };
}

/** Time-based steps: pending → firing after `for`; a flapping incident that has been quiet resolves or settles. */
export function tickIncident(current: IncidentRow, now: number, settings: StateSettings): Transition {
  const events: IncidentEvent[] = [];
  if (current.state === 'resolved') return { incident: current, events, fired: false };
  const inc: IncidentRow = { ...current, flips: recentFlips(current.flips, now, settings.flap.windowMs) };
  if (inc.state === 'pending') {
    const fired = maybeFire(inc, now, settings, events);
    return { incident: fired ? inc : current, events, fired };
  }
  if (inc.flapping && inc.flips.every((t) => t <= now - settings.flap.windowMs)) {
    if (inc.signalStatus === 'resolved') resolve(inc, now, events, `quiet for ${fmtMin(settings.flap.windowMs)} after flapping`);
    else {
      inc.flapping = false;
      events.push({ kind: 'stable', detail: `no longer flapping: failing steadily for ${fmtMin(settings.flap.windowMs)}` });
    }
    return { incident: inc, events, fired: false };
  }
  return { incident: current, events, fired: false };
}

/** Force a resolve (the probe was removed from the config, or an operator closed it). Flapping does not hold it. */
export function retireIncident(current: IncidentRow, now: number, why: string): Transition {
  const inc: IncidentRow = { ...current, signalStatus: 'resolved', lastSeen: now };
  const events: IncidentEvent[] = [];
  if (inc.state === 'pending') {
    inc.state = 'resolved';
    inc.resolvedAt = now;
    events.push({ kind: 'cancelled', detail: why });
  } else resolve(inc, now, events, why);
  return { incident: inc, events, fired: false };
}

function maybeFire(inc: IncidentRow, now: number, settings: StateSettings, events: IncidentEvent[]): boolean {
  if (inc.state !== 'pending' || now - inc.firstSeen < inc.forMs) return false;
  inc.state = 'firing';
  inc.firedAt = now;
  inc.flips.push(now);
  events.push({ kind: 'firing', detail: inc.forMs > 0 ? `failing for ${fmtMin(now - inc.firstSeen)} (for: ${fmtMin(inc.forMs)})` : inc.summary });
  if (inc.flips.length >= settings.flap.flips) {
    inc.flapping = true;
    events.push({ kind: 'flapping', detail: `${inc.flips.length} state changes in ${fmtMin(settings.flap.windowMs)}` });
  }
  return true;
}

function resolve(inc: IncidentRow, now: number, events: IncidentEvent[], why: string): void {
  inc.state = 'resolved';
  inc.resolvedAt = now;
  inc.flapping = false;
  events.push({ kind: 'resolved', detail: why });
}

function fmtMin(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
