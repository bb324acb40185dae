// The indexed min-heap against a sorted-array reference under random push/pop/remove/update.

import { describe, expect, it } from 'vitest';
import { IndexedMinHeap } from '../../src/scheduler/heap.ts';

interface Item {
  key: number;
  order: number;
  heapIndex: number;
}

describe('IndexedMinHeap', () => {
  it('matches a reference under random operations', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const heap = new IndexedMinHeap<Item>();
    const ref: Item[] = [];
    let order = 0;
    const min = () => [...ref].sort((a, b) => a.key - b.key || a.order - b.order)[0];
    for (let i = 0; i < 20_000; i++) {
      const op = rand();
      if (op < 0.4 || ref.length === 0) {
        const x = { key: Math.floor(rand() * 1000), order: order++, heapIndex: -1 };
        heap.push(x);
        ref.push(x);
      } else if (op < 0.6) {
        expect(heap.pop()).toBe(min());
        ref.splice(ref.indexOf(min()), 1);
        // (pop above removed the same item the reference now drops)
      } else if (op < 0.8) {
        const x = ref[Math.floor(rand() * ref.length)];
        expect(heap.remove(x)).toBe(true);
        expect(heap.remove(x)).toBe(false);
        ref.splice(ref.indexOf(x), 1);
      } else {
        const x = ref[Math.floor(rand() * ref.length)];
        x.key = Math.floor(rand() * 1000);
        heap.update(x);
      }
      expect(heap.size).toBe(ref.length);
      if (ref.length) expect(heap.peek()).toBe(min());
    }
  });
});
