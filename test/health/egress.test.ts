// EgressWatch against real loopback control targets: one that answers (slowly, to count shared checks) and a
// port nothing listens on (connection refused, as when our own network is down).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../src/clock.ts';
import type { ProbeResult, Signal } from '../../src/domain.ts';
import { EgressWatch } from '../../src/health/egress.ts';
import { createHttpClient } from '../../src/http/client.ts';
import type { HttpClient } from '../../src/http/types.ts';
import { makeResult } from '../fixtures.ts';

const T = Date.UTC(2026, 0, 5, 9, 0, 0);
const unanswered = (target: string, at: number): ProbeResult =>
  makeResult({ probeId: `${target}-canary`, target, startedAt: at, outcome: 'failed', errorClass: 'connect', httpStatus: null, errorMessage: 'connect ECONNREFUSED' });

describe('EgressWatch', () => {
  let server: http.Server;
  let hits = 0;
  let up = '';
  let down = '';
  let client: HttpClient;
  beforeAll(async () => {
    server = http.createServer((_q, res) => {
      hits++;
      setTimeout(() => res.writeHead(204).end(), 50);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    up = `http://127.0.0.1:${(server.address() as AddressInfo).port}/generate_204`;
    // A port that was free a moment ago: connects are refused.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    down = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/generate_204`;
    await new Promise((r) => probe.close(r));
    client = createHttpClient();
  });
  afterAll(async () => {
    await client.close();
    await new Promise((r) => server.close(r));
  });

  function watch(url: string, targets = ['provider:openai', 'provider:anthropic']) {
    const clock = new ManualClock(T);
    const signals: Signal[] = [];
    const lines: string[] = [];
    const w = new EgressWatch({
      config: () => ({ url, timeoutMs: 2000 }),
      http: client,
      clock,
      targets: () => targets,
      owner: () => 'vigil-owner',
      sink: (s) => signals.push(s),
      log: { warn: (m) => lines.push(m), info: (m) => lines.push(m) },
    });
    return { w, clock, signals, lines };
  }

  it('a control that answers: failures stand as measured, and one check serves a whole wave', async () => {
    const { w, signals } = watch(up);
    const before = hits;
    const out = await Promise.all(['provider:openai', 'provider:anthropic', 'gateway', 'provider:openai', 'provider:gemini'].map((t) => w.judge(unanswered(t, T))));
    expect(out.map((r) => r.outcome)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    expect(hits - before).toBe(1);
    // An answered failure (HTTP 503) or a success never needs the control.
    await w.judge(makeResult({ outcome: 'failed', errorClass: 'overloaded', httpStatus: 503 }));
    await w.judge(makeResult());
    expect(hits - before).toBe(1);
    expect(signals).toEqual([]);
  });

  it('control down and nothing answered: unknown; the incident once every target failed so; resolved by an answer', async () => {
    const { w, clock, signals } = watch(down);
    const a = await w.judge(unanswered('provider:openai', T));
    expect(a.outcome).toBe('unknown');
    expect(a.errorMessage).toMatch(/^Vigil's own egress\/DNS looks down \(the control target 127\.0\.0\.1:\d+ is unreachable too: .*\); connect ECONNREFUSED$/);
    expect(signals).toEqual([]); // anthropic not seen failing yet
    await clock.advance(1000);
    expect((await w.judge(unanswered('provider:anthropic', clock.now()))).outcome).toBe('unknown');
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ detector: 'egress', key: 'egress', severity: 'critical', status: 'firing', labels: { owner: 'vigil-owner', kind: 'vigil' } });
    expect(signals[0].summary).toMatch(/and every target \(provider:anthropic, provider:openai\) unreachable since 09:00 UTC/);
    expect(w.down).toBe(true);
    // Still down: no second incident.
    await w.judge(unanswered('provider:openai', clock.now()));
    expect(signals).toHaveLength(1);
    await w.judge(makeResult({ target: 'provider:openai', startedAt: clock.now() }));
    expect(signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
    expect(signals[1].summary).toBe("Vigil's own egress works again: provider:openai answers again");
  });

  it('control down while a provider answers: the control itself is down, the failure stands', async () => {
    const { w, clock, signals, lines } = watch(down);
    expect((await w.judge(unanswered('provider:openai', T))).outcome).toBe('unknown'); // control failing from here
    await clock.advance(1000);
    await w.judge(makeResult({ target: 'provider:anthropic', startedAt: clock.now() }));
    await clock.advance(1000);
    expect((await w.judge(unanswered('provider:openai', clock.now()))).outcome).toBe('failed');
    expect(lines.some((l) => l.startsWith('control target unreachable while providers answer'))).toBe(true);
    expect(signals).toEqual([]);
  });

  it('after a restart with the incident open, the first answer resolves it; without control: never involved', async () => {
    const { w, signals } = watch(down);
    w.resume(true);
    await w.judge(makeResult());
    expect(signals.map((s) => s.status)).toEqual(['resolved']);
    const none = new EgressWatch({ config: () => null, http: client, clock: new ManualClock(T), targets: () => [], owner: () => 'x', sink: () => expect.fail('no signal'), log: { warn: () => {}, info: () => {} } });
    const r = unanswered('provider:openai', T);
    expect(await none.judge(r)).toBe(r);
  });
});
