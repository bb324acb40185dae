// Webhook intake: `POST /webhooks/:source` (standard-webhooks, generic) and `POST /webhooks/:source/:token`
// (statuspage). Every request: content type (415), body size (413), authentication in constant time (401),
// JSON (400), payload shape (422); each failure is a JSON `{error, message}` that never mentions a secret.
// An accepted event is stored raw before it is processed, so a processing failure or crash loses nothing
// (`reprocessPending()` on startup); a replayed id is acknowledged with 200 and not processed again.
// Several instances: any of them accepts and stores; only the leader processes (at once when the event reaches
// it, otherwise from the store within seconds, see `reprocessPending({ retryFailed: false })`).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../clock.ts';
import type { Signal } from '../domain.ts';
import type { Logger } from '../log.ts';
import { HttpError, clip, json, readBody, requireContentType } from '../server/router.ts';
import type { Handler, Reply, RequestContext } from '../server/router.ts';
import type { Sql } from '../store/sql.ts';
import type { DeprecationRegistry } from '../lifecycle/registry.ts';
import type { Deprecation } from '../lifecycle/types.ts';
import type { GenericSource, SignalSink, StandardWebhooksSource, StatuspageSource, WebhookSource } from './config.ts';
import { WebhookEvents } from './events.ts';
import { checkGenericHeaders, verifyGeneric } from './hmac.ts';
import { NOTICE_EVENT_TYPE, parseNotice } from './notice.ts';
import { StandardWebhookVerifier } from './standard.ts';
import { isResolved, mapComponents, orderingStamp, parseStatuspage, statuspageEventId, statuspageRef, statuspageSignals } from './statuspage.ts';
import type { StatuspageEvent } from './statuspage.ts';

export interface WebhookIntakeOptions {
  sql: Sql;
  clock: Clock;
  /** Whether this instance processes events (the leader); others store them for it. Default: always. */
  leading?: () => boolean;
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

/** What processing did, and what to tell others once it is committed. */
interface Applied {
  outcome: string;
  signals: Signal[];
  deprecations: Deprecation[];
}

type Processed = { ok: boolean; outcome: string; after: Applied | null };

const JSON_TYPES = ['application/json'] as const;
/** A request header as one string (repeated headers joined as HTTP joins them). */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export class WebhookIntake {
  readonly events: WebhookEvents;
  private readonly o: WebhookIntakeOptions;
  private readonly verifiers = new WeakMap<WebhookSource, StandardWebhookVerifier>();
  private reprocessing: Promise<{ processed: number; failed: number }> | null = null;

  constructor(o: WebhookIntakeOptions) {
    this.o = o;
    this.events = new WebhookEvents(o.sql);
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
      // the sender redelivers; and no event is ever both stored as pending and already applied. An instance
      // that does not lead only stores it: the leader processes it from the store.
      const leading = this.o.leading?.() ?? true;
      const r = await this.o.sql.transaction(async (): Promise<Processed | null> => {
        const rowId = await this.events.insert({ source: name, kind: src.kind, eventId, receivedAt: now, headers: auth.headers, body });
        if (rowId === null) return null;
        return leading ? this.process(rowId, src, parsed) : { ok: false, outcome: 'stored; the leading instance processes it', after: null };
      });
      if (r === null) return json({ status: 'duplicate', event_id: eventId });
      this.tell(r.after);
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

  /**
   * The header checks of `authenticate` (presence, sizes, timestamp tolerance), without computing a signature:
   * a request that would fail on its headers is refused before its body is read.
   */
  private precheck(src: WebhookSource, req: IncomingMessage, now: number): void {
    if (src.kind === 'statuspage') return;
    const h = (n: string) => header(req, n);
    const r =
      src.kind === 'standard-webhooks'
        ? this.verifier(src).checkHeaders({ id: h('webhook-id'), timestamp: h('webhook-timestamp'), signature: h('webhook-signature') }, now)
        : checkGenericHeaders({ signature: h('x-vigil-signature'), timestamp: h('x-vigil-timestamp') }, now, src);
    if (!r.ok) throw new HttpError(r.status, r.code, r.message);
  }

  private authenticate(src: WebhookSource, req: IncomingMessage, body: Buffer, now: number): { eventId: string | null; headers: Record<string, string> } {
    const h = (n: string) => header(req, n);
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

  /** Process a stored event (inside the caller's transaction); marks it processed or failed. */
  private async process(rowId: number, src: WebhookSource, parsed: Parsed): Promise<Processed> {
    try {
      const after = await this.o.sql.transaction(() => this.apply(src, parsed));
      await this.events.markProcessed(rowId, after.outcome, this.o.clock.now());
      return { ok: true, outcome: after.outcome, after };
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      await this.events.markFailed(rowId, msg);
      this.o.log?.error('webhook processing failed; stored for reprocessing', { source: src.name, event: rowId, error: msg });
      return { ok: false, outcome: 'processing failed; stored and retried on restart', after: null };
    }
  }

  /**
   * Signals and changed deprecations go out once what produced them is committed (never from a rolled-back
   * one, and never from inside a transaction, which work they start must not join).
   */
  private tell(after: Applied | null): void {
    if (!after) return;
    for (const s of after.signals) {
      try {
        this.o.sink(s);
      } catch (err) {
        this.o.log?.error('webhook signal not taken', { detector: s.detector, key: s.key, error: String(err) });
      }
    }
    if (after.deprecations.length > 0) this.o.onDeprecations?.(after.deprecations);
  }

  private async apply(src: WebhookSource, parsed: Parsed): Promise<Applied> {
    switch (parsed.kind) {
      case 'ignored':
        return { outcome: `ignored ${parsed.what}`, signals: [], deprecations: [] };
      case 'notice': {
        const rows = parsed.notices.map((n) => ({ ...n, origin: `webhook:${src.name}` }));
        for (const r of rows) await this.o.registry.upsert(r);
        return { outcome: `deprecation ${rows.map((r) => `${r.model} ${r.shutdownAt}`).join(', ')}`, signals: [], deprecations: rows };
      }
      case 'status':
        return this.applyStatus(src as StatuspageSource, parsed.event);
    }
  }

  private async applyStatus(src: StatuspageSource, ev: StatuspageEvent): Promise<Applied> {
    const ref = statuspageRef(ev);
    const stamp = orderingStamp(ev);
    const resolved = isResolved(ev);
    const now = this.o.clock.now();
    const none = (outcome: string): Applied => ({ outcome, signals: [], deprecations: [] });
    const prev = await this.o.sql.get<{ status: string; updated_at: string; resolved: number }>(
      'SELECT status, updated_at, resolved FROM status_incidents WHERE source = ? AND ref = ?',
      [src.name, ref],
    );
    if (prev && stamp < prev.updated_at) return none(`stale update of ${ref} ignored`);
    if (!prev && !mapComponents(ev.type === 'incident' ? ev.components : [ev.name], src).relevant) return none(`ignored ${ref}: components not mapped`);
    await this.o.sql.run(
      `INSERT INTO status_incidents (source, ref, status, updated_at, resolved) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (source, ref) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, resolved = excluded.resolved`,
      [src.name, ref, ev.type === 'incident' ? ev.status : ev.newStatus, stamp, resolved ? 1 : 0],
    );
    if (resolved && (!prev || prev.resolved)) return none(`${ref} resolved (nothing open)`);
    return { outcome: `${resolved ? 'resolved' : 'signalled'} ${ref}`, signals: statuspageSignals(ev, src, now), deprecations: [] };
  }

  /**
   * Process events stored but not processed: at startup and on becoming leader (`retryFailed`, the default:
   * also those whose processing failed before), and every few seconds on the leader for the events other
   * instances stored (`retryFailed: false`). Concurrent calls share one run. Each event commits on its own.
   */
  reprocessPending(opts: { retryFailed?: boolean } = {}): Promise<{ processed: number; failed: number }> {
    this.reprocessing ??= this.reprocess(opts.retryFailed ?? true).finally(() => {
      this.reprocessing = null;
    });
    return this.reprocessing;
  }

  private async reprocess(retryFailed: boolean): Promise<{ processed: number; failed: number }> {
    let processed = 0;
    let failed = 0;
    for (const e of await this.events.pending(1000, { retryFailed })) {
      const src = this.o.sources().get(e.source);
      if (!src || src.kind !== e.kind) {
        await this.events.markFailed(e.id, 'source no longer configured');
        failed++;
        continue;
      }
      let parsed: Parsed;
      try {
        parsed = this.parse(src, JSON.parse(e.body.toString('utf8')));
      } catch (err) {
        await this.events.markFailed(e.id, err instanceof Error ? err.message : String(err));
        failed++;
        continue;
      }
      const r = await this.o.sql.transaction(() => this.process(e.id, src, parsed));
      this.tell(r.after);
      if (r.ok) processed++;
      else failed++;
    }
    return { processed, failed };
  }

  /** Drop processed events older than `keepMs` (default 30 days). */
  prune(keepMs = 30 * 86_400_000): Promise<number> {
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

