// `vigil_model_shutdown_timestamp_seconds{model,provider,owner,replacement}`: the effective retirement date of
// every model a probe or declared consumer uses, one series per owner, computed at scrape time from the
// deprecation registry. Alert on `… - time() < 30 * 86400` (retiring soon) and `… <= time()` (retired and still
// in use), as the rules in deploy/prometheus do.
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { configLabel, sanitizeServedModel } from '../metrics/labels.ts';
import type { DeprecationRow } from './format.ts';

export const MODEL_SHUTDOWN_METRIC = 'vigil_model_shutdown_timestamp_seconds';

export function registerLifecycleMetrics(registry: Registry, rows: () => Promise<readonly DeprecationRow[]>): void {
  new Gauge({
    name: MODEL_SHUTDOWN_METRIC,
    help: 'Effective retirement date (00:00 UTC) of a model in use, seconds since the epoch; one series per owner. In the past: retired.',
    labelNames: ['model', 'provider', 'owner', 'replacement'],
    registers: [registry],
    async collect() {
      const all = await rows();
      this.reset();
      for (const r of all) {
        const at = Date.parse(`${r.shutdownAt}T00:00:00Z`) / 1000;
        if (!Number.isFinite(at)) continue;
        for (const owner of r.owners) {
          this.set(
            { model: sanitizeServedModel(r.model), provider: r.provider ? configLabel(r.provider) : '', owner: configLabel(owner), replacement: r.replacement ? sanitizeServedModel(r.replacement) : '' },
            at,
          );
        }
      }
    },
  });
}
