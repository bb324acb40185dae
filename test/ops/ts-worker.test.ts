// Threads started through the compile cache: with a warm cache a thread never loads Node's TypeScript stripper
// (about 17 MB a thread), and a process started with a preload (--import) still gets it on its threads.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hasPreloads } from '../../src/runtime/ts-worker.ts';

const MAIN = resolve(import.meta.dirname, 'fixtures/ts-worker-main.ts');
const PRELOAD = resolve(import.meta.dirname, 'fixtures/preload-flag.mjs');
const cache = mkdtempSync(join(tmpdir(), 'vigil-ts-worker-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

function run(execArgv: string[] = []): { stripper: boolean; preloaded: boolean } {
  const env = { ...process.env, NODE_OPTIONS: '' };
  return JSON.parse(execFileSync(process.execPath, [...execArgv, MAIN, cache], { env, encoding: 'utf8' }));
}

describe('startTsWorker', () => {
  it('a thread started with a warm compile cache does not load the TypeScript stripper', () => {
    run(); // fills the cache
    expect(run()).toEqual({ stripper: false, preloaded: false });
  });

  it('with a preload the thread starts on its file and gets the preload', () => {
    expect(run(['--import', PRELOAD])).toEqual({ stripper: true, preloaded: true });
  });

  it('tells preloads from other flags', () => {
    expect(hasPreloads(['--import', 'x'], '')).toBe(true);
    expect(hasPreloads(['--import=x'], '')).toBe(true);
    expect(hasPreloads([], '--require ./otel.cjs')).toBe(true);
    expect(hasPreloads(['--max-old-space-size=512', '--important-flag'], '--no-warnings')).toBe(false);
  });
});
