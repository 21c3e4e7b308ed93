// Calendar arithmetic in Europe/Paris. Durations of the life cycle ("1 month", "1 year", "15 days")
// are wall-clock durations for a person in Moselle, so they are computed on Paris local time: adding
// a day across a daylight-saving change keeps the hour, adding a month to 31 January lands on the
// last day of February.
import { TZDate, tzOffset } from '@date-fns/tz';
// One file each: date-fns's index loads its 300 modules, seconds of a server's start.
import { addDays } from 'date-fns/addDays';
import { addMonths } from 'date-fns/addMonths';
import { addYears } from 'date-fns/addYears';

export const TIME_ZONE = 'Europe/Paris';

const inParis = (instant: Date) => new TZDate(instant.getTime(), TIME_ZONE);
const toInstant = (date: Date) => new Date(date.getTime());

// Paris's offset from UTC only changes on a whole UTC hour (01:00 UTC, the last Sundays of March
// and October), so it is looked up once per hour: the quota calls read the Paris date of "now"
// on every request, and a time-zone lookup costs more than the rest of that arithmetic.
let offsetHour = Number.NaN;
let offsetMs = 0;

/** The Paris wall clock of an instant, as the UTC fields of a Date. */
function parisFields(instant: Date): { year: number; month: number; day: number } {
  const hour = Math.floor(instant.getTime() / 3_600_000);
  if (hour !== offsetHour) {
    offsetMs = tzOffset(TIME_ZONE, new Date(hour * 3_600_000)) * 60_000;
    offsetHour = hour;
  }
  const wall = new Date(instant.getTime() + offsetMs);
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

const pad = (n: number) => String(n).padStart(2, '0');

export function addParisDays(instant: Date, days: number): Date {
  return toInstant(addDays(inParis(instant), days));
}

export function addParisMonths(instant: Date, months: number): Date {
  return toInstant(addMonths(inParis(instant), months));
}

export function addParisYears(instant: Date, years: number): Date {
  return toInstant(addYears(inParis(instant), years));
}

/** The quota period of an instant: its calendar month in Paris, as YYYY-MM. */
export function monthPeriod(instant: Date): string {
  const { year, month } = parisFields(instant);
  return `${year}-${pad(month)}`;
}

/** First instant of a period (YYYY-MM): the 1st at 00:00 Paris time. */
export function periodStart(period: string): Date {
  let start = periodStarts.get(period);
  if (start === undefined) {
    const match = /^(\d{4})-(\d{2})$/.exec(period);
    if (!match) throw new RangeError(`Période invalide : ${period}`);
    start = new TZDate(Number(match[1]), Number(match[2]) - 1, 1, TIME_ZONE).getTime();
    if (periodStarts.size >= 1_000) periodStarts.clear();
    periodStarts.set(period, start);
  }
  return new Date(start);
}

/** Period starts already computed (a handful of months are asked for, again and again). */
const periodStarts = new Map<string, number>();

/** First instant of the month after the one holding `instant`, i.e. when quotas reset. */
export function nextPeriodStart(instant: Date): Date {
  return periodStart(nextPeriod(monthPeriod(instant)));
}

/** The period after `period` (YYYY-MM). */
export function nextPeriod(period: string): string {
  const [year, month] = period.split('-').map(Number) as [number, number];
  return month === 12 ? `${year + 1}-01` : `${year}-${pad(month + 1)}`;
}

/** The Paris calendar date of an instant, as YYYY-MM-DD. */
export function parisDate(instant: Date): string {
  const { year, month, day } = parisFields(instant);
  return `${year}-${pad(month)}-${pad(day)}`;
}

/** A calendar date stored as such (a DATE column, read back as UTC midnight): YYYY-MM-DD. */
export const isoDate = (date: Date): string => date.toISOString().slice(0, 10);

/** Midnight (Paris) starting a calendar date YYYY-MM-DD. */
export function parisStartOfDay(date: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return toInstant(new TZDate(y, m - 1, d, TIME_ZONE));
}

const frenchDate = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: TIME_ZONE });
const frenchDateTime = new Intl.DateTimeFormat('fr-FR', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: TIME_ZONE,
});

/** "5 mars 2027": the form used in e-mails. */
export function formatFrenchDate(instant: Date): string {
  return frenchDate.format(instant);
}

/** "5 mars 2027 à 14:30" (Paris time). */
export function formatFrenchDateTime(instant: Date): string {
  return frenchDateTime.format(instant);
}

/** Age in whole years on the Paris calendar date of `at`; `birthDate` is YYYY-MM-DD. */
export function ageAt(birthDate: string, at: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  const today = parisFields(at);
  // Compare calendar dates only: a person born on 29 February turns a year older on 1 March.
  return today.year - y - (today.month < m || (today.month === m && today.day < d) ? 1 : 0);
}

export type AgeGroup = 'CHILD' | 'TEEN' | 'ADULT';

/** CHILD under 12 (the children's space), TEEN 12 to 17, ADULT 18 and over. */
export function ageGroupOf(age: number): AgeGroup {
  if (age < 12) return 'CHILD';
  if (age < 18) return 'TEEN';
  return 'ADULT';
}
