// Vigil's metrics about itself: what is disabled for lack of a variable, and (see self-monitoring) whether it can
// still do its job. Label values come from the config (probe ids, variable names), so they are bounded.
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Disabled } from '../config/requirements.ts';

export class DisabledMetrics {
  private readonly gauge: Gauge<'kind' | 'name' | 'missing'>;

  constructor(registry: Registry) {
    this.gauge = new Gauge({
      name: 'vigil_disabled',
      help: 'Parts of the config that do not run because an environment variable they need is unset (1 each).',
      labelNames: ['kind', 'name', 'missing'],
      registers: [registry],
    });
  }

  set(disabled: Disabled | undefined): void {
    this.gauge.reset();
    if (!disabled) return;
    for (const [id, vars] of Object.entries(disabled.probes)) this.gauge.set({ kind: 'probe', name: id, missing: vars.join(',') }, 1);
    for (const [id, vars] of Object.entries(disabled.drills)) this.gauge.set({ kind: 'drill', name: id, missing: vars.join(',') }, 1);
    for (const [what, vars] of Object.entries(disabled.other)) this.gauge.set({ kind: 'other', name: what, missing: vars.join(',') }, 1);
  }
}

/** Whether the store can be written, and what waits in memory meanwhile (read at scrape time). */
export function registerStoreMetrics(registry: Registry, src: { writable: () => boolean; pending: () => number; pendingSignals: () => number; dropped: () => number }): void {
  new Gauge({
    name: 'vigil_store_writable',
    help: 'Whether the last writes to the store worked (0 on a full disk or read-only volume).',
    registers: [registry],
    collect() {
      this.set(src.writable() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'vigil_store_pending_results',
    help: 'Probe results kept in memory because the store could not be written; written when it can.',
    registers: [registry],
    collect() {
      this.set(src.pending());
    },
  });
  new Gauge({
    name: 'vigil_store_pending_signals',
    help: 'Detector signals kept in memory because the store could not be written; replayed when it can.',
    registers: [registry],
    collect() {
      this.set(src.pendingSignals());
    },
  });
  // A counter read from the spill's own count (prom-client counters can't be set; this is monotonic by construction).
  new Gauge({
    name: 'vigil_store_dropped_results',
    help: 'Probe results dropped since start because the store could not be written and the memory buffer (storage.memory_buffer) was full.',
    registers: [registry],
    collect() {
      this.set(src.dropped());
    },
  });
}
