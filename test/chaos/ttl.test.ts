// No fault outlives its TTL: not in the fault list, and not in its effect either. A long delay, a held first
// byte or a throttled stream that began just before the expiry ends at the expiry, and the request completes as
// plain pass-through (the daemon that injected the fault may be gone; nothing else would end it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { startRig } from './helpers.ts';
import type { Rig } from './helpers.ts';

const DRILL = { 'x-vigil-drill': 'ttl' };
const TTL_MS = 1_000;
// Each fault below would hold its request for a minute or more without the TTL bound.
const LONG_MS = 120_000;

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ clock: systemClock });
});
afterAll(async () => {
  await rig?.close();
});

function anthropic(stream: boolean, content = 'Reply with the single word: pong'): Promise<Response> {
  return fetch(`${rig.proxy.upstreamUrl('anthropic')}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', ...DRILL },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream, messages: [{ role: 'user', content }] }),
  });
}

/** Inject with a 1 s TTL, send one drill request, and time it to the end of its body. */
async function timed(fault: Record<string, unknown>, stream: boolean, content?: string) {
  const t0 = performance.now();
  rig.proxy.inject({ upstream: 'anthropic', ttl: TTL_MS, match: { headers: { 'x-vigil-drill': 'ttl' } }, ...fault } as never);
  const res = await anthropic(stream, content);
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - t0, header: res.headers.get('x-vigil-fault') };
}

describe('no fault outlives its TTL', () => {
  // Generous against a loaded machine, and still a minute short of what the fault alone would take.
  const BOUND_MS = 30_000;

  it('a long latency fault is cut at the expiry; the request then passes unfaulted', async () => {
    const r = await timed({ kind: 'latency', delay_ms: LONG_MS }, false);
    expect(r.status).toBe(200);
    expect(r.text).toContain('pong');
    expect(r.ms).toBeGreaterThanOrEqual(TTL_MS - 50);
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.header ?? 'none').toBe('none');
    expect(rig.proxy.list()).toEqual([]);
  }, 60_000);

  it('an error answer due after the expiry is never sent: the upstream answers', async () => {
    const r = await timed({ kind: 'http_status', status: 529, delay_ms: LONG_MS }, false);
    expect(r.status).toBe(200);
    expect(r.text).toContain('pong');
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(rig.proxy.list()).toEqual([]);
  }, 60_000);

  it('a held first byte is released at the expiry', async () => {
    const r = await timed({ kind: 'slow_ttft', delay_ms: LONG_MS }, true);
    expect(r.status).toBe(200);
    expect(r.text).toContain('message_stop');
    expect(r.ms).toBeGreaterThanOrEqual(TTL_MS - 50);
    expect(r.ms).toBeLessThan(BOUND_MS);
  }, 60_000);

  it('a throttled stream runs at the upstream pace once the fault expired', async () => {
    // One token every 10 s: the simulator's several-token sentence (5 or more) would take a minute or more.
    const r = await timed({ kind: 'throttle', tokens_per_sec: 0.1 }, true, 'Tell me about monitoring.');
    expect(r.status).toBe(200);
    const deltas = r.text.split('\n').filter((l) => l.includes('"text_delta"')).length;
    expect(deltas).toBeGreaterThanOrEqual(5);
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(r.text).toContain('message_stop');
  }, 60_000);
});
