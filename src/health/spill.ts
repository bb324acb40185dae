// What Vigil learns while it cannot write its store (a full disk): probe results and detector signals are kept
// in memory, bounded, and written when the store works again; then one summary says what was missed.
// Bounded on purpose: a disk that stays full for days must not also exhaust memory. Beyond the bound the oldest
// results are dropped (counted); signals are few and small, but bounded too.
import type { ProbeResult, Signal } from '../domain.ts';

export interface SpillSummary {
  /** When writes first failed and when they worked again (epoch ms, the daemon's clock). */
  from: number;
  to: number;
  /** Results kept in memory and written now. */
  written: number;
  /** Results dropped because the buffer was full. */
  dropped: number;
  /** Detector signals replayed into the incident engine. */
  signals: number;
  signalsDropped: number;
  /** Probes with at least one failed result while the store was down, with their counts. */
  failing: Record<string, number>;
}

export class Spill {
  private results: ProbeResult[] = [];
  private signals: Signal[] = [];
  private from: number | null = null;
  /** Results dropped since start (for the counter), and the count before this episode. */
  private dropped = 0;
  private droppedBefore = 0;
  private written = 0;
  private replayed = 0;
  private signalsDropped = 0;
  private failing: Record<string, number> = {};
  private flushing: Promise<SpillSummary | null> | null = null;
  /** Why the last flush stopped (for the log), or ''. */
  lastError = '';
  private readonly capacity: () => number;
  private readonly maxSignals: number;

  constructor(capacity: () => number, maxSignals = 1_000) {
    this.capacity = capacity;
    this.maxSignals = maxSignals;
  }

  get pending(): number {
    return this.results.length;
  }

  get pendingSignals(): number {
    return this.signals.length;
  }

  get droppedTotal(): number {
    return this.dropped;
  }

  /** Is anything waiting for the store? */
  get active(): boolean {
    return this.from !== null;
  }

  addResult(r: ProbeResult, now: number): void {
    this.from ??= now;
    if (r.outcome === 'failed' && (r.confirmed || r.attempt > 1)) this.failing[r.probeId] = (this.failing[r.probeId] ?? 0) + 1;
    const cap = this.capacity();
    this.results.push(r);
    if (this.results.length > cap) {
      const n = this.results.length - cap;
      this.results.splice(0, n);
      this.dropped += n;
    }
  }

  addSignal(s: Signal, now: number): void {
    this.from ??= now;
    this.signals.push(s);
    if (this.signals.length > this.maxSignals) {
      this.signals.shift();
      this.signalsDropped++;
    }
  }

  /**
   * Try to write what is waiting: results in batches (`write`, one transaction each), then signals in order
   * (`ingest`; not yet with `holdSignals`). Stops at the first failure, keeping the rest. Returns the summary once
   * everything is out, else null. Concurrent callers share one attempt.
   */
  flush(
    write: (rs: ProbeResult[]) => Promise<void>,
    ingest: (s: Signal) => void | Promise<void>,
    now: () => number,
    batch = 500,
    holdSignals = false,
  ): Promise<SpillSummary | null> {
    if (this.from === null) return Promise.resolve(null);
    if (!this.flushing) {
      // Assigned before it can settle: an attempt with nothing to await finishes synchronously.
      const attempt = this.flushOnce(write, ingest, now, batch, holdSignals);
      this.flushing = attempt;
      void attempt.finally(() => {
        if (this.flushing === attempt) this.flushing = null;
      });
    }
    return this.flushing;
  }

  private async flushOnce(
    write: (rs: ProbeResult[]) => Promise<void>,
    ingest: (s: Signal) => void | Promise<void>,
    now: () => number,
    batch: number,
    holdSignals: boolean,
  ): Promise<SpillSummary | null> {
    try {
      while (this.results.length) {
        const chunk = this.results.slice(0, batch);
        await write(chunk);
        this.results.splice(0, chunk.length);
        this.written += chunk.length;
      }
      // Results are out; signals wait until whoever ingests them is ready (the lease taken back).
      if (holdSignals && this.signals.length) return null;
      let replayed = 0;
      while (this.signals.length) {
        await ingest(this.signals[0]);
        this.signals.shift();
        replayed++;
      }
      this.replayed += replayed;
      const summary: SpillSummary = {
        from: this.from!,
        to: now(),
        written: this.written,
        dropped: this.dropped - this.droppedBefore,
        signals: this.replayed,
        signalsDropped: this.signalsDropped,
        failing: this.failing,
      };
      this.reset();
      return summary;
    } catch (err) {
      this.lastError = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 200);
      return null;
    }
  }

  private reset(): void {
    this.from = null;
    this.written = 0;
    this.replayed = 0;
    this.signalsDropped = 0;
    this.failing = {};
    // `dropped` stays: it is the metric's counter; the summary reports this episode's share.
    this.droppedBefore = this.dropped;
  }
}
