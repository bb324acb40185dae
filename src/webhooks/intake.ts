// Webhook intake: `POST /webhooks/:source` (standard-webhooks, generic) and `POST /webhooks/:source/:token`
// (statuspage). Every request: content type (415), body size (413), authentication in constant time (401),
// JSON (400), payload shape (422); each failure is a JSON `{error, message}` that never mentions a secret.
// An accepted event is stored raw before it is processed, so a processing failure or crash loses nothing
// (`reprocessPending()` on startup); a replayed id is acknowledged with 200 and not processed again.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Clock } from '../clock.ts';
import type { Signal } from '../domain.ts';
import type { Logger } from '../log.ts';
import { HttpError, clip, json, readBody, requireContentType } from '../server/router.ts';
import type { Handler, Reply, RequestContext } from '../server/router.ts';
import { transaction } from '../store/db.ts';
import type { DeprecationRegistry } from '../lifecycle/registry.ts';
import type { Deprecation } from '../lifecycle/types.ts';
import type { GenericSource, SignalSink, StandardWebhooksSource, StatuspageSource, WebhookSource } from './config.ts';
import { WebhookEvents } from './events.ts';
import { verifyGeneric } from './hmac.ts';
import { NOTICE_EVENT_TYPE, parseNotice } from './notice.ts';
import { StandardWebhookVerifier } from './standard.ts';
import { isResolved, mapComponents, orderingStamp, parseStatuspage, statuspageEventId, statuspageRef, statuspageSignals } from './statuspage.ts';
import type { StatuspageEvent } from './statuspage.ts';

export interface WebhookIntakeOptions {
  db: DatabaseSync;
  clock: Clock;
  /** Sources by name (a getter, so a config reload takes effect). Build with `webhookSources(config.webhooks)`. */
  sources: () => ReadonlyMap<string, WebhookSource>;
  sink: SignalSink;
  registry: DeprecationRegistry;
  /** Called after notices changed the registry (e.g. run the countdown at once). */
  onDeprecations?: (d: Deprecation[]) => void;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export interface RouteSpec {
  method: 'POST';
  pattern: string;
  handler: Handler;
}

/** What processing a verified event yields. */
type Parsed =
  | { kind: 'notice'; notices: Omit<Deprecation, 'origin'>[] }
  | { kind: 'ignored'; what: string }
  | { kind: 'status'; event: StatuspageEvent };

const JSON_TYPES = ['application/json'] as const;
const EMPTY = Buffer.alloc(0);

export class WebhookIntake {
  readonly events: WebhookEvents;
  private readonly o: WebhookIntakeOptions;
  private readonly verifiers = new WeakMap<WebhookSource, StandardWebhookVerifier>();
  private readonly qStatusGet: StatementSync;
  private readonly qStatusPut: StatementSync;

  constructor(o: WebhookIntakeOptions) {
    this.o = o;
    this.events = new WebhookEvents(o.db);
    this.qStatusGet = o.db.prepare('SELECT status, updated_at, resolved FROM status_incidents WHERE source = ? AND ref = ?');
    this.qStatusPut = o.db.prepare(
      `INSERT INTO status_incidents (source, ref, status, updated_at, resolved) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (source, ref) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, resolved = excluded.resolved`,
    );
  }

  /** The routes for the lead to register: `server.addRoute(r.method, r.pattern, r.handler)`. */
  routes(): RouteSpec[] {
    return [
      { method: 'POST', pattern: '/webhooks/:source', handler: (ctx) => this.handle(ctx, null) },
      { method: 'POST', pattern: '/webhooks/:source/:token', handler: (ctx) => this.handle(ctx, ctx.params.token ?? null) },
    ];
  }

  register(server: { addRoute(method: string, pattern: string, handler: Handler): void }): void {
    for (const r of this.routes()) server.addRoute(r.method, r.pattern, r.handler);
  }

  private async handle(ctx: RequestContext, token: string | null): Promise<Reply> {
    const name = ctx.params.source ?? '';
    const src = this.o.sources().get(name);
    try {
      if (!src) throw new HttpError(404, 'unknown_source', `no webhook source named "${clip(name, 40)}"`);
      if (src.kind === 'statuspage') this.checkToken(src, token);
      else if (token !== null) throw new HttpError(404, 'not_found', `webhook source "${name}" takes POST /webhooks/${name}`);
      requireContentType(ctx.req, JSON_TYPES);
      // Headers first: a request whose signature headers are missing, malformed or out of time is refused before
      // a byte of its body is read. Then the body, bounded by max_body (Content-Length checked before reading)
      // and by the server's shared body budget, and the signature verified against exactly those bytes.
      this.precheck(src, ctx.req, this.o.clock.now());
      const body = await readBody(ctx.req, { limit: src.maxBody });
      const now = this.o.clock.now();
      const auth = this.authenticate(src, ctx.req, body, now);
      const value = parseJson(body);
      const parsed = this.parse(src, value);
      const eventId = auth.eventId ?? (parsed.kind === 'status' ? statuspageEventId(parsed.event) : `sha256:${createHash('sha256').update(body).digest('hex')}`);
      if (parsed.kind === 'status' && src.kind === 'statuspage' && src.pageId && parsed.event.pageId !== src.pageId) {
        throw new HttpError(403, 'unknown_page', 'payload is from a status page this source does not accept');
      }
      // One commit holds the raw event and what processing did: a processing error rolls back to a savepoint
      // and the raw event commits as failed (retried at startup); a crash before the commit sent no 2xx, so
      // the sender redelivers; and no event is ever both stored as pending and already applied.
      const r = transaction(this.o.db, () => {
        const rowId = this.events.insert({ source: name, kind: src.kind, eventId, receivedAt: now, headers: auth.headers, body });
        return rowId === null ? null : this.process(rowId, src, parsed);
      });
      if (r === null) return json({ status: 'duplicate', event_id: eventId });
      return json({ status: r.ok ? 'processed' : 'stored', event_id: eventId, outcome: r.outcome }, r.ok ? 200 : 202);
    } catch (err) {
      if (err instanceof HttpError) {
        // Route pattern and source name only: the path may carry the token.
        this.o.log?.info('webhook rejected', { source: src ? name : '(unknown)', route: ctx.route, status: err.status, code: err.code });
      }
      throw err;
    }
  }

  private checkToken(src: StatuspageSource, token: string | null): void {
    if (token === null) throw new HttpError(401, 'missing_token', `statuspage source "${src.name}" takes POST /webhooks/${src.name}/<token>`);
    // Hash first so the comparison is constant-time regardless of the offered token's length.
    const a = createHash('sha256').update(token).digest();
    const b = createHash('sha256').update(src.token).digest();
    if (!timingSafeEqual(a, b)) throw new HttpError(401, 'invalid_token', 'the path token does not match');
  }

  /** The header checks of `authenticate`, on an empty body: anything but a signature mismatch fails already. */
  private precheck(src: WebhookSource, req: IncomingMessage, now: number): void {
    if (src.kind === 'statuspage') return;
    try {
      this.authenticate(src, req, EMPTY, now);
    } catch (err) {
      if (err instanceof HttpError && err.code !== 'invalid_signature') throw err;
    }
  }

  private authenticate(src: WebhookSource, req: IncomingMessage, body: Buffer, now: number): { eventId: string | null; headers: Record<string, string> } {
    const h = (n: string) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    const headers: Record<string, string> = { 'content-type': h('content-type') ?? '' };
    if (src.kind === 'standard-webhooks') {
      const r = this.verifier(src).verify({ id: h('webhook-id'), timestamp: h('webhook-timestamp'), signature: h('webhook-signature') }, body, now);
      if (!r.ok) throw new HttpError(r.status, r.code, r.message);
      return { eventId: r.id, headers: { ...headers, 'webhook-id': r.id, 'webhook-timestamp': String(r.timestamp) } };
    }
    if (src.kind === 'generic') {
      const r = verifyGeneric(src.secrets, { signature: h('x-vigil-signature'), timestamp: h('x-vigil-timestamp') }, body, now, src);
      if (!r.ok) throw new HttpError(r.status, r.code, r.message);
      const id = h('x-vigil-id');
      if (id !== undefined && (id.length === 0 || id.length > 200)) throw new HttpError(400, 'invalid_headers', 'x-vigil-id must be 1 to 200 characters');
      return { eventId: id ? `id:${id}` : null, headers: { ...headers, ...(r.timestamp !== null ? { 'x-vigil-timestamp': String(r.timestamp) } : {}) } };
    }
    return { eventId: null, headers };
  }

  private verifier(src: StandardWebhooksSource): StandardWebhookVerifier {
    let v = this.verifiers.get(src);
    if (!v) {
      v = new StandardWebhookVerifier(src.secrets, { toleranceMs: src.toleranceMs });
      this.verifiers.set(src, v);
    }
    return v;
  }

  /** Payload → what to do; a 422 HttpError when it is not what the source sends. */
  private parse(src: WebhookSource, value: unknown): Parsed {
    if (src.kind === 'statuspage') {
      const r = parseStatuspage(value);
      if (!r.ok) throw new HttpError(422, 'invalid_payload', `not a Statuspage webhook: ${r.message}`);
      return { kind: 'status', event: r.event };
    }
    if (src.kind === 'generic') return noticeOrThrow(value, src);
    // Standard Webhooks: OpenAI's event types carry no lifecycle meaning; a `model.deprecation` event does.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(422, 'invalid_payload', 'expected a JSON object event');
    const type = (value as Record<string, unknown>).type;
    if (type === NOTICE_EVENT_TYPE) return noticeOrThrow((value as Record<string, unknown>).data, src);
    return { kind: 'ignored', what: typeof type === 'string' ? clip(type, 80) : 'event without type' };
  }

  /** Process a stored event; marks it processed or failed. */
  private process(rowId: number, src: WebhookSource, parsed: Parsed): { ok: boolean; outcome: string } {
    try {
      const outcome = transaction(this.o.db, () => this.apply(src, parsed));
      this.events.markProcessed(rowId, outcome, this.o.clock.now());
      return { ok: true, outcome };
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.events.markFailed(rowId, msg);
      this.o.log?.error('webhook processing failed; stored for reprocessing', { source: src.name, event: rowId, error: msg });
      return { ok: false, outcome: 'processing failed; stored and retried on restart' };
    }
  }

  private apply(src: WebhookSource, parsed: Parsed): string {
    switch (parsed.kind) {
      case 'ignored':
        return `ignored ${parsed.what}`;
      case 'notice': {
        const rows = parsed.notices.map((n) => ({ ...n, origin: `webhook:${src.name}` }));
        transaction(this.o.db, () => {
          for (const r of rows) this.o.registry.upsert(r);
        });
        this.o.onDeprecations?.(rows);
        return `deprecation ${rows.map((r) => `${r.model} ${r.shutdownAt}`).join(', ')}`;
      }
      case 'status':
        return this.applyStatus(src as StatuspageSource, parsed.event);
    }
  }

  private applyStatus(src: StatuspageSource, ev: StatuspageEvent): string {
    const ref = statuspageRef(ev);
    const stamp = orderingStamp(ev);
    const resolved = isResolved(ev);
    const now = this.o.clock.now();
    return transaction(this.o.db, () => {
      const prev = this.qStatusGet.get(src.name, ref) as { status: string; updated_at: string; resolved: number } | undefined;
      if (prev && stamp < prev.updated_at) return `stale update of ${ref} ignored`;
      if (!prev && !mapComponents(ev.type === 'incident' ? ev.components : [ev.name], src).relevant) return `ignored ${ref}: components not mapped`;
      this.qStatusPut.run(src.name, ref, ev.type === 'incident' ? ev.status : ev.newStatus, stamp, resolved ? 1 : 0);
      if (resolved && (!prev || prev.resolved)) return `${ref} resolved (nothing open)`;
      const signals: Signal[] = statuspageSignals(ev, src, now);
      for (const s of signals) this.o.sink(s);
      return `${resolved ? 'resolved' : 'signalled'} ${ref}`;
    });
  }

  /** Process events stored but not processed (crash, earlier failure). Call once at startup. */
  reprocessPending(): { processed: number; failed: number } {
    let processed = 0;
    let failed = 0;
    for (const e of this.events.pending()) {
      const src = this.o.sources().get(e.source);
      if (!src || src.kind !== e.kind) {
        this.events.markFailed(e.id, 'source no longer configured');
        failed++;
        continue;
      }
      let parsed: Parsed;
      try {
        parsed = this.parse(src, JSON.parse(e.body.toString('utf8')));
      } catch (err) {
        this.events.markFailed(e.id, err instanceof Error ? err.message : String(err));
        failed++;
        continue;
      }
      if (this.process(e.id, src, parsed).ok) processed++;
      else failed++;
    }
    return { processed, failed };
  }

  /** Drop processed events older than `keepMs` (default 30 days). */
  prune(keepMs = 30 * 86_400_000): number {
    return this.events.prune(this.o.clock.now() - keepMs);
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
  }
}

function noticeOrThrow(value: unknown, src: GenericSource | StandardWebhooksSource): Parsed {
  const r = parseNotice(value, src.provider);
  if (!r.ok) throw new HttpError(422, 'invalid_payload', r.message);
  return { kind: 'notice', notices: r.notices };
}

