// Text normalisation shared by storage and search, so that a search typed "Eleonore" finds
// "Éléonore" and "BOUZONVILLE" finds "Bouzonville": both sides go through the same function.

const LIGATURES: Record<string, string> = { œ: 'oe', æ: 'ae', ß: 'ss', Œ: 'oe', Æ: 'ae' };

/** Lower-case, without accents or ligatures, single spaces. */
export function normalizeForSearch(value: string): string {
  return value
    .replace(/[œæßŒÆ]/g, (c) => LIGATURES[c] ?? c)
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** Words of a search that count: each is one indexed condition, so a search's cost is bounded. */
export const SEARCH_WORDS_MAX = 8;

/** Words of a search query, normalised (the first SEARCH_WORDS_MAX); empty when nothing is searchable. */
export function searchTerms(query: string | null | undefined): string[] {
  if (!query) return [];
  return normalizeForSearch(query).split(' ').filter(Boolean).slice(0, SEARCH_WORDS_MAX);
}

/** Escapes LIKE wildcards so that a user's "%" or "_" match themselves. */
export function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Logins are case-insensitive: compared and stored (as keys) lower-case. */
export const normalizeLogin = (login: string) => login.trim().toLowerCase();

/** Text put into HTML: a name is text, never markup. */
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
