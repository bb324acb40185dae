// TLS timing against a loopback HTTPS server with a throwaway self-signed certificate. node:crypto cannot
// issue X.509 certificates, so the openssl CLI makes one; without it the suite is skipped.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, readBodyText, warmUp } from '../../src/http/client.ts';
import { HttpError } from '../../src/http/types.ts';
import type { HttpClient } from '../../src/http/types.ts';
import { get, listen, nextTurn, rejection } from './helpers.ts';
import type { Loopback } from './helpers.ts';

function selfSigned(): { key: Buffer; cert: Buffer } | null {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const creds = selfSigned();

describe.skipIf(creds === null)('TLS', () => {
  let server: Loopback;
  let client: HttpClient;

  beforeAll(async () => {
    const s = createServer({ key: creds!.key, cert: creds!.cert }, (req, res) => {
      req.resume();
      res.end('secure');
    });
    server = await listen(s, 'https');
    client = createHttpClient({ tls: { ca: creds!.cert } });
    await warmUp(client);
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('reports the handshake separately on a fresh socket and 0 on a reused one', async () => {
    const a = await client.request(get(server.url));
    expect(await readBodyText(a)).toBe('secure');
    expect(a.marks.reused).toBe(false);
    expect(a.marks.connectMs).toBeGreaterThan(0);
    expect(a.marks.tlsMs).toBeGreaterThan(0);
    expect(a.marks.tlsMs).toBeLessThan(200);
    // The handshake happens before the request is written, so it is inside ttfb.
    expect(a.marks.ttfbMs).toBeGreaterThan(a.marks.connectMs! + a.marks.tlsMs!);
    await nextTurn();
    const b = await client.request(get(server.url));
    await readBodyText(b);
    expect(b.marks.reused).toBe(true);
    expect(b.marks.connectMs).toBe(0);
    expect(b.marks.tlsMs).toBe(0);
  });

  it('an untrusted certificate is a connect error', async () => {
    const strict = createHttpClient();
    try {
      const err = (await rejection(strict.request(get(server.url)))) as HttpError;
      expect(err).toBeInstanceOf(HttpError);
      expect(err.kind).toBe('connect');
    } finally {
      await strict.close();
    }
  });
});
