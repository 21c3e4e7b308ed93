// The Koha REST adapter against a fake Koha (test/support/fake-koha.ts) written from Koha's OpenAPI
// files: authentication (OAuth2 and Basic), the search order, what is read of a record, and every
// way the network or the server may fail.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKohaAdapter } from '../../../src/modules/membership/adapters/koha.js';
import { type CallOptions, ConnectorFailure, type ConnectorSettings, type Lookup } from '../../../src/modules/membership/adapters/contract.js';
import { FAKE_KOHA_CA, FakeKoha, type FakePatron } from '../../support/fake-koha.js';

const SECRET = 'Kl13nt-S3cret-Tr3s-Secret';
const BASIC_PASSWORD = 'M0t-De-Passe-Basic';

/** The applicant's data, which no error message may carry. */
const PERSON = { cardNumber: '23000111', email: 'camille.muller@example.fr', lastName: 'Muller', firstName: 'Camille', birthDate: '1990-04-12' };

let koha: FakeKoha;
let url: string;

beforeEach(async () => {
  koha = new FakeKoha();
  koha.oauthClients.push({ id: 'numos-client', secret: SECRET });
  koha.basicUsers.push({ id: 'numos', secret: BASIC_PASSWORD });
  url = await koha.start({ tls: true });
});

afterEach(async () => {
  await koha.stop();
});

function settings(overrides: Partial<ConnectorSettings> = {}): ConnectorSettings {
  return {
    libraryId: 'lib-metz',
    kind: 'KOHA_REST',
    endpoint: url,
    tls: true,
    username: 'numos-client',
    secret: SECRET,
    kohaAuthentication: 'OAUTH2',
    institutionId: null,
    locationCode: null,
    expiryField: null,
    ...overrides,
  };
}

function options(overrides: Partial<CallOptions> = {}): CallOptions {
  return {
    network: { allowedHosts: ['127.0.0.1'], allowPlaintext: false },
    timeoutMs: 5000,
    maxBytes: 1024 * 1024,
    ca: [FAKE_KOHA_CA],
    now: new Date('2026-12-06T09:02:00Z'),
    ...overrides,
  };
}

/** The failure a lookup rejects with; checks that it says nothing of the secrets nor of the person. */
async function failure(promise: Promise<Lookup>): Promise<ConnectorFailure> {
  const error = await promise.then(
    () => {
      throw new Error('la recherche aurait dû échouer');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorFailure);
  const { message } = error as ConnectorFailure;
  for (const secret of [SECRET, BASIC_PASSWORD, ...Object.values(PERSON)]) expect(message).not.toContain(secret);
  return error as ConnectorFailure;
}

function camille(overrides: Partial<FakePatron> = {}): Partial<FakePatron> {
  return {
    cardnumber: PERSON.cardNumber,
    surname: 'Muller',
    firstname: 'Camille',
    email: PERSON.email,
    date_of_birth: PERSON.birthDate,
    date_enrolled: '2019-09-03',
    date_renewed: '2026-03-12',
    expiry_date: '2027-03-11',
    ...overrides,
  };
}

describe('OAuth2', () => {
  it('gets a token once with the client credentials in the form, and reuses it', async () => {
    koha.add(camille());
    const adapter = createKohaAdapter();
    const first = await adapter.lookup(settings(), { cardNumber: PERSON.cardNumber }, options());
    const second = await adapter.lookup(settings(), { cardNumber: PERSON.cardNumber }, options());
    expect(first).toMatchObject({ found: 'one', matchedBy: 'CARD_NUMBER' });
    expect(second).toEqual(first);

    const tokenRequests = koha.received('token');
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]).toMatchObject({
      method: 'POST',
      rawQuery: '',
      form: { grant_type: 'client_credentials', client_id: 'numos-client', client_secret: SECRET },
    });
    expect(koha.received('patrons').map((r) => [r.authorization, r.status])).toEqual([
      ['bearer', 200],
      ['bearer', 200],
    ]);
    for (const request of koha.requests) expect(decodeURIComponent(request.rawQuery)).not.toContain(SECRET);
  });

  it('keeps tokens per library and per adapter', async () => {
    const adapter = createKohaAdapter();
    await adapter.lookup(settings(), { cardNumber: 'X' }, options());
    await adapter.lookup(settings({ libraryId: 'lib-thionville' }), { cardNumber: 'X' }, options());
    await createKohaAdapter().lookup(settings(), { cardNumber: 'X' }, options());
    expect(koha.received('token')).toHaveLength(3);
  });

  it('takes a new token once the previous one expired (expires_in)', async () => {
    koha.tokenLifetimeS = 1;
    const adapter = createKohaAdapter();
    await adapter.lookup(settings(), { cardNumber: 'X' }, options());
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await adapter.lookup(settings(), { cardNumber: 'X' }, options());
    expect(koha.received('token')).toHaveLength(2);
    expect(koha.received('patrons').map((r) => r.status)).toEqual([200, 200]);
  });

  it('renews a token Koha refuses mid-way (401) and retries the call once', async () => {
    koha.add(camille());
    const adapter = createKohaAdapter();
    await adapter.lookup(settings(), { cardNumber: PERSON.cardNumber }, options());
    koha.expireTokens();
    const result = await adapter.lookup(settings(), { cardNumber: PERSON.cardNumber }, options());
    expect(result).toMatchObject({ found: 'one', matchedBy: 'CARD_NUMBER' });
    expect(koha.received('token')).toHaveLength(2);
    expect(koha.received('patrons').map((r) => r.status)).toEqual([200, 401, 200]);
  });

  it('gives up after one renewal when Koha keeps answering 401', async () => {
    koha.fail({ on: 'patrons', status: 401 });
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
    expect(error.retryable).toBe(false);
    expect(error.message).toBe("Koha refuse l'authentification : vérifiez l'identifiant client et le secret.");
    expect(koha.received('token')).toHaveLength(2);
    expect(koha.received('patrons')).toHaveLength(2);
  });

  it('reports a wrong secret (403 on the token) as not retryable, in French, without the secret', async () => {
    const wrong = 'Mauvais-Secret-42';
    const error = await failure(createKohaAdapter().lookup(settings({ secret: wrong }), PERSON, options()));
    expect(error.retryable).toBe(false);
    expect(error.message).toBe("Koha refuse l'authentification : vérifiez l'identifiant client et le secret.");
    expect(error.message).not.toContain(wrong);
    expect(koha.received('token').map((r) => r.status)).toEqual([403]);
    expect(koha.received('patrons')).toHaveLength(0);
  });

  it('says when client credentials are not enabled in Koha (400)', async () => {
    koha.clientCredentialsEnabled = false;
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('RESTOAuth2ClientCredentials');
  });

  it('says when the API user may not see patrons (403)', async () => {
    koha.oauthClients[0]!.canSeePatrons = false;
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('permission');
    expect(koha.received('patrons')).toHaveLength(1);
  });

  it('refuses to call without a secret', async () => {
    const error = await failure(createKohaAdapter().lookup(settings({ secret: null }), PERSON, options()));
    expect(error.retryable).toBe(false);
    expect(koha.requests).toHaveLength(0);
  });
});

describe('HTTP Basic', () => {
  const basic = (password = BASIC_PASSWORD) => settings({ kohaAuthentication: 'BASIC', username: 'numos', secret: password });

  it('sends the user and password in the Authorization header, and no token is asked', async () => {
    koha.add(camille());
    const result = await createKohaAdapter().lookup(basic(), { cardNumber: PERSON.cardNumber }, options());
    expect(result).toMatchObject({ found: 'one', matchedBy: 'CARD_NUMBER' });
    expect(koha.received('token')).toHaveLength(0);
    expect(koha.received('patrons').map((r) => r.authorization)).toEqual(['basic']);
    for (const request of koha.requests) expect(decodeURIComponent(request.rawQuery)).not.toContain(BASIC_PASSWORD);
  });

  it('reports a wrong password at once, without retrying', async () => {
    const error = await failure(createKohaAdapter().lookup(basic('faux'), PERSON, options()));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("Koha refuse l'authentification");
    expect(error.message).toContain('RESTBasicAuth');
    expect(koha.received('patrons')).toHaveLength(1);
  });
});

describe('search order', () => {
  it('searches the card number with exact matching, two rows a page', async () => {
    koha.add(camille(), camille({ cardnumber: `${PERSON.cardNumber}9`, email: 'autre@example.fr' }));
    const result = await createKohaAdapter().lookup(settings(), PERSON, options());
    expect(result).toMatchObject({ found: 'one', matchedBy: 'CARD_NUMBER' });
    const [search, ...others] = koha.received('patrons');
    expect(others).toHaveLength(0);
    expect(search!.query).toEqual({ cardnumber: PERSON.cardNumber, _match: 'exact', _page: '1', _per_page: '2' });
  });

  it('falls back to the e-mail when the card number is unknown', async () => {
    koha.add(camille({ cardnumber: '99999999', email: 'Camille.Muller@Example.fr' }));
    const result = await createKohaAdapter().lookup(settings(), PERSON, options());
    expect(result).toMatchObject({ found: 'one', matchedBy: 'EMAIL' });
    expect(koha.received('patrons').map((r) => r.query)).toEqual([
      { cardnumber: PERSON.cardNumber, _match: 'exact', _page: '1', _per_page: '2' },
      { email: PERSON.email, _match: 'exact', _page: '1', _per_page: '2' },
    ]);
  });

  it('searches the e-mail first when no card number is given', async () => {
    koha.add(camille());
    const result = await createKohaAdapter().lookup(settings(), { ...PERSON, cardNumber: null }, options());
    expect(result).toMatchObject({ found: 'one', matchedBy: 'EMAIL' });
    expect(koha.received('patrons')[0]!.query.email).toBe(PERSON.email);
  });

  it('does not take a partial match for the person when a server ignores _match=exact', async () => {
    koha.ignoreMatch = true;
    koha.add(camille({ cardnumber: `${PERSON.cardNumber}7`, email: `x${PERSON.email}` }));
    const result = await createKohaAdapter().lookup(settings(), { cardNumber: PERSON.cardNumber, email: PERSON.email }, options());
    expect(result).toEqual({ found: 'none' });
  });

  it('decides by names and birth date when the e-mail is shared', async () => {
    koha.add(
      camille({ cardnumber: '1' }),
      camille({ cardnumber: '2', firstname: 'Louis', date_of_birth: '2015-06-01' }),
      camille({ cardnumber: '3', email: 'homonyme@example.fr', date_of_birth: '1961-01-30' }),
    );
    const result = await createKohaAdapter().lookup(settings(), { ...PERSON, cardNumber: null }, options());
    expect(result).toMatchObject({ found: 'one', matchedBy: 'NAME_AND_BIRTH_DATE', facts: { birthDate: PERSON.birthDate } });
    expect(koha.received('patrons').map((r) => r.query)).toEqual([
      { email: PERSON.email, _match: 'exact', _page: '1', _per_page: '2' },
      { surname: 'Muller', firstname: 'Camille', date_of_birth: PERSON.birthDate, _match: 'exact', _page: '1', _per_page: '2' },
    ]);
  });

  it('is ambiguous by e-mail when the address is shared and the names find nobody', async () => {
    koha.add(camille({ firstname: 'Anne', date_of_birth: '1962-02-02' }), camille({ firstname: 'Louis', date_of_birth: '2015-06-01' }));
    const result = await createKohaAdapter().lookup(settings(), { ...PERSON, cardNumber: null }, options());
    expect(result).toEqual({ found: 'many', matchedBy: 'EMAIL', count: 2 });
  });

  it('is ambiguous by e-mail when the address is shared and the names are not all known', async () => {
    koha.add(camille(), camille({ firstname: 'Louis' }));
    const result = await createKohaAdapter().lookup(settings(), { email: PERSON.email, lastName: 'Muller' }, options());
    expect(result).toEqual({ found: 'many', matchedBy: 'EMAIL', count: 2 });
    expect(koha.received('patrons')).toHaveLength(1);
  });

  it('is ambiguous by names when two people share names and birth date', async () => {
    koha.add(camille({ cardnumber: '1', email: 'a@example.fr' }), camille({ cardnumber: '2', email: 'b@example.fr' }));
    const result = await createKohaAdapter().lookup(settings(), { lastName: 'MULLER', firstName: 'camille', birthDate: PERSON.birthDate }, options());
    expect(result).toEqual({ found: 'many', matchedBy: 'NAME_AND_BIRTH_DATE', count: 2 });
  });

  it('finds nobody, and searches names only when all three are known', async () => {
    koha.add(camille({ cardnumber: '5', email: 'autre@example.fr', date_of_birth: '1991-04-12' }));
    expect(await createKohaAdapter().lookup(settings(), PERSON, options())).toEqual({ found: 'none' });
    expect(koha.received('patrons')).toHaveLength(3);
    expect(await createKohaAdapter().lookup(settings(), { email: 'inconnu@example.fr', lastName: 'Muller', firstName: 'Camille' }, options())).toEqual({
      found: 'none',
    });
    expect(koha.received('patrons')).toHaveLength(4);
  });

  it('counts several people by X-Total-Count beyond the page, or by the rows when the server ignores paging', async () => {
    koha.add(camille(), camille({ firstname: 'Louis' }), camille({ firstname: 'Anne' }));
    const byCard = { cardNumber: PERSON.cardNumber };
    expect(await createKohaAdapter().lookup(settings(), byCard, options())).toEqual({ found: 'many', matchedBy: 'CARD_NUMBER', count: 3 });
    expect(koha.received('patrons')[0]!.query._per_page).toBe('2');

    koha.ignorePaging = true;
    koha.omitTotalCount = true;
    expect(await createKohaAdapter().lookup(settings(), byCard, options())).toEqual({ found: 'many', matchedBy: 'CARD_NUMBER', count: 3 });

    // A server that pages but gives no total: at least the rows of the first page.
    koha.ignorePaging = false;
    expect(await createKohaAdapter().lookup(settings(), byCard, options())).toEqual({ found: 'many', matchedBy: 'CARD_NUMBER', count: 2 });
  });
});

describe('what is read of a record', () => {
  const lookupCard = () => createKohaAdapter().lookup(settings(), { cardNumber: PERSON.cardNumber }, options());

  it('maps the dates, a missing renewal included', async () => {
    koha.add(camille({ date_renewed: null }));
    expect(await lookupCard()).toEqual({
      found: 'one',
      matchedBy: 'CARD_NUMBER',
      facts: {
        enrolledOn: '2019-09-03',
        renewedOn: null,
        expiresOn: '2027-03-11',
        birthDate: '1990-04-12',
        birthYear: 1990,
        valid: null,
        invalidReason: null,
      },
    });
  });

  it('takes the date part of a date-time, and nulls for a record without dates', async () => {
    koha.add(camille({ date_renewed: '2026-03-12T10:15:00+01:00', date_of_birth: null, date_enrolled: null, expiry_date: null }));
    const result = await lookupCard();
    expect(result).toMatchObject({
      facts: { enrolledOn: null, renewedOn: '2026-03-12', expiresOn: null, birthDate: null, birthYear: null },
    });
  });

  it('fails on a malformed date without quoting it', async () => {
    koha.add(camille({ expiry_date: '11/03/2027' }));
    const error = await failure(lookupCard());
    expect(error.message).toContain('réponse illisible');
    expect(error.message).not.toContain('2027');
  });

  it('reads the restricted flag (and an expired flag when a server sends one)', async () => {
    const valid = async (flags: Partial<FakePatron>) => {
      koha.patrons.length = 0;
      koha.add(camille(flags));
      const result = await lookupCard();
      if (result.found !== 'one') throw new Error('attendu : trouvé une fois');
      return [result.facts.valid, result.facts.invalidReason];
    };
    // Koha's own answer: `restricted` only; it says nothing of the expiry, the dates do.
    expect(await valid({ restricted: false })).toEqual([null, null]);
    expect(await valid({ restricted: false, expired: false })).toEqual([true, null]);
    expect(await valid({ restricted: true })).toEqual([false, 'Adhérent soumis à une restriction (suspension) dans Koha.']);
    expect(await valid({ restricted: false, expired: true })).toEqual([false, 'Carte expirée selon Koha.']);
    expect((await valid({ restricted: true, expired: true }))[1]).toBe('Carte expirée selon Koha ; adhérent soumis à une restriction (suspension) dans Koha.');
    expect(await valid({ restricted: undefined })).toEqual([null, null]);
  });
});

describe('failures', () => {
  it('times out on a slow server, as a retryable failure, without hanging', async () => {
    koha.fail({ delayMs: 10_000 });
    const started = Date.now();
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options({ timeoutMs: 400 })));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("n'a pas répondu à temps");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('has one deadline for every round trip of a lookup', async () => {
    // Each search alone fits in the time limit; the token and the three searches together do not.
    koha.fail({ on: 'patrons', delayMs: 300 });
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options({ timeoutMs: 500 })));
    expect(error.message).toContain("n'a pas répondu à temps");
  });

  it('fails on an answer that is not JSON', async () => {
    koha.fail({ on: 'patrons', garbage: true });
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
    expect(error.message).toContain('réponse illisible');
    expect(error.retryable).toBe(true);
  });

  it('fails on JSON of the wrong shape', async () => {
    for (const json of [{ patrons: [] }, [42], null]) {
      koha.fail({ on: 'patrons', json });
      const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
      expect(error.message).toContain('réponse illisible');
    }
    koha.fail({ on: 'token', json: { token_type: 'Bearer' } });
    expect((await failure(createKohaAdapter().lookup(settings(), PERSON, options()))).message).toContain('réponse illisible');
  });

  it('stops reading an endless answer past maxBytes', async () => {
    koha.fail({ on: 'patrons', huge: true });
    const started = Date.now();
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options({ maxBytes: 1024 * 1024, timeoutMs: 20_000 })));
    expect(error.message).toContain('dépasse la taille admise');
    expect(error.retryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(15_000);
    // The fake stops writing once the client is gone; socket buffers aside, far from a gibibyte.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(koha.bytesStreamed).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses an answer whose Content-Length exceeds maxBytes before reading it', async () => {
    koha.fail({ on: 'patrons', huge: { declared: true } });
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
    expect(error.message).toContain('dépasse la taille admise');
  });

  it('reports a reset connection as retryable', async () => {
    koha.fail({ on: 'patrons', reset: true });
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('La connexion au serveur Koha a été interrompue.');
  });

  it('reports a refused connection (server down) as retryable', async () => {
    await koha.down();
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('refuse la connexion');
  });

  it('reports a 5xx as retryable, a wrong API address (404) as not', async () => {
    koha.fail({ on: 'patrons', status: 503 });
    const unavailable = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
    expect(unavailable.retryable).toBe(true);
    expect(unavailable.message).toContain('503');

    koha.heal();
    const wrongBase = await failure(createKohaAdapter().lookup(settings({ endpoint: url.replace('/api/v1', '/cgi-bin/koha') }), PERSON, options()));
    expect(wrongBase.retryable).toBe(false);
    expect(wrongBase.message).toContain('/api/v1');
  });

  it('closes its connections once a lookup is over', async () => {
    koha.add(camille());
    await createKohaAdapter().lookup(settings(), PERSON, options());
    for (let i = 0; i < 100 && (await koha.openConnections()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await koha.openConnections()).toBe(0);
  });
});

describe('network rules', () => {
  it('refuses plain HTTP unless the operator allows it', async () => {
    await koha.stop();
    koha = new FakeKoha();
    koha.oauthClients.push({ id: 'numos-client', secret: SECRET });
    koha.add(camille());
    url = await koha.start();
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options()));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('sans chiffrement est refusé');
    expect(koha.requests).toHaveLength(0);

    const allowed = options({ network: { allowedHosts: ['127.0.0.1'], allowPlaintext: true } });
    expect(await createKohaAdapter().lookup(settings(), PERSON, allowed)).toMatchObject({ found: 'one' });
  });

  it('refuses a loopback address typed as such unless allowed', async () => {
    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options({ network: { allowedHosts: [], allowPlaintext: false } })));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('réseau privé ou local');
    for (const endpoint of ['https://[::1]:1/api/v1', 'https://[::ffff:127.0.0.1]:1/api/v1', 'https://10.1.2.3/api/v1']) {
      const refusal = await failure(
        createKohaAdapter().lookup(settings({ endpoint }), PERSON, options({ network: { allowedHosts: [], allowPlaintext: false } })),
      );
      expect(refusal.message).toContain('réseau privé ou local');
    }
    expect(koha.requests).toHaveLength(0);
  });

  it('refuses a name resolving to loopback unless the name or its range is allowed', async () => {
    koha.add(camille());
    const endpoint = `https://localhost:${koha.port}/api/v1`;
    const withHosts = (allowedHosts: string[]) => options({ network: { allowedHosts, allowPlaintext: false } });

    const error = await failure(createKohaAdapter().lookup(settings({ endpoint }), PERSON, withHosts([])));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('localhost');
    expect(error.message).toContain('réseau privé ou local');
    expect(koha.requests).toHaveLength(0);

    expect(await createKohaAdapter().lookup(settings({ endpoint }), PERSON, withHosts(['localhost']))).toMatchObject({ found: 'one' });
    expect(await createKohaAdapter().lookup(settings({ endpoint }), PERSON, withHosts(['127.0.0.1/8', '::1']))).toMatchObject({ found: 'one' });
  });

  it('trusts the self-signed certificate only through options.ca', async () => {
    koha.add(camille());
    expect(await createKohaAdapter().lookup(settings(), PERSON, options())).toMatchObject({ found: 'one' });

    const error = await failure(createKohaAdapter().lookup(settings(), PERSON, options({ ca: undefined })));
    expect(error.retryable).toBe(false);
    expect(error.message).toBe("Le certificat TLS du serveur Koha n'est pas reconnu (certificat auto-signé) : connexion refusée.");
  });

  it('refuses an endpoint that is not an http(s) URL or carries credentials', async () => {
    for (const endpoint of ['ftp://127.0.0.1/api/v1', 'pas une adresse', `https://numos:${SECRET}@127.0.0.1:${koha.port}/api/v1`]) {
      const error = await failure(createKohaAdapter().lookup(settings({ endpoint }), PERSON, options()));
      expect(error.retryable).toBe(false);
    }
    expect(koha.requests).toHaveLength(0);
  });
});
