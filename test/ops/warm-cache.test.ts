// `vigil run` fills a cold compile cache before it re-executes (src/runtime/warm-cache.ts), so even the first start
// after an install or upgrade runs without Node's type stripper; an unchanged install skips the work.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceStamp } from '../../src/runtime/warm-cache.ts';
import { DEAD_ENV, opsConfig, startVigil } from './helpers.ts';

const dirs: string[] = [];
const temp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Runtime {
  cacheWarmed: string | null;
  typeStripper: boolean;
  compileCache: string | null;
}

async function runtimeOf(configDir: string, env: Record<string, string | undefined>): Promise<Runtime> {
  const v = startVigil(['run', '--config', configDir, '--port', '0', '--log-format', 'json'], { env: { ...DEAD_ENV, NODE_OPTIONS: undefined, ...env } });
  const line = JSON.parse((await v.waitFor(/"msg":"runtime"/, 60_000)).text) as Runtime;
  await v.waitFor(/vigil running/, 60_000);
  v.kill('SIGTERM');
  expect((await v.exited).code).toBe(0);
  return line;
}

describe('warming the compile cache', () => {
  it('stamps the sources by path, size and modification time, and Node version', () => {
    const src = temp('vigil-stamp-');
    mkdirSync(join(src, 'a'));
    writeFileSync(join(src, 'a', 'x.ts'), 'export const x = 1;\n');
    writeFileSync(join(src, 'notes.md'), 'not code');
    const s1 = sourceStamp(src, 'v24.0.0');
    expect(sourceStamp(src, 'v24.0.0')).toBe(s1);
    expect(sourceStamp(src, 'v24.1.0')).not.toBe(s1);
    writeFileSync(join(src, 'notes.md'), 'still not code, longer');
    expect(sourceStamp(src, 'v24.0.0')).toBe(s1);
    writeFileSync(join(src, 'a', 'x.ts'), 'export const x = 22;\n');
    const s2 = sourceStamp(src, 'v24.0.0');
    expect(s2).not.toBe(s1);
    utimesSync(join(src, 'a', 'x.ts'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    expect(sourceStamp(src, 'v24.0.0')).not.toBe(s2);
  });

  it('a first start on a cold cache warms it and runs without the type stripper; the next start skips warming', async () => {
    const config = opsConfig();
    dirs.push(config);
    const cache = temp('vigil-cc-');
    // The control: started as is, its first file is TypeScript and the cache is empty, so the stripper loads.
    const cold = await runtimeOf(config, { VIGIL_REEXEC: 'off', NODE_COMPILE_CACHE: temp('vigil-cc-cold-') });
    expect(cold.typeStripper).toBe(true);

    const first = await runtimeOf(config, { VIGIL_COMPILE_CACHE: cache, VIGIL_REEXEC: undefined, NODE_COMPILE_CACHE: undefined });
    expect(first.compileCache).toContain(cache);
    expect(Number(first.cacheWarmed)).toBeGreaterThan(0);
    expect(first.typeStripper).toBe(false);

    const second = await runtimeOf(config, { VIGIL_COMPILE_CACHE: cache, VIGIL_REEXEC: undefined, NODE_COMPILE_CACHE: undefined });
    expect(second.cacheWarmed).toBe('up to date');
    expect(second.typeStripper).toBe(false);
  }, 180_000);
});
