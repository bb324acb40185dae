// The `detectors:` section of vigil.yaml: settings of the drift detectors (refusal/safety, output, model change).
// The latency detector is configured per probe (`latency:`), since its SLOs are per probe.
import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';

const duration = (what: string) =>
  z
    .string()
    .refine((s) => parseDuration(s) !== null, 'a duration such as "12h" or "7d"')
    .describe(what);
const severity = z.enum(['critical', 'warning', 'info']);
const budget = z.number().positive().max(100).describe('Expected false alarms per month for this detector, all streams together.');

export const detectorsConfigSchema = z
  .strictObject({
    refusal_drift: z
      .strictObject({
        false_alarms_per_month: budget.optional(),
        min_shift: z.number().positive().max(1).optional().describe('Smallest absolute rise of the refusal (or compliance) rate worth detecting, e.g. 0.05.'),
        min_rate: z.number().min(0).max(1).optional().describe('Floor of the learnt baseline rate.'),
        half_life: duration('How fast the baseline forgets.').optional(),
        guard: duration('Recent samples kept out of the baseline, so a change is not learnt before it is detected.').optional(),
        min_baseline: z.number().int().min(1).optional().describe('Samples needed before testing.'),
        accept_after: duration('A change this old becomes the new baseline (and its signal resolves).').optional(),
        window: duration('History replayed from the store at start.').optional(),
        severity: z.strictObject({ over_refusal: severity.optional(), safety_leak: severity.optional() }).optional(),
      })
      .optional()
      .describe('Over-refusal of benign prompts and safety leaks of should-refuse prompts, per provider and model.'),
    output_drift: z
      .strictObject({
        false_alarms_per_month: budget.optional(),
        min_shift: z.number().positive().max(1).optional(),
        length_shift_sd: z.number().positive().optional().describe('Shift of answer length worth detecting, in standard deviations.'),
        min_length_change: z.number().min(0).max(10).optional().describe('Practical effect: answers at least this share longer or shorter than the baseline (0.25 = 25 %).'),
        min_length_tokens: z.number().min(0).optional().describe('Practical effect: and at least this many output tokens longer or shorter.'),
        min_rate_change: z.number().min(0).max(1).optional().describe('Practical effect: a rate (invalid JSON, truncation) at least this far above the baseline (0.05 = 5 points).'),
        half_life: duration('How fast the baseline forgets.').optional(),
        guard: duration('Recent samples kept out of the baseline.').optional(),
        min_baseline: z.number().int().min(1).optional(),
        accept_after: duration('A change this old becomes the new baseline.').optional(),
        window: duration('History replayed from the store at start.').optional(),
        severity: severity.optional(),
      })
      .optional()
      .describe('Answer length, JSON/schema validity and finish-reason mix per probe.'),
    model_change: z
      .strictObject({
        persist: z.number().int().min(1).optional().describe('Results a new served snapshot must appear in before it counts.'),
        candidate_ttl: duration('Window in which those results must arrive.').optional(),
        forget_after: duration('A value not seen for this long is forgotten (its return is news again).').optional(),
        learn_results: z.number().int().min(0).optional().describe('First results of a stream learnt silently (load-balanced pools).'),
        settle: duration('Snapshot/fingerprint signals resolve after this.').optional(),
        severity: severity.optional(),
        pin_severity: severity.optional(),
        fingerprint: z
          .strictObject({
            enabled: z.boolean().optional(),
            persist: z.number().int().min(1).optional(),
            min_interval: duration('At most one fingerprint signal per stream this often.').optional(),
            severity: severity.optional(),
          })
          .optional(),
        window: duration('History replayed from the store at start.').optional(),
      })
      .optional()
      .describe('Served model differs from the pinned snapshot, an alias re-pointed, or system_fingerprint changed.'),
  })
  .describe('Drift detector settings.');

export type DetectorsConfig = z.output<typeof detectorsConfigSchema>;
