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
