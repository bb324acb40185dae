// kill -9 in the middle of writing: the file must be consistent and hold every result the writer saw committed.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';
import { makeResult } from './fixtures/gen.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`; // symlink to the real binary: SIGKILL reaches node itself
const WRITER = fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url));

// A writer left running by a failed or timed-out test would write forever: always killed afterwards.
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Run the writer until it has reported `killAfter` committed results, SIGKILL it, return the last count seen. */
function runAndKill(path: string, batch: number, killAfter: number): Promise<{ reported: number; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [WRITER, path, String(batch)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let buf = '';
    let reported = 0;
    let killed = false;
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      if (killed) return; // anything after the kill decision does not count as "seen committed"
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      if (lines.length) reported = Number(lines.at(-1));
      if (reported >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!killed) reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
      else resolve({ reported, signal });
    });
  });
}

describe.each(BACKENDS)('store: crash safety (%s)', (backend) => {
  // Different kill points and batch sizes; some land during WAL auto-checkpoints (every ~1000 pages).
  for (const [batch, killAfter] of [
    [1, 300],
    [1, 2500],
    [25, 700],
    [25, 6000],
  ] as const) {
    it.skipIf(skipBackend(backend))(`kill -9 after ${killAfter} results (batch ${batch}) loses nothing committed`, async () => {
      const path = await freshStoreTarget(backend);
      const { reported, signal } = await runAndKill(path, batch, killAfter);
      expect(signal).toBe('SIGKILL');
      expect(reported).toBeGreaterThanOrEqual(killAfter);

      const s = await Store.connect(path);
      expect(s.integrityCheck()).toEqual(['ok']);
      const n = await s.countResults();
      // Everything reported is there; at most the in-flight commits beyond it (the pipe may lag the writer).
      expect(n).toBeGreaterThanOrEqual(reported);
      // Transactions are atomic: a batch is all there or not at all.
      expect(n % batch).toBe(0);
      // And the content is exactly what was written, in order.
      const back = await s.results({ limit: reported });
      expect(back).toStrictEqual(Array.from({ length: reported }, (_, i) => makeResult(i)));
      // The DB keeps working after recovery.
      await s.insertResult(makeResult(n));
      expect(await s.countResults()).toBe(n + 1);
      await s.close();
    }, 60_000);
  }
});
