// Public surface of the scheduler (see scheduler.ts for behaviour, cron.ts for DST notes).
export { Scheduler, DEFAULT_CONFIRM_CLASSES } from './scheduler.ts';
export type {
  ProbeRunner,
  ProviderStats,
  ResultMeta,
  RunContext,
  SchedulerOptions,
  SchedulerStats,
  SkipReason,
  UpdateSummary,
} from './scheduler.ts';
export { CronSchedule, validateCron } from './cron.ts';
export { wallTime } from '../time.ts';
export { hashFraction, intervalPhase, intervalSlotAfter } from './phase.ts';
