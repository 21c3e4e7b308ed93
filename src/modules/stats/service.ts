// Statistics for the DLPB and the libraries: registrations over a date range (Paris calendar
// dates, inclusive), accounts, licence pool, consumption and quota saturation per month and
// category. Finished months come from the monthly roll-ups, the others from the live tables.
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import { badArgument } from '../../domain/errors.js';
import { libraryScope } from '../../auth/visibility.js';
import { addParisDays, addParisMonths, monthPeriod, nextPeriod, parisStartOfDay } from '../../lib/calendar.js';
import { licencePool, type LicencePoolState } from '../licences/service.js';
import {
  accountFigures,
  consumptionByMonth,
  membershipCheckFigures,
  registrationFigures,
  rollUpMonth,
  saturationByMonth,
  type RegistrationFigures,
} from './store.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'clock' | 'db' | 'settings'>;

export interface StatsFilter {
  from: string;
  to: string;
  libraryId?: string | null;
}

export interface Stats {
  /** What was asked: the dates and the library (null: all). */
  filter: { from: string; to: string; libraryId: string | null };
  registrations: RegistrationFigures;
  activeAccounts: number;
  temporaryAccounts: number;
  licencePool: LicencePoolState;
  consumption: { period: string; category: string; count: number }[];
  saturation: { period: string; category: string; share: number }[];
  membershipChecks: { outcome: string; count: number }[];
}

const MAX_MONTHS = 120;

export async function stats(app: Services, caller: Caller, filter: StatsFilter): Promise<Stats> {
  const library = libraryScope(caller, filter.libraryId);
  if (filter.from > filter.to) {
    throw badArgument('La date de début doit précéder la date de fin.', 'filter');
  }
  const start = parisStartOfDay(filter.from);
  const end = addParisDays(parisStartOfDay(filter.to), 1);
  const periods: string[] = [];
  for (let p = monthPeriod(start); p <= monthPeriod(new Date(end.getTime() - 1)); p = nextPeriod(p)) {
    periods.push(p);
    if (periods.length > MAX_MONTHS) throw badArgument('Période trop longue : dix ans au plus.', 'filter');
  }
  const [registrations, accounts, pool, consumption, saturation, membershipChecks] = await Promise.all([
    registrationFigures(app.db, start, end, library),
    accountFigures(app.db, library),
    licencePool(app),
    consumptionByMonth(app.db, periods, library),
    saturationByMonth(app.db, periods, library, monthPeriod(app.clock.now())),
    membershipCheckFigures(app.db, start, end, library),
  ]);
  return {
    filter: { from: filter.from, to: filter.to, libraryId: library },
    registrations,
    activeAccounts: accounts.active,
    temporaryAccounts: accounts.temporary,
    licencePool: pool,
    consumption,
    saturation,
    membershipChecks,
  };
}

/**
 * On the 1st of each month: the finished month's consumption and saturation are rolled into the
 * monthly tables, then what no longer serves is pruned: consumption rows and counters older than
 * the month before (idempotency keys live far longer than the 24 hours promised).
 */
export async function rollUpFinishedMonth(app: Services, at: Date): Promise<number> {
  const finished = monthPeriod(addParisMonths(at, -1));
  return app.db.transaction((sql) => rollUpMonth(sql, finished, monthPeriod(addParisMonths(at, -2))));
}
