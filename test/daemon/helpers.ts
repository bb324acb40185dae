// Helpers for daemon tests: a throwaway config directory pointed at a simulator, and a way to let real I/O
// settle between steps of a ManualClock.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManualClock } from '../../src/clock.ts';
import type { Daemon } from '../../src/daemon.ts';

export interface ConfigOptions {
  every?: string;
  confirm?: number;
  rawRetention?: string;
  extraVigil?: string;
  /** Copies of each probe (ids suffixed -2, -3…), for write-heavy tests. */
  copies?: number;
  /** More `storage:` keys, e.g. `unwritable_grace: 2s`. */
  storage?: string;
}

/** A config dir with one probe per provider and the gateway; URLs come from env like the shipped config. */
export function writeConfig(opts: ConfigOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-daemon-'));
  const every = opts.every ?? '5m';
  writeFileSync(
    join(dir, 'vigil.yaml'),
    `server: { host: 127.0.0.1, port: 0 }
storage: { path: ./vigil.db, raw_retention: ${opts.rawRetention ?? '14d'}, rollup_retention: 400d${opts.storage ? `, ${opts.storage}` : ''} }
scheduler: { confirm_failures: ${opts.confirm ?? 1}, concurrency_per_provider: 4, shutdown_grace: 2s }
providers:
  openai: { kind: openai, base_url: "\${OPENAI_BASE_URL}", api_key: "\${OPENAI_API_KEY}" }
  anthropic: { kind: anthropic, base_url: "\${ANTHROPIC_BASE_URL}", api_key: "\${ANTHROPIC_API_KEY}" }
  gemini: { kind: gemini, base_url: "\${GEMINI_BASE_URL}", api_key: "\${GEMINI_API_KEY}" }
gateway: { flavour: litellm, base_url: "\${GATEWAY_BASE_URL}", api_key: "\${GATEWAY_API_KEY}" }
${opts.extraVigil ?? ''}
`,
  );
  mkdirSync(join(dir, 'probes'));
  const probe = (id: string, target: string, model: string) => `  - id: ${id}
    owner: platform
    target: ${target}
    model: ${model}
    every: ${every}
    stream: true
    prompt: "Reply with the single word: pong"
    max_tokens: 5
    assert: [{ contains: pong }]
`;
  let body = 'probes:\n';
  for (let i = 1; i <= (opts.copies ?? 1); i++) {
    const sfx = i === 1 ? '' : `-${i}`;
    body +=
      probe(`openai-canary${sfx}`, 'provider:openai', 'gpt-4o-mini') +
      probe(`anthropic-canary${sfx}`, 'provider:anthropic', 'claude-haiku-4-5') +
      probe(`gemini-canary${sfx}`, 'provider:gemini', 'gemini-2.5-flash') +
      probe(`gateway-canary${sfx}`, 'gateway', 'gpt-4o-mini');
  }
  writeFileSync(join(dir, 'probes', 'all.yaml'), body);
  return dir;
}

/** Wait (real time) until the scheduler has nothing in flight or queued. */
export async function settle(d: Daemon, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = d.scheduler.stats();
    if (s.inFlight === 0 && s.queued === 0) return;
    if (Date.now() > end) throw new Error(`scheduler did not settle: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Advance a ManualClock in steps, letting real HTTP I/O finish after each. */
export async function advance(clock: ManualClock, d: Daemon, totalMs: number, stepMs: number): Promise<void> {
  for (let t = 0; t < totalMs; t += stepMs) {
    await clock.advance(Math.min(stepMs, totalMs - t));
    await settle(d);
  }
}
