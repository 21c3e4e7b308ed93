// Which piece of a search word the trigram index is asked for (src/modules/patrons/store.ts): the
// rows found are the same either way (the whole word is checked on them); this only decides speed.
import { describe, expect, it } from 'vitest';
import { indexedPiece } from '../../../src/modules/patrons/store.js';

describe('indexedPiece', () => {
  it.each([
    ['martin', undefined, 'one piece: the word itself'],
    ['lecteur.4250', '4250', 'the piece with digits'],
    ['jean-pierre', 'pierre', 'the longest piece'],
    ['dupont@orange.fr', 'dupont', 'the longest, "fr" is too short to have a trigram'],
    ['a.b', undefined, 'no piece of 3 characters: the whole word'],
    ['jo.dupont57', 'dupont57', 'digits and length agree'],
    ['x.42', undefined, 'pieces under 3 characters only'],
    ['élodie.2019', '2019', 'letters with accents are word characters'],
    ['martin.', 'martin', 'a trailing point makes two pieces, one usable'],
  ] as [string, string | undefined, string][])('%s → %s (%s)', (term, piece) => {
    expect(indexedPiece(term)).toBe(piece);
  });
});
