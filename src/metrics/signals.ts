// `vigil_signals_firing`: how many of Vigil's own judgements (detector signals) are firing right now, by
// detector, severity and the owner/provider/model/probe they concern. Teams that page from Alertmanager alert
// on Vigil's verdicts (latency against the hour-of-week baseline, drift, model changes) instead of
// re-deriving them in PromQL. Fed with every signal on its way to the incidents engine.
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Signal } from '../domain.ts';
import { OTHER, configLabel, sanitizeServedModel } from './labels.ts';

export const SIGNALS_FIRING = 'vigil_signals_firing';
const LABELS = ['detector', 'severity', 'owner', 'provider', 'model', 'probe'] as const;
/** Distinct label sets kept before new ones are folded into `other` (webhook signals name models freely). */
const MAX_SETS = 500;

type Labels = Record<(typeof LABELS)[number], string>;

export interface SignalMetrics {
  observe(s: Signal): void;
}

export function registerSignalMetrics(registry: Registry): SignalMetrics {
  const gauge = new Gauge({
    name: SIGNALS_FIRING,
    help: 'Vigil detector signals currently firing (1 per firing signal), by detector, severity, owner, provider, model and probe.',
    labelNames: [...LABELS],
    registers: [registry],
  });
  // detector\0key → the label set its firing signal was counted under.
  const firing = new Map<string, { labels: Labels; id: string }>();
  const counts = new Map<string, number>();

  const labelsOf = (s: Signal): Labels => {
    const l: Labels = {
      detector: configLabel(s.detector),
      severity: configLabel(s.severity),
      owner: s.labels.owner ? configLabel(s.labels.owner) : '',
      provider: s.labels.provider ? configLabel(s.labels.provider) : '',
      model: s.labels.model ? sanitizeServedModel(s.labels.model) : '',
      probe: s.labels.probe ? configLabel(s.labels.probe) : '',
    };
    const id = JSON.stringify(l);
    if (!counts.has(id) && counts.size >= MAX_SETS) return { ...l, owner: OTHER, provider: OTHER, model: OTHER, probe: OTHER };
    return l;
  };
  const add = (labels: Labels, id: string, by: 1 | -1) => {
    const n = (counts.get(id) ?? 0) + by;
    if (n <= 0) {
      counts.delete(id);
      gauge.remove(labels);
    } else {
      counts.set(id, n);
      gauge.set(labels, n);
    }
  };

  return {
    observe(s) {
      const key = `${s.detector}\0${s.key}`;
      const prev = firing.get(key);
      if (prev) {
        add(prev.labels, prev.id, -1);
        firing.delete(key);
      }
      if (s.status !== 'firing') return;
      const labels = labelsOf(s);
      const id = JSON.stringify(labels);
      firing.set(key, { labels, id });
      add(labels, id, 1);
    },
  };
}
