// Helpers for the security suite: a config directory with tokens and listeners as an operator would write
// them, an in-process daemon on loopback, and raw HTTP for requests fetch won't send (a forged Host header).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import type { Logger } from '../../src/log.ts';

export const ADMIN = 'sec-admin-token-0123456789abcdef';
export const ADMIN_PREVIOUS = 'sec-admin-prev-0123456789abcdef';
export const READ = 'sec-read-token-0123456789abcdef';
export const TOKEN_ENV = { VIGIL_ADMIN_TOKEN: ADMIN, VIGIL_ADMIN_TOKEN_PREVIOUS: ADMIN_PREVIOUS, VIGIL_READ_TOKEN: READ };

/** The `auth:` block, indented for `server:` (a plain `${…}` scalar can't sit inside a YAML flow map). */
export const AUTH_YAML = `auth:
    admin_tokens: ["\${VIGIL_ADMIN_TOKEN:-}", "\${VIGIL_ADMIN_TOKEN_PREVIOUS:-}"]
    read_tokens: ["\${VIGIL_READ_TOKEN:-}"]
    public_read: \${PUBLIC_READ:-true}`;

export interface SecConfig {
  /** The whole `server:` block (default: loopback, port 0, the tokens above). */
  server?: string;
  /** Appended to vigil.yaml (providers, webhooks, ...). */
  vigil?: string;
  probes?: string;
  alerts?: string;
}

export function secConfig(o: SecConfig = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sec-'));
  const server = o.server ?? `server:\n  host: 127.0.0.1\n  port: 0\n  ${AUTH_YAML}\n`;
  writeFileSync(join(dir, 'vigil.yaml'), `${server}\nstorage: { path: ./vigil.db }\nscheduler: { confirm_failures: 0, shutdown_grace: 1s }\n${o.vigil ?? ''}\n`);
  if (o.probes) {
    mkdirSync(join(dir, 'probes'));
    writeFileSync(join(dir, 'probes', 'p.yaml'), o.probes);
  }
  if (o.alerts) {
    mkdirSync(join(dir, 'alerts'));
    writeFileSync(join(dir, 'alerts', 'a.yaml'), o.alerts);
  }
  return dir;
}

/** Log lines as text, for asserting what was (or was not) logged. */
export function memoryLog(): { log: Logger; text: () => string } {
  const lines: string[] = [];
  const stream = { write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream;
  return { log: createLogger({ stream, json: true, level: 'debug' }), text: () => lines.join('') };
}

export async function startDaemon(configDir: string, env: Record<string, string | undefined> = TOKEN_ENV, extra: Partial<Parameters<typeof Daemon.start>[0]> = {}): Promise<Daemon> {
  return Daemon.start({ configDir, env: { ...env }, log: memoryLog().log, incidentTickMs: 100, ...extra });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with exactly these headers (a Host header fetch would refuse to forge). */
export function raw(url: string, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

export const evilSilence = { matchers_re: { owner: '.*' }, duration: '8760h', comment: 'mute everything', created_by: 'mallory' };
