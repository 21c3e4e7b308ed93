// "Try again later" in the HTTP status, where clients and proxies read it: an answer whose errors
// are all RATE_LIMITED is 429, all SERVICE_UNAVAILABLE 503, each with Retry-After; beside other
// errors or partial data they keep the answer's own status.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builder } from '../../src/graphql/builder.js';
import { login, seedLibrary, startTestApp, type TestApp } from '../support/harness.js';
import { registerAndConfirm } from '../support/patrons.js';

// Fields that fail as a lost database does, registered before the schema is first built.
builder.queryField('testDatabaseGone', (t) =>
  t.boolean({
    nullable: true,
    resolve: () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    },
  }),
);
builder.queryField('testFine', (t) => t.boolean({ resolve: () => true }));

let t: TestApp;
let token: string;

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true });
  const library = await seedLibrary(t.app, { code: '5217001', name: 'Médiathèque de Thionville' });
  const { input } = await registerAndConfirm(t, encodeGlobalID('Library', library.id));
  token = await login(t, 'PATRON', input.login, input.password);
});
afterAll(() => t.close());

const post = (query: string, authorization?: string) =>
  t.app.yoga.fetch('http://numos.test/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(authorization ? { authorization: `Bearer ${authorization}` } : {}),
    },
    body: JSON.stringify({ query }),
  });

describe('HTTP status of "try again later"', () => {
  it('answers 503 with Retry-After when every error is SERVICE_UNAVAILABLE, and the status of the rest otherwise', async () => {
    for (const query of ['{ testDatabaseGone }', '{ a: testDatabaseGone b: testDatabaseGone }']) {
      const response = await post(query);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect((await response.json()).errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(
        query.includes('a:') ? ['SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE'] : ['SERVICE_UNAVAILABLE'],
      );
    }
    const partial = await post('{ testDatabaseGone testFine }');
    expect(partial.status).toBe(200);
    expect(partial.headers.get('retry-after')).toBeNull();
    expect(await partial.json()).toMatchObject({ data: { testDatabaseGone: null, testFine: true }, errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
  });

  it('answers 429 with the wait asked when a throttled query is the only error', async () => {
    for (let i = 0; i < 10; i++) expect((await post('{ personalDataExport }', token)).status).toBe(200);
    const throttled = await post('{ personalDataExport }', token);
    expect(throttled.status).toBe(429);
    const body = await throttled.json();
    expect(body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(throttled.headers.get('retry-after')).toBe(String(body.errors[0].extensions.retryAfterSeconds));
    expect(body.errors[0].extensions.retryAfterSeconds).toBeGreaterThan(0);
    // Beside an unavailable database: the longest status and wait of the two.
    const both = await post('{ personalDataExport testDatabaseGone }', token);
    expect(both.status).toBe(503);
    expect(Number(both.headers.get('retry-after'))).toBe(body.errors[0].extensions.retryAfterSeconds);
  });
});
