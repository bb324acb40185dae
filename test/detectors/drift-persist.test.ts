// Drift snapshots round-trip numbers JSON cannot write (an alarm bound of Infinity), wherever they sit.
import { describe, expect, it } from 'vitest';
import { decodeDriftSnapshot, encodeDriftSnapshot } from '../../src/detectors/drift-persist.ts';
import type { DriftSnapshot } from '../../src/detectors/drift-persist.ts';

describe('drift snapshot encoding', () => {
  it('restores Infinity, -Infinity and NaN in nested objects and arrays, and leaves look-alikes alone', () => {
    const s = {
      version: 1,
      watermark: 5,
      seen: ['a|1|1'],
      refusal: { version: 1, series: { p: { upper: Infinity, lower: -Infinity, xs: [1, NaN, [Infinity]], note: { $num: 7 } } } },
      output: { version: 1, deep: [{ a: { b: [-Infinity] } }] },
      model: { version: 1, fine: 0.5 },
    } as unknown as DriftSnapshot;
    const text = encodeDriftSnapshot(s);
    expect(text).toContain('"$num"');
    expect(decodeDriftSnapshot(text)).toStrictEqual(s);
    // Without tags the plain parse is the whole job.
    const plain = { ...s, refusal: { version: 1 }, output: { version: 1 } } as unknown as DriftSnapshot;
    expect(decodeDriftSnapshot(encodeDriftSnapshot(plain))).toStrictEqual(plain);
    expect(decodeDriftSnapshot('{"version":2}')).toBeNull();
  });
});
