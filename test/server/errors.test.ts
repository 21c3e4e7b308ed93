// Top-level codes that do not come from a class or a code of a library, only from its message: each
// message is pinned here against the library itself, so that an upgrade that changes a wording
// fails this test instead of changing what clients receive. And every protection of graphql-armor
// is answered QUERY_TOO_COMPLEX through its own reject hook, whatever its message.
import { buildSchema, graphql, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_LIMITS } from '../../src/server/yoga.js';
import { refineError, SUGGESTION, VARIABLE_ERROR, VARIABLE_MISSING } from '../../src/server/errors.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { seedLibrary, startTestApp, type TestApp } from '../support/harness.js';
import { REGISTER, registerInput } from '../support/patrons.js';

const schema = buildSchema(`
  enum Realm { PATRON STAFF }
  input Inner { when: Int! }
  input Outer { inner: [Inner!]! }
  input Every { text: String, count: Int, ratio: Float, flag: Boolean, id: ID, realm: Realm, needed: String!, inner: Inner }
  type Query { libraries: Int, find(outer: Outer!): Int, every(input: Every!): Int }
`);

describe("graphql-js's messages (pinned)", () => {
  it('names a malformed variable and the path of the field at fault', async () => {
    const result = await graphql({ schema, source: 'query($o: Outer!) { find(outer: $o) }', variableValues: { o: { inner: [{ when: 'pas un nombre' }] } } });
    const match = VARIABLE_ERROR.exec(result.errors?.[0]?.message ?? '');
    expect(match?.[1]).toBe('o');
    expect(match?.[2]).toBe('o.inner[0].when');
  });

  it('names a whole variable when the fault is at its top', async () => {
    const result = await graphql({ schema, source: 'query($o: Outer!) { find(outer: $o) }', variableValues: { o: 'texte' } });
    const match = VARIABLE_ERROR.exec(result.errors?.[0]?.message ?? '');
    expect(match?.[1]).toBe('o');
  });

  it('suggests field names in a way the production server can remove', () => {
    const [error] = validate(schema, parse('{ librares }'));
    expect(error?.message).toMatch(SUGGESTION);
    expect(error!.message.replace(SUGGESTION, '')).toBe('Cannot query field "librares" on type "Query".');
  });
});

describe('a refused variable, as a form shows it: the field, and the reason in French only', () => {
  const refused = async (input: unknown, source = 'query($input: Every!) { every(input: $input) }') => {
    const result = await graphql({ schema, source, variableValues: { input } });
    const error = refineError(result.errors![0]!, true);
    return { message: error.message, code: error.extensions.code, field: error.extensions.field };
  };
  const base = { needed: 'oui' };

  it.each([
    [{ ...base, text: 5 }, 'text', 'Texte attendu.'],
    [{ ...base, count: 'cinq' }, 'count', 'Nombre entier attendu.'],
    [{ ...base, count: 2 ** 40 }, 'count', 'Nombre entier trop grand.'],
    [{ ...base, ratio: 'moitié' }, 'ratio', 'Nombre attendu.'],
    [{ ...base, flag: 'oui' }, 'flag', 'Booléen (true ou false) attendu.'],
    [{ ...base, id: { objet: 1 } }, 'id', 'Identifiant attendu.'],
    [{ ...base, realm: 'PATRONS' }, 'realm', 'Valeur inconnue pour Realm.'],
    [{ ...base, realm: 3 }, 'realm', 'Valeur inconnue pour Realm.'],
    [{}, 'input', 'Le champ « needed » est obligatoire.'],
    [{ ...base, needed: null }, 'needed', 'Valeur obligatoire.'],
    [{ ...base, extra: 1 }, 'input', "Le champ « extra » n'existe pas dans Every."],
    [{ ...base, inner: 'texte' }, 'inner', 'Objet Inner attendu.'],
  ])('%j → %s: %s', async (input, field, message) => {
    expect(await refused(input)).toEqual({ code: 'BAD_USER_INPUT', field, message });
  });

  it('names a variable missing or null', async () => {
    for (const input of [undefined, null]) {
      const result = await graphql({ schema, source: 'query($input: Every!) { every(input: $input) }', variableValues: input === undefined ? {} : { input } });
      expect(result.errors![0]!.message).toMatch(VARIABLE_MISSING);
      const error = refineError(result.errors![0]!, true);
      expect({ message: error.message, field: error.extensions.field }).toEqual({ message: 'La variable $input est obligatoire.', field: 'input' });
    }
  });
});

describe("graphql-armor's rejections", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { NUMOS_THROTTLE: '0' } });
  });
  afterAll(() => t.close());

  it('answers a form whose e-mail is malformed with the field and a French reason, and registers nothing', async () => {
    const library = encodeGlobalID('Library', (await seedLibrary(t.app, { code: '5700001', name: 'Metz' })).id);
    const input = registerInput(library, { email: 'paul@' });
    const { data, errors } = await t.gql(REGISTER, { input });
    // A request error: no data at all (GraphQL over HTTP), only the error.
    expect(data).toBeUndefined();
    expect(errors).toEqual([expect.objectContaining({ message: 'Adresse e-mail invalide.', extensions: { code: 'BAD_USER_INPUT', field: 'email' } })]);
    expect(await t.app.prisma.patron.count()).toBe(0);
  });

  it.each([
    ['aliases', `{ ${Array.from({ length: QUERY_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: libraries { code }`).join(' ')} }`],
    ['depth', `{ viewer { ... on Patron { ${'requests { patron { '.repeat(7)} id ${'} } '.repeat(7)} } } }`],
    ['directives', `{ libraries { code ${'@include(if: true) '.repeat(QUERY_LIMITS.maxDirectives + 1)} } }`],
    ['tokens', `{ ${'libraries { code } '.repeat(QUERY_LIMITS.maxTokens / 4)} }`],
    ['cost', `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: patrons(first: 100) { edges { node { requests { library { code } } } } }`).join(' ')} }`],
  ])('answers too many %s with QUERY_TOO_COMPLEX', async (limit, query) => {
    const { errors } = await t.gql(query);
    expect(errors?.map((e) => e.extensions?.code)).toContain('QUERY_TOO_COMPLEX');
    // The protection at work is the one meant (its message names it; the code does not depend on it).
    expect(errors?.map((e) => e.message).join(' ')).toMatch(new RegExp(limit.replace(/s$/, ''), 'i'));
  });
});
