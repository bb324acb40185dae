// What a request needs before its handler runs: which area a path belongs to (so a listener serves only its
// areas), which role it takes, and whether its Host header may be trusted. Pure; decided by method and path
// prefix, so a route another module adds later gets the right protection without saying anything.
import { isIP } from 'node:net';

/** `health` (/healthz, /readyz) is on every listener and always public. */
export const AREAS = ['api', 'status', 'metrics', 'webhooks'] as const;
export type Area = (typeof AREAS)[number] | 'health';

export type Role = 'read' | 'admin';
/** `public`: no token (health; webhooks, which authenticate each request by signature or path token). */
export type Access = 'public' | Role;

export function areaOf(path: string): Area {
  if (path === '/healthz' || path === '/readyz') return 'health';
  if (path === '/metrics') return 'metrics';
  if (path === '/api' || path.startsWith('/api/')) return 'api';
  if (path === '/webhooks' || path.startsWith('/webhooks/')) return 'webhooks';
  return 'status';
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Reads take `read`; any other method changes something and takes `admin`. */
export function accessFor(method: string, area: Area): Access {
  if (area === 'health' || area === 'webhooks') return 'public';
  return READ_METHODS.has(method.toUpperCase()) ? 'read' : 'admin';
}

/** 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`. `0.0.0.0`, `::` and '' mean every interface. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h === '::1') return true;
  return /^::ffff:127\./.test(h);
}

/**
 * Host header check against DNS rebinding: a page on attacker.example whose name later resolves to 127.0.0.1
 * sends `Host: attacker.example`. IP literals can't be rebound (the page's origin would be that address
 * itself), so they pass, as do localhost names, the public URL's host and `allowed`. `*` turns the check off.
 */
export function hostAllowed(hostHeader: string | undefined, allowed: readonly string[]): boolean {
  // HTTP/1.0 without Host: no browser sends that, so there is nothing to rebind.
  if (hostHeader === undefined) return true;
  const name = hostName(hostHeader);
  if (name === null) return false;
  if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
  for (const a of allowed) {
    const p = a.toLowerCase();
    if (p === '*' || p === name) return true;
    if (p.startsWith('*.') && name.endsWith(p.slice(1)) && name.length > p.length - 1) return true;
  }
  return false;
}

/** `Example.COM:8080` → `example.com`, `[::1]:80` → `::1`; null when it is not a host[:port]. */
export function hostName(header: string): string | null {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return isIP(v6[1]) === 6 ? v6[1] : null;
  const m = /^([a-z0-9._-]+?)\.?(?::\d{1,5})?$/.exec(h);
  return m ? m[1] : null;
}
