// A person as NuMos knows them, whoever writes it (the registration form, a library's correction):
// names cleaned the same way, one identity key, one search text, the same birth-date rule.
import { addParisYears, isoDate, parisDate } from '../lib/calendar.js';
import { normalizeForSearch } from '../lib/text.js';
import { userError, type UserError } from './errors.js';

export const NAME_MAX = 100;

export const cleanName = (value: string) => value.normalize('NFC').replace(/\s+/g, ' ').trim();

/** One live account per person: same normalised last name, first name and birth date. */
export const identityKeyOf = (lastName: string, firstName: string, birthDate: string) =>
  `${normalizeForSearch(lastName)}|${normalizeForSearch(firstName)}|${birthDate}`;

export const patronSearchText = (p: { lastName: string; firstName: string; login: string; email: string }) =>
  normalizeForSearch(`${p.lastName} ${p.firstName} ${p.login} ${p.email}`);

/** A patron's birth date (a DATE column), as YYYY-MM-DD. */
export const birthDateOf = (patron: { birthDate: Date }) => isoDate(patron.birthDate);

/** A birth date (YYYY-MM-DD) is neither in the future nor more than 120 years ago, in Paris. */
export function birthDateError(birthDate: string, now: Date): UserError | null {
  if (birthDate > parisDate(now)) return userError('INVALID_BIRTH_DATE', 'La date de naissance ne peut pas être dans le futur.', 'birthDate');
  if (birthDate < parisDate(addParisYears(now, -120))) {
    return userError('INVALID_BIRTH_DATE', 'La date de naissance ne peut pas remonter à plus de 120 ans.', 'birthDate');
  }
  return null;
}
