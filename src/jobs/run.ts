// One run of a scheduled job, by its worker or by the test clock: timed, counted and logged (its
// name, the rows it handled, how long it took).
import type { App, ScheduledJob } from '../instance.js';
import { log } from '../observability/logger.js';

export async function runScheduledJob(app: App, job: ScheduledJob, at: Date): Promise<number> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const stopTimer = app.metrics.jobDuration.startTimer({ job: job.name });
  try {
    const rows = await job.run(app, at);
    app.metrics.jobRuns.inc({ job: job.name, outcome: 'ok' });
    log().info({ job: job.name, rows, ms: elapsed() }, 'tâche planifiée');
    return rows;
  } catch (error) {
    app.metrics.jobRuns.inc({ job: job.name, outcome: 'failed' });
    log().error({ job: job.name, ms: elapsed(), err: error }, 'tâche planifiée en échec');
    throw error;
  } finally {
    stopTimer();
  }
}
