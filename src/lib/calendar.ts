// Calendar arithmetic in Europe/Paris. Durations of the life cycle ("1 month", "1 year", "15 days")
// are wall-clock durations for a person in Moselle, so they are computed on Paris local time: adding
// a day across a daylight-saving change keeps the hour, adding a month to 31 January lands on the
// last day of February.
import { TZDate } from '@date-fns/tz';
import { addDays, addMonths, addYears, differenceInYears, format, startOfMonth } from 'date-fns';

export const TIME_ZONE = 'Europe/Paris';

const inParis = (instant: Date) => new TZDate(instant.getTime(), TIME_ZONE);
const toInstant = (date: Date) => new Date(date.getTime());

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
  return format(inParis(instant), 'yyyy-MM');
}

/** First instant of a period (YYYY-MM): the 1st at 00:00 Paris time. */
export function periodStart(period: string): Date {
  const match = /^(\d{4})-(\d{2})$/.exec(period);
  if (!match) throw new RangeError(`Période invalide : ${period}`);
  return toInstant(new TZDate(Number(match[1]), Number(match[2]) - 1, 1, TIME_ZONE));
}

/** First instant of the month after the one holding `instant`, i.e. when quotas reset. */
export function nextPeriodStart(instant: Date): Date {
  return toInstant(addMonths(startOfMonth(inParis(instant)), 1));
}

/** The period after `period` (YYYY-MM). */
export function nextPeriod(period: string): string {
  return monthPeriod(addParisMonths(periodStart(period), 1));
}

/** The Paris calendar date of an instant, as YYYY-MM-DD. */
export function parisDate(instant: Date): string {
  return format(inParis(instant), 'yyyy-MM-dd');
}

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
  const today = inParis(at);
  // Compare calendar dates only: a person born on 29 February turns a year older on 1 March.
  return differenceInYears(new Date(today.getFullYear(), today.getMonth(), today.getDate()), new Date(y, m - 1, d));
}

export type AgeGroup = 'CHILD' | 'TEEN' | 'ADULT';

/** CHILD under 12 (the children's space), TEEN 12 to 17, ADULT 18 and over. */
export function ageGroupOf(age: number): AgeGroup {
  if (age < 12) return 'CHILD';
  if (age < 18) return 'TEEN';
  return 'ADULT';
}
