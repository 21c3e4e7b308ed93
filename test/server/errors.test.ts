// Top-level codes that do not come from a class or a code of a library, only from its message: each
// message is pinned here against the library itself, so that an upgrade that changes a wording
// fails this test instead of changing what clients receive. And every protection of graphql-armor
// is answered QUERY_TOO_COMPLEX through its own reject hook, whatever its message.
import { buildSchema, graphql, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_LIMITS } from '../../src/server/yoga.js';
import { SUGGESTION, VARIABLE_ERROR } from '../../src/server/errors.js';
import { startTestApp, type TestApp } from '../support/harness.js';

const schema = buildSchema(`
  input Inner { when: Int! }
  input Outer { inner: [Inner!]! }
  type Query { libraries: Int, find(outer: Outer!): Int }
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

describe("graphql-armor's rejections", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { NUMOS_THROTTLE: '0' } });
  });
  afterAll(() => t.close());

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
