// Indexed binary min-heap: each item remembers its position, so remove/update are O(log n) without a search.
// The scheduler keeps one entry per probe in it, keyed by the next planned time.

export interface HeapItem {
  /** Sort key (epoch ms of the next planned run). */
  key: number;
  /** Tie-breaker for equal keys (insertion order), so dispatch order is deterministic. */
  order: number;
  /** Position in the heap array; -1 when not in the heap. Owned by the heap. */
  heapIndex: number;
}

export class IndexedMinHeap<T extends HeapItem> {
  private a: T[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): T | undefined {
    return this.a[0];
  }

  has(x: T): boolean {
    return x.heapIndex >= 0 && this.a[x.heapIndex] === x;
  }

  push(x: T): void {
    x.heapIndex = this.a.length;
    this.a.push(x);
    this.up(x.heapIndex);
  }

  pop(): T | undefined {
    const top = this.a[0];
    if (top) this.removeAt(0);
    return top;
  }

  remove(x: T): boolean {
    if (!this.has(x)) return false;
    this.removeAt(x.heapIndex);
    return true;
  }

  /** Restore order after `x.key` changed (either direction). Pushes x when it is not in the heap. */
  update(x: T): void {
    if (!this.has(x)) return this.push(x);
    this.up(x.heapIndex);
    this.down(x.heapIndex);
  }

  clear(): void {
    for (const x of this.a) x.heapIndex = -1;
    this.a = [];
  }

  items(): readonly T[] {
    return this.a;
  }

  private removeAt(i: number): void {
    const a = this.a;
    const x = a[i];
    const last = a.pop()!;
    x.heapIndex = -1;
    if (last === x) return;
    a[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private less(p: T, q: T): boolean {
    return p.key < q.key || (p.key === q.key && p.order < q.order);
  }

  private up(i: number): void {
    const a = this.a;
    const x = a[i];
    while (i > 0) {
      const pi = (i - 1) >> 1;
      const p = a[pi];
      if (!this.less(x, p)) break;
      a[i] = p;
      p.heapIndex = i;
      i = pi;
    }
    a[i] = x;
    x.heapIndex = i;
  }

  private down(i: number): void {
    const a = this.a;
    const n = a.length;
    const x = a[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(a[r], a[l]) ? r : l;
      if (!this.less(a[c], x)) break;
      a[i] = a[c];
      a[i].heapIndex = i;
      i = c;
    }
    a[i] = x;
    x.heapIndex = i;
  }
}
