// Contract between the outbox (which decides when and retries) and the notifiers (which only deliver).
// As in Alertmanager's notify stage: a notifier says whether a failure is worth a retry, nothing more.
import type { Incident } from '../domain.ts';

export type ReceiverKind = 'pagerduty' | 'slack' | 'console';

/** A receiver as configured in alerts/*.yaml, secrets already interpolated (never store or log them). */
export interface Receiver {
  name: string;
  kind: ReceiverKind;
  /** PagerDuty: Events API v2 routing key. */
  routingKey?: string;
  /** PagerDuty: API host (events.pagerduty.com, events.eu.pagerduty.com, or a test server). */
  pagerdutyServer?: string;
  /** Slack: bot token and channel. */
  slackToken?: string;
  slackChannel?: string;
  /** Slack: API base URL (https://slack.com/api/ by default; GovSlack or a test server). */
  slackApiUrl?: string;
}

/** What to deliver. Stored in the outbox (without secrets) before it is sent. */
export interface Notification {
  /** Outbox row id (stable across retries). */
  id: number;
  incidentId: string;
  /** Dedup key of the incident (PagerDuty dedup_key). */
  dedupKey: string;
  receiver: string;
  action: 'trigger' | 'resolve' | 'update' | 'test';
  /** Snapshot of the incident at the time the notification was queued. */
  incident: Omit<Incident, 'notifications'>;
  /** Links shown to the on-call: Vigil's incident page, the runbook. */
  links: { href: string; text: string }[];
  owner: string;
  /** Reference from an earlier delivery of this incident to this receiver (Slack `channel:ts`), for updates. */
  priorRef: string | null;
  /**
   * Which delivery attempt this is (1 or absent: the first). From the second on, an earlier attempt may have
   * reached the receiver without us seeing the answer (a crash or a timeout mid-send): a receiver that does not
   * dedup by itself (Slack) looks for it before posting again.
   */
  attempt?: number;
  /** When it was queued (epoch ms): where a receiver starts looking for an earlier attempt. */
  queuedAt?: number;
  /**
   * Why it is sent (added by the incidents engine): `new` first news; `escalated` a page after page_after;
   * `changed` members of the group changed (update the message); `repeat` a reminder while still firing
   * (Slack: a thread reply); `resolved` all clear; `test` from `vigil alerts test`. Absent: treat as `new`.
   */
  reason?: 'new' | 'escalated' | 'changed' | 'repeat' | 'resolved' | 'test';
  /**
   * Every alert this notification speaks of when several were grouped (firing first, then resolved), e.g.
   * five probes of one provider failing together. `incident` then summarises them (count in its summary,
   * highest severity, labels they share); list these in the message. Absent or one item: just `incident`.
   */
  alerts?: Omit<Incident, 'notifications'>[];
}

export interface DeliveryResult {
  ok: boolean;
  /** Worth retrying later (429, 5xx, network); false for permanent failures (400, bad token). */
  retryable: boolean;
  /** Provider asked us to wait this long (Retry-After). */
  retryAfterMs?: number;
  /** PagerDuty dedup key, or Slack `channel:ts` of the message, to keep for updates and resolves. */
  ref?: string;
  /** Short reason, no secrets. */
  error?: string;
}

export interface Notifier {
  kind: ReceiverKind;
  deliver(n: Notification, receiver: Receiver, signal?: AbortSignal): Promise<DeliveryResult>;
}
