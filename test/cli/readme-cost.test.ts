// The README's monthly cost of the shipped config is what `vigil validate` prints for it, probe count included.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validateCommand } from '../../src/config/validate-cli.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('README cost figure', () => {
  it('matches the TOTAL line of `vigil validate` on the shipped config', () => {
    let text = '';
    const code = validateCommand(ROOT, {}, { write: (s: string) => ((text += s), true) }, { allowMissingEnv: true });
    expect(code).toBe(0);
    const total = /^TOTAL \((\d+) probes\)\s+[\d,]+\s+(\$[\d.]+)$/m.exec(text);
    expect(total, text).not.toBeNull();
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const claim = /The shipped config \((\d+) probes\) comes to (\$[\d.]+) a month by `npm run vigil -- validate`/.exec(readme);
    expect(claim, 'README sentence about the monthly cost').not.toBeNull();
    expect({ probes: claim![1], cost: claim![2] }).toEqual({ probes: total![1], cost: total![2] });
  });
});
