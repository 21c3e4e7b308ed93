import { describe, expect, it } from 'vitest';
import {
  addParisDays,
  addParisMonths,
  addParisYears,
  ageAt,
  ageGroupOf,
  formatFrenchDate,
  monthPeriod,
  nextPeriod,
  nextPeriodStart,
  parisDate,
  parisStartOfDay,
  periodStart,
} from '../../src/lib/calendar.js';

const iso = (d: Date) => d.toISOString();

describe('addParisDays keeps the Paris wall-clock time', () => {
  it.each([
    ['ordinary day', '2026-11-28T09:00:00.000Z', 15, '2026-12-13T09:00:00.000Z'],
    // 29 March 2026: clocks go forward at 02:00; 10:00 Paris is 09:00Z before, 08:00Z after.
    ['over the spring change', '2026-03-28T09:00:00.000Z', 1, '2026-03-29T08:00:00.000Z'],
    // 25 October 2026: clocks go back; 10:00 Paris is 08:00Z before, 09:00Z after.
    ['over the autumn change', '2026-10-24T08:00:00.000Z', 1, '2026-10-25T09:00:00.000Z'],
    ['backwards', '2026-03-29T08:00:00.000Z', -1, '2026-03-28T09:00:00.000Z'],
    ['15 days across the spring change', '2026-03-20T23:30:00.000Z', 15, '2026-04-04T22:30:00.000Z'],
  ])('%s', (_label, from, days, expected) => {
    expect(iso(addParisDays(new Date(from), days))).toBe(expected);
  });
});

describe('addParisMonths and addParisYears clamp to month ends', () => {
  it.each([
    ['31 January + 1 month = 28 February', '2027-01-31T11:00:00.000Z', 1, '2027-02-28T11:00:00.000Z'],
    ['31 January + 1 month in a leap year', '2028-01-31T11:00:00.000Z', 1, '2028-02-29T11:00:00.000Z'],
    ['31 March + 1 month = 30 April (summer time)', '2027-03-31T10:00:00.000Z', 1, '2027-04-30T10:00:00.000Z'],
    ['across the autumn change keeps 12:00 Paris', '2026-10-15T10:00:00.000Z', 1, '2026-11-15T11:00:00.000Z'],
    ['midnight Paris on 1 March + 1 month', '2026-02-28T23:00:00.000Z', 1, '2026-03-31T22:00:00.000Z'],
  ])('%s', (_label, from, months, expected) => {
    expect(iso(addParisMonths(new Date(from), months))).toBe(expected);
  });

  it.each([
    ['one year', '2026-11-28T09:00:00.000Z', 1, '2027-11-28T09:00:00.000Z'],
    ['29 February + 1 year = 28 February', '2028-02-29T11:00:00.000Z', 1, '2029-02-28T11:00:00.000Z'],
    ['summer to summer', '2026-07-01T08:00:00.000Z', 1, '2027-07-01T08:00:00.000Z'],
  ])('%s', (_label, from, years, expected) => {
    expect(iso(addParisYears(new Date(from), years))).toBe(expected);
  });
});

describe('month periods follow the Paris calendar', () => {
  it.each([
    ['last millisecond of January in winter', '2027-01-31T22:59:59.999Z', '2027-01'],
    ['first instant of February in winter', '2027-01-31T23:00:00.000Z', '2027-02'],
    ['last millisecond of June in summer', '2027-06-30T21:59:59.999Z', '2027-06'],
    ['first instant of July in summer', '2027-06-30T22:00:00.000Z', '2027-07'],
    ['New Year', '2026-12-31T23:00:00.000Z', '2027-01'],
    ['March, over the spring change', '2027-03-31T21:59:59.999Z', '2027-03'],
    ['October, over the autumn change', '2026-10-31T22:59:59.999Z', '2026-10'],
  ])('%s', (_label, instant, period) => {
    expect(monthPeriod(new Date(instant))).toBe(period);
  });

  it.each([
    ['eve of the spring change, last millisecond', '2027-03-27T22:59:59.999Z', '2027-03-27'],
    ['day of the spring change, first instant', '2027-03-27T23:00:00.000Z', '2027-03-28'],
    ['day of the spring change, last millisecond (summer time)', '2027-03-28T21:59:59.999Z', '2027-03-28'],
    ['day after the spring change', '2027-03-28T22:00:00.000Z', '2027-03-29'],
    ['day of the autumn change, last millisecond (winter time)', '2026-10-25T22:59:59.999Z', '2026-10-25'],
    ['day after the autumn change', '2026-10-25T23:00:00.000Z', '2026-10-26'],
  ])('Paris date: %s', (_label, instant, date) => {
    expect(parisDate(new Date(instant))).toBe(date);
  });

  it.each([
    ['2027-01', '2026-12-31T23:00:00.000Z'],
    ['2027-04', '2027-03-31T22:00:00.000Z'],
    ['2026-11', '2026-10-31T23:00:00.000Z'],
  ])('period %s starts at %s', (period, start) => {
    expect(iso(periodStart(period))).toBe(start);
  });

  it.each([
    ['2026-11-28T09:00:00.000Z', '2026-11-30T23:00:00.000Z'],
    ['2027-03-15T09:00:00.000Z', '2027-03-31T22:00:00.000Z'],
    ['2027-12-31T22:59:59.999Z', '2027-12-31T23:00:00.000Z'],
  ])('quotas taken at %s reset at %s', (instant, reset) => {
    expect(iso(nextPeriodStart(new Date(instant)))).toBe(reset);
  });

  it('nextPeriod rolls the year over', () => {
    expect(nextPeriod('2026-12')).toBe('2027-01');
    expect(nextPeriod('2027-02')).toBe('2027-03');
  });

  it('rejects a malformed period', () => {
    expect(() => periodStart('2027-1')).toThrow(RangeError);
  });
});

describe('Paris dates', () => {
  it.each([
    ['2026-11-28T22:59:59.999Z', '2026-11-28'],
    ['2026-11-28T23:00:00.000Z', '2026-11-29'],
    ['2027-07-14T21:59:00.000Z', '2027-07-14'],
    ['2027-07-14T22:00:00.000Z', '2027-07-15'],
  ])('%s is %s in Paris', (instant, date) => {
    expect(parisDate(new Date(instant))).toBe(date);
  });

  it('parisStartOfDay is Paris midnight, winter and summer', () => {
    expect(iso(parisStartOfDay('2026-12-01'))).toBe('2026-11-30T23:00:00.000Z');
    expect(iso(parisStartOfDay('2027-07-01'))).toBe('2027-06-30T22:00:00.000Z');
  });

  it('formats dates in French', () => {
    expect(formatFrenchDate(new Date('2027-03-05T10:00:00Z'))).toBe('5 mars 2027');
    expect(formatFrenchDate(new Date('2026-12-31T23:30:00Z'))).toBe('1 janvier 2027');
  });
});

describe('age', () => {
  it.each([
    ['day before the 12th birthday', '2014-11-29', '2026-11-28T12:00:00Z', 11, 'CHILD'],
    ['12th birthday', '2014-11-28', '2026-11-28T12:00:00Z', 12, 'TEEN'],
    ['birthday begins at Paris midnight', '2008-11-29', '2026-11-28T23:30:00Z', 18, 'ADULT'],
    ['still 17 the evening before in Paris', '2008-11-29', '2026-11-28T22:30:00Z', 17, 'TEEN'],
    ['born 29 February, non-leap year, 28 February', '2008-02-29', '2026-02-28T12:00:00Z', 17, 'TEEN'],
    ['born 29 February, non-leap year, 1 March', '2008-02-29', '2026-03-01T12:00:00Z', 18, 'ADULT'],
    ['newborn', '2026-11-28', '2026-11-28T12:00:00Z', 0, 'CHILD'],
  ])('%s', (_label, birthDate, at, age, group) => {
    const years = ageAt(birthDate, new Date(at));
    expect(years).toBe(age);
    expect(ageGroupOf(years)).toBe(group);
  });
});
