// Strings the daemon keeps for its whole life: equal values shared, none a slice that keeps a config file's text
// alive (src/intern.ts). String identity is not observable from JavaScript, so the memory side is checked where
// it shows: a heap snapshot of a process that loaded a 2,000-probe config.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Interner, flatCopy } from '../../src/intern.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('Interner', () => {
  it('gives back equal values, leaves long strings and non-plain objects alone', () => {
    const i = new Interner();
    const when = new Date(0);
    const bytes = new Uint8Array([1, 2]);
    const long = 'x'.repeat(300);
    const tree = { a: 'openai', b: ['stop', 'openai', { c: 'contains "pong"' }], n: 3, z: null, when, bytes, long };
    const out = i.deep(tree);
    expect(out).toBe(tree); // in place
    expect(out).toEqual({ a: 'openai', b: ['stop', 'openai', { c: 'contains "pong"' }], n: 3, z: null, when, bytes, long });
    expect(out.when).toBe(when);
    expect(i.size).toBe(3); // openai, stop, contains "pong"; the long string is not in the table
  });

  it('starts its table again when full, so strings that never repeat cannot grow it', () => {
    const i = new Interner({ maxEntries: 100 });
    for (let k = 0; k < 1_000; k++) expect(i.string(`request id ${k}`)).toBe(`request id ${k}`);
    expect(i.size).toBeLessThanOrEqual(100);
    expect(i.size).toBeGreaterThan(0);
  });

  it('flatCopy keeps the value', () => {
    const src = 'probes:\n  - prompt: "Reply with the single word: pong"\n';
    const slice = src.slice(src.indexOf('Reply'), src.lastIndexOf('"'));
    expect(flatCopy(slice)).toBe('Reply with the single word: pong');
    expect(flatCopy('short')).toBe('short');
  });

  it('a loaded config does not keep its file\'s text alive', { timeout: 120_000 }, () => {
    // In a child: write a 2,000-probe config whose prompts are long enough to be V8 slices, load it the way the
    // daemon does, keep the config, collect, and look for the file's text (or anything near its size) in a heap
    // snapshot. Before src/intern.ts, every prompt was a slice of the text and kept all of it.
    const code = `
      import { mkdtempSync, mkdirSync, writeFileSync, statSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      import { pathToFileURL } from 'node:url';
      import v8 from 'node:v8';
      const { loadRunConfig } = await import(pathToFileURL(${JSON.stringify(join(ROOT, 'src/config/run-load.ts'))}).href);
      const dir = mkdtempSync(join(tmpdir(), 'vigil-intern-'));
      writeFileSync(join(dir, 'vigil.yaml'), 'storage: { path: ./vigil.db }\\nproviders:\\n  openai: { kind: openai, base_url: "http://127.0.0.1:9", api_key: k }\\n');
      mkdirSync(join(dir, 'probes'));
      const lines = ['probes:'];
      for (let i = 0; i < 2000; i++) lines.push('  - { id: p' + i + ', owner: platform, target: "provider:openai", model: gpt-4o-mini, every: 60s, prompt: "Reply with the single word: pong (' + i + ')", assert: [{ contains: pong }] }');
      writeFileSync(join(dir, 'probes', 'bench.yaml'), lines.join('\\n') + '\\n');
      const size = statSync(join(dir, 'probes', 'bench.yaml')).size;
      const { config } = loadRunConfig(dir, {}, {});
      globalThis.keep = config;
      if (config.probes.length !== 2000) throw new Error('loaded ' + config.probes.length + ' probes');
      globalThis.gc();
      let text = '';
      for await (const chunk of v8.getHeapSnapshot()) text += chunk;
      const snap = JSON.parse(text);
      const nf = snap.snapshot.meta.node_fields, types = snap.snapshot.meta.node_types[0];
      const it = nf.indexOf('type'), is = nf.indexOf('self_size'), iname = nf.indexOf('name');
      let kept = 0;
      for (let i = 0; i < snap.nodes.length; i += nf.length) {
        if (types[snap.nodes[i + it]] === 'string' && snap.strings[snap.nodes[i + iname]].startsWith('probes:') && snap.nodes[i + is] > 10000) kept += snap.nodes[i + is];
      }
      console.log(JSON.stringify({ size, kept }));`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 1 << 24 });
    const { size, kept } = JSON.parse(out.trim().split('\n').at(-1)!) as { size: number; kept: number };
    expect(size).toBeGreaterThan(200_000);
    expect(kept).toBe(0); // no string holding the file's text
  });
});
