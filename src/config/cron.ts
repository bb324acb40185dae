// Cron expressions are validated with node-cron itself (the scheduler's library), so `vigil validate`
// accepts exactly what the daemon can schedule. Also counts runs for cost projection.
import cron from 'node-cron';

export interface CronCheck {
  ok: boolean;
  /** node-cron's complaint, e.g. `61 is a invalid expression for minute`. */
  message?: string;
}

export function checkCron(expr: string): CronCheck {
  let result;
  try {
    result = cron.validateDetailed(expr);
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  if (result.valid) return { ok: true };
  return { ok: false, message: result.errors.map((e) => e.message).join('; ') || 'invalid cron expression' };
}

const REFERENCE_YEAR = 2025; // non-leap; the average month is a year / 12
const DAY_MS = 86_400_000;

/**
 * Average runs per month of a valid cron expression, evaluated in UTC over a reference year.
 * node-cron ANDs day-of-month and day-of-week (unlike Vixie cron's OR), and so does this count.
 */
export function cronRunsPerMonth(expr: string): number {
  const f = cron.parse(expr);
  const perDay = f.second.length * f.minute.length * f.hour.length;
  const plainDays = f.dayOfMonth.every((d) => typeof d === 'number') && f.dayOfWeek.every((d) => typeof d === 'number');
  // Special day forms (L, W, #) are matched by node-cron itself, once per day at the first firing time.
  const task = plainDays ? null : cron.createTask(expr, () => {}, { timezone: 'UTC' });
  let days = 0;
  try {
    const start = Date.UTC(REFERENCE_YEAR, 0, 1);
    for (let t = start; new Date(t).getUTCFullYear() === REFERENCE_YEAR; t += DAY_MS) {
      const d = new Date(t);
      if (task) {
        const at = new Date(t + f.hour[0] * 3_600_000 + f.minute[0] * 60_000 + f.second[0] * 1000);
        if (task.match(at)) days++;
      } else if (
        f.month.includes(d.getUTCMonth() + 1) &&
        f.dayOfMonth.includes(d.getUTCDate()) &&
        f.dayOfWeek.includes(d.getUTCDay())
      ) {
        days++;
      }
    }
  } finally {
    void task?.destroy();
  }
  return (days * perDay) / 12;
}
