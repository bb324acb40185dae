// Types of the incidents engine beyond the shared domain ones (Signal, Incident, NotificationRecord).
import type { Incident, Severity } from '../domain.ts';
import type { ReceiverKind } from '../notifiers/types.ts';

export type Labels = Record<string, string>;

/** An incident as the engine keeps it: the domain Incident plus what its state machine needs. */
export interface IncidentRow extends Omit<Incident, 'notifications'> {
  /** When it went pending → firing (null while pending, and for one resolved before it fired). */
  firedAt: number | null;
  /** Pending time before firing (Prometheus `for`). */
  forMs: number;
  /** What the detector last said. A flapping incident holds `firing` while this says `resolved`. */
  signalStatus: 'firing' | 'resolved';
  /** Epoch ms of firing/resolved flips inside the flap window (carried over from the key's last incident). */
  flips: number[];
}

export type IncidentEventKind =
  | 'pending'
  | 'firing'
  | 'updated'
  | 'severity'
  | 'flapping'
  | 'held'
  | 'refiring'
  | 'stable'
  | 'resolved'
  | 'cancelled'
  | 'grouped'
  | 'muted'
  | 'notify'
  | 'no_receiver';

export interface IncidentEvent {
  kind: IncidentEventKind;
  detail: string;
}

/** Per receiver of a notification group: what it has been told. */
export interface GroupReceiverState {
  triggeredAt: number | null;
  lastSentAt: number | null;
  /** Fingerprint of the member states last sent; a change is worth an update. */
  digest: string | null;
  /** When the members first differed from what was last sent (changes settle for group_wait before they go out). */
  changedAt?: number | null;
  resolvedAt: number | null;
}

/**
 * Alerts that are notified together (Alertmanager's aggregation group): same route, same owner, same
 * values of the route's group_by labels. One PagerDuty incident and one Slack message per group.
 */
export interface GroupRow {
  id: string;
  routeIndex: number;
  groupKey: string;
  /** Deterministic from groupKey (PagerDuty dedup_key): a restart or a second instance agrees on it. */
  dedupKey: string;
  owner: string;
  /** The group_by labels and their values. */
  labels: Labels;
  state: 'open' | 'closed';
  createdAt: number;
  lastFlushAt: number | null;
  receivers: Partial<Record<ReceiverKind, GroupReceiverState>>;
}

export type NotifyAction = 'trigger' | 'update' | 'resolve';
/** Why a notification is sent: first news, escalation to a pager, members changed, reminder, all clear. */
export type NotifyReason = 'new' | 'escalated' | 'changed' | 'repeat' | 'resolved' | 'test';

export interface NotifyIntent {
  receiver: ReceiverKind;
  action: NotifyAction;
  reason: NotifyReason;
}

export interface IncidentQuery {
  state?: 'open' | 'pending' | 'firing' | 'resolved';
  limit?: number;
}

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
