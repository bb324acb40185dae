// Vigil's own fault is not the provider's outage: a probe that cannot even open a socket (EMFILE, out of memory)
// is `unknown`, counted but never seen by a detector, and leaves probe_success as it was.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AvailabilityDetector, evaluateAvailability, DEFAULT_AVAILABILITY } from '../../src/detectors/availability.ts';
import { createMetrics } from '../../src/metrics/index.ts';
import { localFault } from '../../src/probes/local-fault.ts';
import { statusOf } from '../../src/ui/status.ts';
import { makeResult, makeSpec } from '../fixtures.ts';

const FIXTURE = resolve(import.meta.dirname, 'fixtures/emfile-probe.ts');

function run(cmd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('exit', (code) => done({ code, out, err }));
  });
}

describe("a probe during Vigil's own fault", () => {
  it('out of file descriptors (a real EMFILE through undici): unknown, then ok once they are freed', async () => {
    const r = await run(`ulimit -n 200 && exec '${process.execPath}' '${FIXTURE}'`);
    expect(r.code, r.err).toBe(0);
    const [starved, freed] = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(starved.held).toBeGreaterThan(0);
    expect(starved.outcome).toBe('unknown');
    expect(starved.errorClass).toBe('local');
    expect(starved.errorMessage).toContain('EMFILE');
    expect(freed).toEqual({ outcome: 'ok', errorClass: null });
  }, 60_000);

  it('recognises the local codes through undici-style cause chains, and nothing else', () => {
    const sys = Object.assign(new Error('connect EMFILE 127.0.0.1:443 - Local (undefined:undefined)'), { code: 'EMFILE' });
    const wrapped = Object.assign(new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET', cause: sys }) }), {});
    expect(localFault(wrapped)).toMatch(/EMFILE/);
    expect(localFault(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }))).toMatch(/local ports/);
    expect(localFault(new RangeError('Array buffer allocation failed'))).toMatch(/out of memory/);
    // The target's faults stay the target's.
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'UND_ERR_SOCKET']) {
      expect(localFault(Object.assign(new Error(`connect ${code}`), { code }))).toBeNull();
    }
    expect(localFault(new Error('HTTP 503'))).toBeNull();
  });

  it('neither extends a failure streak nor resolves it (the availability detector skips it)', () => {
    const probe = makeSpec({ id: 'p1' });
    const at = (i: number) => Date.UTC(2026, 0, 5, 12, i);
    const failed = (i: number) => makeResult({ startedAt: at(i), outcome: 'failed', errorClass: 'server_error', httpStatus: 503, confirmed: true });
    const unknown = (i: number) => makeResult({ startedAt: at(i), outcome: 'unknown', errorClass: 'local', httpStatus: null });
    const ok = (i: number) => makeResult({ startedAt: at(i) });

    // Only unknown results: nothing fires (a busy host must not page every provider).
    expect(evaluateAvailability(probe, [unknown(0), unknown(1), unknown(2)], { ...DEFAULT_AVAILABILITY, failureThreshold: 1 })).toBeNull();

    const settings = { ...DEFAULT_AVAILABILITY, failureThreshold: 2, successThreshold: 2 };
    const d = new AvailabilityDetector(() => settings);
    expect(d.observe(probe, failed(0))).toBeNull();
    expect(d.observe(probe, unknown(1))).toBeNull();
    // The streak goes on across the unknown: two confirmed failures fire.
    expect(d.observe(probe, failed(2))?.status).toBe('firing');
    // ok, unknown, ok: the two successes resolve; the unknown between them is not counted either way.
    expect(d.observe(probe, ok(3))).toBeNull();
    expect(d.observe(probe, unknown(4))).toBeNull();
    const resolved = d.observe(probe, ok(5));
    expect(resolved?.status).toBe('resolved');
    expect(resolved?.evidence.successes).toBe(2);
  });

  it('is counted with its class, leaves probe_success alone, and shows as unknown on the status page', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const spec = makeSpec({ id: 'p1' });
    m.observeResult(makeResult(), spec);
    m.observeResult(makeResult({ outcome: 'unknown', errorClass: 'local', httpStatus: null }), spec);
    const text = await m.metrics();
    expect(text).toMatch(/^probe_success\{[^}]*probe="p1"[^}]*\} 1$/m);
    expect(text).toMatch(/^vigil_probe_results_total\{(?=[^}]*outcome="unknown")(?=[^}]*error_class="local")[^}]*\} 1$/m);
    const view = statusOf(makeResult({ outcome: 'unknown', errorClass: 'local', errorMessage: "Vigil's own fault" }));
    expect(view.key).toBe('unknown');
    expect(view.detail).toContain("Vigil's own fault");
  });
});
