// Event-loop stall monitor: a short real-time timer notes how late it fires. A late timer means the loop was
// blocked (a runaway regex, a huge synchronous job, swapping) and nothing else ran meanwhile: not probes, not
// the incident engine, not /healthz. Real time on purpose: a stall is a property of this process, not of the
// injected clock.

export interface LoopStall {
  /** When the stall ended (epoch ms, wall clock). */
  at: number;
  /** How long the loop was blocked beyond the timer's period. */
  ms: number;
}

export interface LoopStatus {
  /** The longest stall within `windowMs`, or null when there was none above `stallMs`. */
  recentStall: LoopStall | null;
  /** Longest lag seen in the window, whatever its size (ms). */
  maxLagMs: number;
  /** Is the loop considered stalled now (a stall ≥ stallMs ended within windowMs)? */
  stalled: boolean;
}

export class LoopMonitor {
  private readonly periodMs: number;
  private readonly stallMs: number;
  private readonly windowMs: number;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private lags: { at: number; ms: number }[] = [];
  private readonly onStall: (s: LoopStall) => void;

  constructor(opts: { stallMs: number; windowMs?: number; periodMs?: number; onStall?: (s: LoopStall) => void }) {
    this.stallMs = opts.stallMs;
    this.windowMs = opts.windowMs ?? 60_000;
    this.periodMs = opts.periodMs ?? 250;
    this.onStall = opts.onStall ?? (() => {});
  }

  start(): void {
    if (this.timer) return;
    this.last = performance.now();
    this.timer = setInterval(() => this.beat(), this.periodMs);
    // Never the reason the process stays up.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  status(nowWall = Date.now()): LoopStatus {
    const since = nowWall - this.windowMs;
    this.lags = this.lags.filter((l) => l.at >= since);
    // The timer may not have had its turn yet after a stall that just ended: count the pending lag too.
    const pending = this.timer ? performance.now() - this.last - this.periodMs : 0;
    const all = pending >= 10 ? [...this.lags, { at: nowWall, ms: Math.round(pending) }] : this.lags;
    let maxLagMs = 0;
    let worst: LoopStall | null = null;
    for (const l of all) {
      if (l.ms > maxLagMs) maxLagMs = l.ms;
      if (l.ms >= this.stallMs && (!worst || l.ms > worst.ms)) worst = { at: l.at, ms: l.ms };
    }
    return { recentStall: worst, maxLagMs: Math.round(maxLagMs), stalled: worst !== null };
  }

  private beat(): void {
    const now = performance.now();
    const lag = now - this.last - this.periodMs;
    this.last = now;
    // Keep the window small: only lags worth reporting (≥ 10 ms) are remembered.
    if (lag < 10) return;
    const at = Date.now();
    this.lags.push({ at, ms: Math.round(lag) });
    if (lag >= this.stallMs) this.onStall({ at, ms: Math.round(lag) });
  }
}
