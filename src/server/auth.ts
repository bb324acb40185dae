// Bearer tokens and roles. A request carries `Authorization: Bearer <token>` (the CLI, Prometheus, scripts) or
// `Basic base64(any-user:<token>)` (a browser's own login prompt for the status page). Tokens are compared in
// constant time: each side is hashed to a fixed length first, and every configured token is tried, so neither
// the length nor the position of a match shows in the timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Access, Role } from './access.ts';

export const MIN_TOKEN_LENGTH = 16;

export interface AuthSettings {
  /** Admin tokens (several during rotation). None: every change through the API is refused. */
  adminTokens: readonly string[];
  /** Read tokens; admin tokens read as well. */
  readTokens: readonly string[];
  /** Reads need no token. */
  publicRead: boolean;
}

export const DEFAULT_AUTH: AuthSettings = { adminTokens: [], readTokens: [], publicRead: true };

export type AuthDecision = { ok: true; role: Role | null } | { ok: false; status: 401 | 403; code: string; message: string; headers: Record<string, string> };

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Precomputed digests; `match` tries them all whatever it finds. */
export class TokenSet {
  private readonly digests: Buffer[];
  constructor(tokens: readonly string[]) {
    this.digests = tokens.filter((t) => t.length > 0).map(digest);
  }
  get size(): number {
    return this.digests.length;
  }
  match(offered: string): boolean {
    const d = digest(offered);
    let hit = false;
    for (const t of this.digests) hit = timingSafeEqual(t, d) || hit;
    return hit;
  }
}

export class Authenticator {
  private readonly admin: TokenSet;
  private readonly read: TokenSet;
  private readonly publicRead: boolean;

  constructor(s: AuthSettings) {
    this.admin = new TokenSet(s.adminTokens);
    this.read = new TokenSet(s.readTokens);
    this.publicRead = s.publicRead;
  }

  get hasAdminToken(): boolean {
    return this.admin.size > 0;
  }

  /** The role a request's credentials give: admin, read, or null (none or wrong). */
  roleOf(headers: IncomingHttpHeaders): { role: Role | null; offered: boolean } {
    const token = offeredToken(headers.authorization);
    if (token === null) return { role: null, offered: headers.authorization !== undefined };
    if (this.admin.match(token)) return { role: 'admin', offered: true };
    if (this.read.match(token)) return { role: 'read', offered: true };
    return { role: null, offered: true };
  }

  decide(headers: IncomingHttpHeaders, need: Access, area: string): AuthDecision {
    if (need === 'public') return { ok: true, role: null };
    const { role, offered } = this.roleOf(headers);
    if (need === 'read' && (role !== null || this.publicRead)) return { ok: true, role };
    if (need === 'admin' && role === 'admin') return { ok: true, role };
    // Status pages are opened in a browser, which can only answer a Basic challenge.
    const challenge = area === 'status' ? 'Basic realm="Vigil", charset="UTF-8"' : 'Bearer realm="Vigil"';
    if (role === 'read') return { ok: false, status: 403, code: 'forbidden', message: 'this needs an admin token; the token given can only read', headers: {} };
    if (need === 'admin' && !this.hasAdminToken) {
      return {
        ok: false,
        status: 401,
        code: 'unauthorized',
        message: 'changes through the API are disabled: no admin token is configured (set server.auth.admin_tokens, e.g. VIGIL_ADMIN_TOKEN)',
        headers: { 'www-authenticate': challenge },
      };
    }
    return {
      ok: false,
      status: 401,
      code: 'unauthorized',
      message: offered ? 'invalid token' : `this needs ${need === 'admin' ? 'an admin' : 'a read'} token: Authorization: Bearer <token>`,
      headers: { 'www-authenticate': challenge },
    };
  }
}

/** The token in `Bearer <t>` or `Basic base64(user:<t>)`; null when absent or malformed. */
export function offeredToken(header: string | undefined): string | null {
  if (!header || header.length > 4096) return null;
  const m = /^(bearer|basic)\s+(\S+)\s*$/i.exec(header);
  if (!m) return null;
  if (m[1].toLowerCase() === 'bearer') return m[2];
  if (!/^[A-Za-z0-9+/]+=*$/.test(m[2])) return null;
  const decoded = Buffer.from(m[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? null : decoded.slice(colon + 1);
}

/** `Authorization` header value for a token (the CLI and tests). */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}
