// The test clock (NUMOS_TEST_CLOCK=1 only): "now" moves forward, for every instance
// and the job runner, and the jobs that became due in between run before the answer.
import type { App } from '../../instance.js';
import { OffsetClock } from '../../clock.js';
import { userError, type UserError } from '../../domain/errors.js';
import { formatFrenchDateTime, TIME_ZONE } from '../../lib/calendar.js';
import { runScheduledJob } from '../../jobs/run.js';
import { lockKey, prismaSql } from '../../db/sql.js';

export const TEST_CLOCK_SETTING = 'testClock.offsetMs';

/** Reads the shared offset, so this instance's clock agrees with the one that last moved it. */
export async function syncTestClock(app: App): Promise<void> {
  const row = await app.prisma.setting.findUnique({ where: { key: TEST_CLOCK_SETTING } });
  if (typeof row?.value === 'number' && app.clock instanceof OffsetClock) app.clock.setOffset(row.value);
}

export interface AdvanceResult {
  now: Date;
  jobsRun: string[];
  errors: UserError[];
}

export async function advanceTestClock(app: App, to: Date): Promise<AdvanceResult> {
  const clock = app.clock as OffsetClock;
  // One advance at a time across instances; the lock is held while the due jobs run.
  return app.prisma.$transaction(
    async (tx) => {
      await lockKey(prismaSql(tx), 72_707_003);
      await syncTestClock(app);
      const from = clock.now();
      if (to.getTime() <= from.getTime()) {
        return {
          now: from,
          jobsRun: [],
          errors: [userError('INVALID_INPUT', `L'horloge de test ne recule jamais : choisissez un instant après le ${formatFrenchDateTime(from)}.`, 'to')],
        };
      }
      const offset = to.getTime() - Date.now();
      await tx.setting.upsert({ where: { key: TEST_CLOCK_SETTING }, create: { key: TEST_CLOCK_SETTING, value: offset }, update: { value: offset } });
      clock.setOffset(offset);
      const jobsRun: string[] = [];
      for (const job of app.schedules) {
        const [next] = app.boss.previewSchedule(job.cron, { tz: TIME_ZONE, from, count: 1 });
        if (next && next.getTime() <= to.getTime()) {
          await runScheduledJob(app, job, to);
          jobsRun.push(job.name);
        }
      }
      return { now: to, jobsRun, errors: [] };
    },
    { timeout: 600_000, maxWait: 60_000 },
  );
}
