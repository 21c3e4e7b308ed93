// The département's licence pool: how many accounts may be ACTIVE at once.
import { createElement } from 'react';
import { LicenceAlert } from '../../../emails/LicenceAlert.js';
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import type { Tx } from '../../db/prisma.js';
import { prismaSql } from '../../db/sql.js';
import { unitOfWork, type Work } from '../unit-of-work.js';
import { lockedUse, lockPool, readPool } from './store.js';
import { Refusal, userError, type UserError } from '../../domain/errors.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'db' | 'outbox' | 'prisma' | 'settings'>;

export interface LicencePoolState {
  capacity: number;
  used: number;
  available: number;
}

export async function licencePool(app: Pick<App, 'db' | 'settings'>): Promise<LicencePoolState> {
  return withAvailable(await readPool(app.db, app.settings.licenceCapacity));
}

const withAvailable = ({ capacity, used }: { capacity: number; used: number }): LicencePoolState => ({
  capacity,
  used,
  available: Math.max(0, capacity - used),
});

/**
 * Locks the pool for the rest of the transaction and reads it. Every acceptance takes this lock,
 * so two of them cannot both take the last licence.
 */
export async function lockLicencePool(tx: Tx, defaultCapacity: number): Promise<LicencePoolState & { alertLevel: number }> {
  const pool = await lockPool(prismaSql(tx), defaultCapacity);
  return { ...withAvailable(pool), alertLevel: pool.alert_level };
}

const levelOf = (used: number, capacity: number) => (used >= capacity ? 100 : used * 10 >= capacity * 9 ? 90 : 0);

/**
 * Alerts the DLPB once when use crosses 90 % and once when it reaches 100 %; the level falls back
 * when use does (capacity raised, accounts expired), so a later crossing alerts again. Call with
 * the pool locked.
 */
export async function checkLicenceAlert(app: Pick<App, 'config'>, work: Work, previousLevel: number): Promise<void> {
  const { capacity, used } = await lockedUse(work.sql);
  const level = levelOf(used, capacity);
  if (level === previousLevel) return;
  await work.tx.licencePool.update({ where: { id: 1 }, data: { alertLevel: level } });
  if (level > previousLevel) {
    await work.email({
      template: 'LicenceAlert',
      to: [app.config.dlpbEmail],
      subject: level === 100 ? 'NuMos : plus aucune licence disponible' : 'NuMos : 90 % des licences utilisées',
      body: createElement(LicenceAlert, { level: level as 90 | 100, used, capacity }),
    });
  }
}

export async function setLicenceCapacity(
  app: Services,
  caller: Caller,
  capacity: number,
): Promise<{ licencePool: LicencePoolState | null; errors: UserError[] }> {
  if (!Number.isInteger(capacity) || capacity < 0 || capacity > 10_000_000) {
    throw new Refusal(userError('INVALID_INPUT', 'La capacité doit être un nombre entier de licences, positif ou nul.', 'capacity'));
  }
  const pool = await unitOfWork(app, { actor: caller }, async (work) => {
    const before = await lockLicencePool(work.tx, app.settings.licenceCapacity);
    await work.tx.licencePool.update({ where: { id: 1 }, data: { capacity } });
    await work.audit({
      action: 'SET_LICENCE_CAPACITY',
      subjectType: 'LicencePool',
      subjectId: '1',
      before: { capacity: before.capacity },
      after: { capacity },
    });
    await checkLicenceAlert(app, work, before.alertLevel);
    return withAvailable({ capacity, used: before.used });
  });
  return { licencePool: pool, errors: [] };
}
