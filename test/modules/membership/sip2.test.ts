// The SIP2 adapter: its message functions against tables (the checksum against known messages),
// then whole lookups against the fake SIP2 server on loopback, TLS included, and made to fail.
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildLoginMessage,
  buildPatronInformationMessage,
  createSip2Adapter,
  formatSipDate,
  lookupFromPatronInformation,
  NO_CARD_NOTE,
  parseEndpoint,
  parseLoginResponse,
  parsePatronInformationResponse,
  parseSipDate,
  parseVariableFields,
  readTrailer,
  sipChecksum,
  splitFrames,
  UNSENDABLE_CARD_NOTE,
  verifyChecksum,
  withErrorDetection,
} from '../../../src/modules/membership/adapters/sip2.js';
import { type CallOptions, ConnectorFailure, type ConnectorSettings } from '../../../src/modules/membership/adapters/contract.js';
import { FAKE_SIP2_CERTIFICATE, FakeSip2, type FakeSip2Patron } from '../../support/fake-sip2.js';

// Answers of real SIP servers, redacted, as published in the test suite of Library Simplified's
// circulation manager (SirsiDynix ACS status, Polaris and TLC "no such patron"): their AZ are right.
const SIRSI_ACS_STATUS = '98YYYYYN60000320130424    1135112.00AOEPLMNA|AMEPLMNA|BXYYYYYYYYYYYNNYYY|ANSIPCHK|AY1AZE80C';
const SIRSI_ACS_STATUS_2 =
  '98YYYYNN01000320130808    1509002.00AOst|AMSt. Albert Public Library|BXYYYYYYYYYYYYYYYY|ANUnassigned|VNSIP 2.00.106 SirsiDynix Inc. 7.5.074.40|AY1AZD3FA';
const POLARIS_NO_SUCH_PATRON =
  '64YYYY          00120161121    143126000000000000000000000000AO3|AA1112|AE, |BZ0000|CA0000|CB0000|BLN|CQN|BHUSD|BV0.00|CC0.00|BD|BE|BF|BC|PA0|PE|PS|U1|U2|U3|U4|U5|PZ|PX|PYN|FA0.00|AFPatron does not exist.|AGPatron does not exist.|AY2AZBCF2';
const TLC_NO_SUCH_PATRON =
  '64YYYY          00020171031    092000000000000000000000000000AOhq|AA2642|AE|BLN|AF#Unknown borrower barcode - please refer to the circulation desk.|AY1AZD46E';
// Same source, Evergreen (expiry in PA, YYYYMMDD) and Polaris (expiry in PX, SIP date); their AZ were
// redacted. The card-lost one had lost a blank of its status there: restored to 14 positions.
const EVERGREEN_EXPIRED_CARD =
  '64YYYY          00020161021    142937000000000000000000000000AA12345|AEBooth Expired Test|BHUSD|BDAdult Circ Desk #2 Newtown, CT USA 06470|AQNEWTWN|BLY|PA20080907|PCAdult|PIAllowed|XI863716|AFblocked|AOBiblioTest|AY2AZ0000';
const EVERGREEN_CARD_LOST =
  '64    Y         00020161021    143002000000000000000100000000AA12345|AEBooth Excessive Fines Test|BHUSD|BV100.00|BLY|PA20191004|PCAdult|AOBiblioTest|AY2AZ0000';
const EVERGREEN_HOLD_DENIED = '64   Y          00020161021    143002000000000000000100000000AA12345|AEBooth Test|BLY|PA20191004|AOBiblioTest|AY2AZ0000';
const EVERGREEN_INACTIVE = '64YYYY          00020161021    143028000000000000000000000000AE|AA12345|BLN|AOBiblioTest|AY2AZ0000';
const POLARIS_VALID =
  "64              00120161121    143327000000000000000000000000AO3|AA25891000331441|AEFalk, Jen|BZ0050|CA0075|CB0075|BLY|CQY|BHUSD|BV9.25|CC9.99|BEfoo@bar.com|BC19710101    000000|PA1|PEHALL|PSSt. Mary's|PX20180609    235959|PYN|AFPatron status is ok.|AY2AZ94F3";

// As Koha's handle_patron_info builds them (C4/SIP/Sip/MsgType.pm), with the DE custom field of its sample SIPconfig.xml.
const KOHA_FIXED = `001${'20261206    100200'}${'0000'.repeat(6)}`;
const KOHA_FOUND = `64${' '.repeat(14)}${KOHA_FIXED}AOMED57|AA29000123|AEJeanne Martin|BLY|CC5|PB19840312|PCADULTE|PIY|AFGreetings from Koha.|DE2027-03-11|`;
const KOHA_EXPIRED = `64YYYY${' '.repeat(10)}${KOHA_FIXED}AOMED57|AA29000456|AEPaul Durand|BLY|CC5|PB19900101|PIN|AFGreetings from Koha. Your account has expired as of 31/01/2020|DE2020-01-31|`;
const KOHA_UNKNOWN = `64YYYY${' '.repeat(10)}${KOHA_FIXED}AOMED57|AA00000000|AE|BLN|AFInvalid cardnumber|`;

const CARD = '29000123';
const SECRET = 'secret-sip';

const PATRONS: Record<string, FakeSip2Patron> = {
  [CARD]: { name: 'Jeanne Martin', birthDate: '1984-03-12', expiresOn: '2099-03-11', email: 'jeanne.martin@example.fr' },
  '29000456': { name: 'Paul Durand', birthDate: '1990-01-01', expiresOn: '2020-01-31' },
  '29000789': { name: 'Léa Petit', pb: '1975', debarred: true },
  '29000999': { name: 'Marc Blanc', birthDate: '1962-07-14', cardLost: true },
};

const NOW = new Date(2026, 11, 6, 10, 2, 0);

function options(over: Partial<CallOptions> = {}): CallOptions {
  return { network: { allowedHosts: ['127.0.0.1/8'], allowPlaintext: true }, timeoutMs: 5000, maxBytes: 1024 * 1024, now: NOW, ...over };
}

function settings(fake: FakeSip2, over: Partial<ConnectorSettings> = {}): ConnectorSettings {
  return {
    libraryId: 'library-1',
    kind: 'SIP2',
    endpoint: fake.endpoint,
    tls: false,
    username: 'numos',
    secret: SECRET,
    kohaAuthentication: 'BASIC',
    institutionId: 'MED57',
    locationCode: 'METZ',
    expiryField: 'DE',
    ...over,
  };
}

/** The failure a lookup ends with, checked to carry nothing personal or secret. */
async function failureOf(promise: Promise<unknown>): Promise<ConnectorFailure> {
  // A lookup that hangs fails the test here, well before vitest's own limit.
  const hung = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the lookup hung')), 4000).unref());
  try {
    await Promise.race([promise, hung]);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorFailure);
    const message = (error as ConnectorFailure).message;
    for (const word of [CARD, SECRET, 'Jeanne', 'Martin', '29000']) expect(message).not.toContain(word);
    return error as ConnectorFailure;
  }
  throw new Error('the lookup should have failed');
}

describe('SIP2 messages', () => {
  describe('checksum', () => {
    it.each([
      // Koha's constants REQUEST_SC_RESEND_CKSUM and REQUEST_ACS_RESEND_CKSUM (C4/SIP/Sip/Constants.pm).
      ['96AZ', 'FEF6'],
      ['97AZ', 'FEF5'],
      ['9300CNkoha|COkoha|CPCPL|AY0AZ', 'F680'],
      ['941AY0AZ', 'FDFD'],
      ['940AY0AZ', 'FDFE'],
      // Counted in UTF-8 bytes: é is C3 A9, 0x016C, whose complement is FE94.
      ['é', 'FE94'],
      ['', '0000'],
    ])('sipChecksum(%j) is %s', (text, expected) => {
      expect(sipChecksum(text)).toBe(expected);
      expect(sipChecksum(Buffer.from(text, 'utf8'))).toBe(expected);
    });

    it.each([
      ['96AZFEF6', true],
      ['97AZFEF5', true],
      [SIRSI_ACS_STATUS, true],
      [SIRSI_ACS_STATUS_2, true],
      [POLARIS_NO_SUCH_PATRON, true],
      [TLC_NO_SUCH_PATRON, true],
      ['941AY0AZfdfd', true],
      // One character changed, or the sum off by one.
      [SIRSI_ACS_STATUS.replace('EPLMNA', 'EPLMNB'), false],
      ['941AY0AZFDFE', false],
      ['941AY0AZFDFC', false],
      // No AZ: nothing to verify.
      ['941', null],
      ['941AY0', null],
    ])('verifyChecksum(%j) is %s', (message, expected) => {
      expect(verifyChecksum(message)).toBe(expected);
      expect(verifyChecksum(Buffer.from(message, 'latin1'))).toBe(expected);
    });

    it('takes the sum of bytes, or of characters as Koha does on an account without encoding', () => {
      // José Cœur: UTF-8 bytes sum to F7F4; Perl's unpack('%16C*') on characters (œ wrapped to 0x53) to F97C.
      expect(verifyChecksum(Buffer.from('64AEJosé Cœur|AY1AZF7F4', 'utf8'))).toBe(true);
      expect(verifyChecksum(Buffer.from('64AEJosé Cœur|AY1AZF97C', 'utf8'))).toBe(true);
      expect(verifyChecksum(Buffer.from('64AEJosé Cœur|AY1AZF97D', 'utf8'))).toBe(false);
      // Latin-1 bytes (Koha without encoding, no character beyond Latin-1): one byte per character.
      expect(verifyChecksum(Buffer.from('64AEJosé|AY1AZFB19', 'latin1'))).toBe(true);
      expect(verifyChecksum(Buffer.from('64AEJosé|AY1AZFA96', 'utf8'))).toBe(true);
      // Plain ASCII has a single sum.
      expect(verifyChecksum(Buffer.from('941AY0AZFDFC', 'utf8'))).toBe(false);
    });

    it('appends AY and AZ, the sequence number taken modulo 10', () => {
      expect(withErrorDetection('941', 0)).toBe('941AY0AZFDFD');
      expect(withErrorDetection('941', 10)).toBe('941AY0AZFDFD');
      for (let sequence = 0; sequence < 12; sequence++) expect(verifyChecksum(withErrorDetection('63001', sequence))).toBe(true);
    });
  });

  describe('requests', () => {
    it.each([
      [{ username: 'koha', password: 'koha', locationCode: 'CPL' }, 0, '9300CNkoha|COkoha|CPCPL|AY0AZF680'],
      [{ username: 'numos', password: 'secret-sip' }, 3, '9300CNnumos|COsecret-sip|AY3AZF580'],
      [{ username: 'numos', password: 'secret-sip', locationCode: null }, 13, '9300CNnumos|COsecret-sip|AY3AZF580'],
    ])('93 Login %j, sequence %i', (request, sequence, expected) => {
      expect(buildLoginMessage(request, sequence)).toBe(expected);
    });

    it('63 Patron Information: language, local transaction date, blank summary, AO, AA, empty AC', () => {
      const message = buildPatronInformationMessage({ institutionId: 'MED57', patronIdentifier: CARD, now: NOW }, 1);
      expect(message).toBe(`63001${'20261206    100200'}${' '.repeat(10)}AOMED57|AA${CARD}|AC|AY1AZF34D`);
      expect(message.slice(0, 33)).toHaveLength(33);
    });

    it.each([
      [new Date(2026, 0, 5, 7, 8, 9), '20260105    070809'],
      [new Date(2026, 11, 31, 23, 59, 59), '20261231    235959'],
      [new Date(999, 0, 1, 0, 0, 0), '09990101    000000'],
    ])('formatSipDate(%s) is %j', (date, expected) => {
      expect(formatSipDate(date)).toBe(expected);
      expect(formatSipDate(date)).toHaveLength(18);
    });
  });

  describe('responses', () => {
    it.each([
      ['941', { body: '941', sequence: null, checksum: null }],
      ['941AY0AZFDFD', { body: '941', sequence: 0, checksum: 'FDFD' }],
      ['64x|AEy|AY7AZabcd', { body: '64x|AEy', sequence: 7, checksum: 'ABCD' }],
      ['64x|AEy|AY7|AZABCD', { body: '64x|AEy', sequence: 7, checksum: 'ABCD' }],
      ['64x|AEy|AZABCD', { body: '64x|AEy|', sequence: null, checksum: 'ABCD' }],
      ['64x|AEy|AY5', { body: '64x|AEy', sequence: 5, checksum: null }],
    ])('readTrailer(%j)', (message, expected) => {
      expect(readTrailer(message)).toEqual(expected);
    });

    it.each([
      ['941', true],
      ['940', false],
      ['941AY0AZFDFD', true],
      ['940AY3AZFDFB', false],
    ])('94 Login Response %j: ok %s', (message, ok) => {
      expect(parseLoginResponse(message)).toBe(ok);
    });

    it.each(['94', '942', '64              ', 'HTTP/1.1 400 Bad Request', ''])('94 Login Response %j is malformed', (message) => {
      expect(() => parseLoginResponse(message)).toThrow(ConnectorFailure);
    });

    it('splits variable fields, keeps repeated ones, decodes Koha’s escaped delimiter', () => {
      expect(parseVariableFields('AOMED57|AAx|AE|AFone|AFtwo|AEignored?|XYa&#124;b|')).toEqual({
        AO: ['MED57'],
        AA: ['x'],
        AE: ['', 'ignored?'],
        AF: ['one', 'two'],
        XY: ['a|b'],
      });
    });

    it('parses the fixed fields of a 64', () => {
      const info = parsePatronInformationResponse(`64Y   Y      Y  ${'001'}20261206    100200000100020003000400050006AOMED57|AA1|BLY|`);
      expect(info.status).toMatchObject({
        chargePrivilegesDenied: true,
        renewalPrivilegesDenied: false,
        recallPrivilegesDenied: false,
        holdPrivilegesDenied: false,
        cardReportedLost: true,
        excessiveOutstandingFines: false,
        excessiveOutstandingFees: true,
        tooManyItemsBilled: false,
      });
      expect(info.language).toBe('001');
      expect(info.transactionDate).toBe('20261206    100200');
      expect(info.counts).toEqual([1, 2, 3, 4, 5, 6]);
      expect(info.fields).toEqual({ AO: ['MED57'], AA: ['1'], BL: ['Y'] });
      // Blank counts mean "unsupported".
      expect(parsePatronInformationResponse(`64${' '.repeat(14)}00020261206    100200${' '.repeat(24)}BLY|`).counts).toEqual([
        null,
        null,
        null,
        null,
        null,
        null,
      ]);
    });

    it.each([
      ['too short', '64              00020261206'],
      ['a status one position short', EVERGREEN_CARD_LOST.replace('Y         ', 'Y        ')],
      ['another message', `65${' '.repeat(14)}${KOHA_FIXED}BLY|`],
      ['a status that is not Y or blank', `64XXXX${' '.repeat(10)}${KOHA_FIXED}BLY|`],
      ['counts that are not numbers', `64${' '.repeat(14)}00120261206    100200ABCD00000000000000000000BLY|`],
      ['not SIP2 at all', '<html><body>Bad gateway</body></html>'.padEnd(80, ' ')],
    ])('a 64 with %s is malformed', (_, message) => {
      expect(() => parsePatronInformationResponse(message)).toThrow(ConnectorFailure);
    });

    const valid = { enrolledOn: null, renewedOn: null, valid: true, invalidReason: null };
    it.each([
      [
        'Koha, found (PB, DE)',
        KOHA_FOUND,
        'DE',
        { found: 'one', matchedBy: 'CARD_NUMBER', facts: { ...valid, expiresOn: '2027-03-11', birthDate: '1984-03-12', birthYear: 1984 } },
      ],
      ['Koha, found, no expiry field named', KOHA_FOUND, null, { found: 'one', facts: { expiresOn: null, birthDate: '1984-03-12', valid: true } }],
      ['Koha, found, expiry field absent', KOHA_FOUND, 'PA', { found: 'one', facts: { expiresOn: null } }],
      [
        'Koha, expired',
        KOHA_EXPIRED,
        'DE',
        {
          found: 'one',
          facts: {
            expiresOn: '2020-01-31',
            birthDate: '1990-01-01',
            valid: false,
            invalidReason: expect.stringMatching(/prêt, renouvellement, rappel, réservation.*expiré/),
          },
        },
      ],
      ['Koha, unknown card', KOHA_UNKNOWN, 'DE', { found: 'none' }],
      ['Polaris, no such patron', POLARIS_NO_SUCH_PATRON, 'PX', { found: 'none' }],
      ['TLC, no such patron', TLC_NO_SUCH_PATRON, null, { found: 'none' }],
      ['Evergreen, inactive', EVERGREEN_INACTIVE, 'PA', { found: 'none' }],
      [
        'Evergreen, expired card (PA)',
        EVERGREEN_EXPIRED_CARD,
        'PA',
        { found: 'one', facts: { expiresOn: '2008-09-07', birthDate: null, birthYear: null, valid: false } },
      ],
      [
        'Evergreen, card lost',
        EVERGREEN_CARD_LOST,
        'pa',
        { found: 'one', facts: { expiresOn: '2019-10-04', valid: false, invalidReason: 'carte signalée perdue' } },
      ],
      [
        'Evergreen, hold privileges denied',
        EVERGREEN_HOLD_DENIED,
        'PA',
        { found: 'one', facts: { valid: false, invalidReason: 'droits suspendus dans le système de la bibliothèque (réservation)' } },
      ],
      ['Polaris, valid (PX as a SIP date)', POLARIS_VALID, 'PX', { found: 'one', facts: { ...valid, expiresOn: '2018-06-09', birthDate: null } }],
      [
        'no BL, a name: found',
        `64${' '.repeat(14)}${KOHA_FIXED}AOx|AA1|AEJeanne Martin|PB1984|`,
        null,
        { found: 'one', facts: { birthDate: null, birthYear: 1984 } },
      ],
      ['no BL, no name: nobody', `64${' '.repeat(14)}${KOHA_FIXED}AOx|AA1|AE|AFInvalid patron|`, null, { found: 'none' }],
    ])('%s', (_, message, expiryField, expected) => {
      expect(lookupFromPatronInformation(parsePatronInformationResponse(message), expiryField)).toMatchObject(expected);
    });
  });

  describe('dates', () => {
    it.each([
      ['19840312', { date: '1984-03-12', year: 1984 }],
      ['1984-03-12', { date: '1984-03-12', year: 1984 }],
      ['2027-03-11T00:00:00', { date: '2027-03-11', year: 2027 }],
      ['19840312    000000', { date: '1984-03-12', year: 1984 }],
      ['20180609    235959', { date: '2018-06-09', year: 2018 }],
      ['20110102UTC102030', { date: '2011-01-02', year: 2011 }],
      ['11/03/2027', { date: '2027-03-11', year: 2027 }],
      ['  20000229 ', { date: '2000-02-29', year: 2000 }],
      ['1975', { date: null, year: 1975 }],
      ['20270230', null],
      ['19000229', null],
      ['20271301', null],
      ['00000000', null],
      ['0000', null],
      ['2027-3-11', null],
      ['n/a', null],
      ['', null],
      [undefined, null],
    ])('parseSipDate(%j)', (value, expected) => {
      expect(parseSipDate(value)).toEqual(expected);
    });
  });

  describe('framing and endpoint', () => {
    it.each([
      ['a\rb\r', ['a', 'b'], ''],
      ['a\r\nb\r\n', ['a', 'b'], ''],
      ['a\nb\n', ['a', 'b'], ''],
      ['a\r\n\r\nb', ['a'], 'b'],
      ['\r\n', [], ''],
      ['abc', [], 'abc'],
    ])('splitFrames(%j)', (input, frames, rest) => {
      const result = splitFrames(Buffer.from(input));
      expect(result.frames.map((frame) => frame.toString())).toEqual(frames);
      expect(result.rest.toString()).toBe(rest);
    });

    it.each([
      ['sip.mediatheque.fr:6001', { host: 'sip.mediatheque.fr', port: 6001 }],
      ['127.0.0.1:6001', { host: '127.0.0.1', port: 6001 }],
      [' [::1]:6001 ', { host: '::1', port: 6001 }],
      ['[2001:db8::1]:65535', { host: '2001:db8::1', port: 65535 }],
    ])('parseEndpoint(%j)', (endpoint, expected) => {
      expect(parseEndpoint(endpoint)).toEqual(expected);
    });

    it.each(['::1:6001', 'sip.mediatheque.fr', 'sip.mediatheque.fr:0', 'sip.mediatheque.fr:70000', '[sip.fr]:6001', 'tcp://sip.fr:6001', ''])(
      'parseEndpoint(%j) is refused',
      (endpoint) => {
        expect(() => parseEndpoint(endpoint)).toThrow(ConnectorFailure);
      },
    );
  });
});

describe('SIP2 adapter against the fake server', () => {
  const adapter = createSip2Adapter();
  let fake: FakeSip2;

  beforeEach(async () => {
    fake = new FakeSip2({ patrons: PATRONS });
    await fake.start();
  });

  afterEach(async () => {
    // One connection per check, closed after, whatever happened.
    await fake.idle();
    expect(fake.open).toBe(0);
    await fake.stop();
  });

  it('finds a patron by card number: birth date from PB, expiry from DE, Koha’s way', async () => {
    const result = await adapter.lookup(settings(fake), { cardNumber: ` ${CARD} `, email: 'x@example.fr' }, options());
    expect(result).toEqual({
      found: 'one',
      matchedBy: 'CARD_NUMBER',
      facts: { enrolledOn: null, renewedOn: null, expiresOn: '2099-03-11', birthDate: '1984-03-12', birthYear: 1984, valid: true, invalidReason: null },
    });
    expect(fake.connections).toBe(1);
    expect(fake.received.map(({ connection, code, sequence, checksumOk }) => ({ connection, code, sequence, checksumOk }))).toEqual([
      { connection: 1, code: '93', sequence: 0, checksumOk: true },
      { connection: 1, code: '63', sequence: 1, checksumOk: true },
    ]);
    expect(fake.received[0]!.raw).toMatch(/^9300CNnumos\|COsecret-sip\|CPMETZ\|AY0AZ[0-9A-F]{4}$/);
    expect(fake.received[1]!.raw).toBe(buildPatronInformationMessage({ institutionId: 'MED57', patronIdentifier: CARD, now: NOW }, 1));
    // The fake answered with error detection, echoing the sequence numbers.
    expect(fake.sent).toEqual([expect.stringMatching(/^941AY0AZ/), expect.stringMatching(/^64 {14}001\d{8} {4}\d{6}(0000){6}AOMED57\|.*AY1AZ[0-9A-F]{4}$/)]);
  });

  it.each([
    ['PA', 'compact'],
    ['PX', 'sip'],
    ['DE', 'iso'],
  ] as const)('reads the expiry from %s (%s)', async (field, format) => {
    fake.expiryField = field;
    fake.expiryFormat = format;
    const result = await adapter.lookup(settings(fake, { expiryField: field }), { cardNumber: CARD }, options());
    expect(result).toMatchObject({ found: 'one', facts: { expiresOn: '2099-03-11', valid: true } });
  });

  it('gives no expiry when the library names no field', async () => {
    const result = await adapter.lookup(settings(fake, { expiryField: null }), { cardNumber: CARD }, options());
    expect(result).toMatchObject({ found: 'one', facts: { expiresOn: null, birthDate: '1984-03-12' } });
  });

  it.each(['CR', 'LF', 'CRLF'] as const)('reads answers ended by %s', async (terminator) => {
    fake.terminator = terminator;
    const result = await adapter.lookup(settings(fake), { cardNumber: CARD }, options());
    expect(result).toMatchObject({ found: 'one', facts: { birthDate: '1984-03-12' } });
  });

  it('an expired patron: Koha denies the four privileges, the expiry date is given', async () => {
    const result = await adapter.lookup(settings(fake), { cardNumber: '29000456' }, options());
    expect(result).toMatchObject({
      found: 'one',
      facts: { expiresOn: '2020-01-31', birthDate: '1990-01-01', valid: false, invalidReason: expect.stringContaining('expiré') },
    });
  });

  it('privileges denied: not valid, with the reason in French; a year alone gives the birth year', async () => {
    const result = await adapter.lookup(settings(fake), { cardNumber: '29000789' }, options());
    expect(result).toEqual({
      found: 'one',
      matchedBy: 'CARD_NUMBER',
      facts: {
        enrolledOn: null,
        renewedOn: null,
        expiresOn: null,
        birthDate: null,
        birthYear: 1975,
        valid: false,
        invalidReason: 'droits suspendus dans le système de la bibliothèque (prêt, renouvellement, rappel, réservation)',
      },
    });
  });

  it('a card reported lost is not valid', async () => {
    const result = await adapter.lookup(settings(fake), { cardNumber: '29000999' }, options());
    expect(result).toMatchObject({ found: 'one', facts: { valid: false, invalidReason: 'carte signalée perdue' } });
  });

  it('an unknown card is nobody', async () => {
    expect(await adapter.lookup(settings(fake), { cardNumber: '00000000' }, options())).toEqual({ found: 'none' });
    expect(fake.connections).toBe(1);
  });

  it.each([null, undefined, '', '   '])('without a card number (%j), nobody, and no connection', async (cardNumber) => {
    const result = await adapter.lookup(
      settings(fake),
      { cardNumber, email: 'jeanne.martin@example.fr', lastName: 'Martin', birthDate: '1984-03-12' },
      options(),
    );
    expect(result).toEqual({ found: 'none', note: NO_CARD_NOTE });
    expect(fake.connections).toBe(0);
  });

  it('a card number SIP2 cannot carry is not sent', async () => {
    expect(await adapter.lookup(settings(fake), { cardNumber: '123|AC' }, options())).toEqual({ found: 'none', note: UNSENDABLE_CARD_NOTE });
    expect(fake.connections).toBe(0);
  });

  it('a server that takes no login: no 93 when no user is set', async () => {
    fake.accounts = [];
    const result = await adapter.lookup(settings(fake, { username: null, secret: null }), { cardNumber: CARD }, options());
    expect(result).toMatchObject({ found: 'one' });
    expect(fake.received.map((m) => [m.code, m.sequence])).toEqual([['63', 0]]);
  });

  it('a refused login is a failure no retry can mend', async () => {
    fake.failures.refuseLogin = true;
    const failure = await failureOf(adapter.lookup(settings(fake), { cardNumber: CARD }, options()));
    expect(failure.message).toBe("Le serveur SIP2 refuse la connexion : vérifiez l'utilisateur et le mot de passe.");
    expect(failure.retryable).toBe(false);
    expect(fake.received.map((m) => m.code)).toEqual(['93']);
  });

  it('a wrong password is refused the same way', async () => {
    const failure = await failureOf(adapter.lookup(settings(fake, { secret: 'wrong-secret' }), { cardNumber: CARD }, options()));
    expect(failure.retryable).toBe(false);
    expect(failure.message).not.toContain('wrong-secret');
  });

  it('a wrong checksum in the answer is a retryable failure', async () => {
    fake.failures.wrongChecksum = true;
    const failure = await failureOf(adapter.lookup(settings(fake), { cardNumber: CARD }, options()));
    expect(failure.message).toMatch(/altérée \(somme de contrôle\)/);
    expect(failure.retryable).toBe(true);
  });

  it('a wrong sequence number in the answer is a retryable failure', async () => {
    fake.failures.wrongSequence = true;
    const failure = await failureOf(adapter.lookup(settings(fake), { cardNumber: CARD }, options()));
    expect(failure.message).toMatch(/séquence/);
    expect(failure.retryable).toBe(true);
  });

  it('sends a message again once when the server asks for it (96)', async () => {
    fake.failures.requestResendOnce = true;
    const result = await adapter.lookup(settings(fake), { cardNumber: CARD }, options());
    expect(result).toMatchObject({ found: 'one' });
    expect(fake.received.map((m) => [m.code, m.sequence, m.checksumOk])).toEqual([
      ['93', 0, true],
      ['93', 1, true],
      ['63', 2, true],
    ]);
  });

  it('garbage is a failure', async () => {
    fake.failures.garbage = true;
    const failure = await failureOf(adapter.lookup(settings(fake), { cardNumber: CARD }, options()));
    expect(failure.message).toMatch(/SIP2/);
    expect(failure.retryable).toBe(true);
  });

  it('a silent server: rejected after the time limit, no hang, connection closed', async () => {
    fake.failures.silent = true;
    const failure = await failureOf(adapter.lookup(settings(fake), { cardNumber: CARD }, options({ timeoutMs: 300 })));
    expect(failure.message).toMatch(/n'a pas répondu dans le délai de 0,3 s/);
    expect(failure.retryable).toBe(true);
    expect(fake.connections).toBe(1);
  });

  it('the time limit is for the whole lookup, not for each answer', async () => {
    // Each answer within the limit, both together beyond it.
    fake.failures.delayMs = 250;
    const failure = await failureOf(adapter.lookup(settings(fake), { cardNumber: CARD }, options({ timeoutMs: 300 })));
    expect(failure.message).toMatch(/délai/);
  });

  it('an answer followed at once by the server hanging up still counts', async () => {
    fake.failures.hangUpAfterPatronInformation = true;
    expect(await adapter.lookup(settings(fake), { cardNumber: CARD }, options())).toMatchObject({ found: 'one' });
  });

  it('a slow server within the limit is fine', async () => {
    fake.failures.delayMs = 50;
    expect(await adapter.lookup(settings(fake), { cardNumber: CARD }, options({ timeoutMs: 5000 }))).toMatchObject({ found: 'one' });
  });

  it('a reset connection is a retryable failure', async () => {
    fake.failures.reset = true;
    const failure = await failureOf(adapter.lookup(settings(fake), { cardNumber: CARD }, options()));
    expect(failure.message).toMatch(/coupé la connexion|fermé la connexion/);
    expect(failure.retryable).toBe(true);
  });

  it('a server that is down is a retryable failure', async () => {
    await fake.setDown(true);
    const failure = await failureOf(adapter.lookup(settings(fake), { cardNumber: CARD }, options()));
    expect(failure.message).toMatch(/refuse les connexions/);
    expect(failure.retryable).toBe(true);
    await fake.setDown(false);
    expect(await adapter.lookup(settings(fake), { cardNumber: CARD }, options())).toMatchObject({ found: 'one' });
  });

  it('a line that never ends is refused past maxBytes', async () => {
    fake.failures.noTerminator = true;
    const failure = await failureOf(adapter.lookup(settings(fake), { cardNumber: CARD }, options({ maxBytes: 4096 })));
    expect(failure.message).toMatch(/trop longue/);
  });

  it('plain TCP is refused unless the operator allows it, before connecting', async () => {
    const failure = await failureOf(
      adapter.lookup(settings(fake), { cardNumber: CARD }, options({ network: { allowedHosts: ['127.0.0.1/8'], allowPlaintext: false } })),
    );
    expect(failure.retryable).toBe(false);
    expect(failure.message).toMatch(/sans chiffrement/);
    expect(fake.connections).toBe(0);
  });

  it.each(['127.0.0.1', 'localhost'])('loopback (%s) is refused unless allowed, before any byte is sent', async (host) => {
    const endpoint = `${host}:${fake.endpoint.split(':')[1]}`;
    const failure = await failureOf(
      adapter.lookup(settings(fake, { endpoint }), { cardNumber: CARD }, options({ network: { allowedHosts: [], allowPlaintext: true } })),
    );
    expect(failure.retryable).toBe(false);
    expect(failure.message).toMatch(/réseau privé ou local/);
    expect(fake.connections).toBe(0);
  });

  it.each([
    ['127.0.0.1', ['127.0.0.1/8']],
    ['localhost', ['localhost']],
  ])('loopback (%s) is reached when allowed (%j)', async (host, allowedHosts) => {
    const endpoint = `${host}:${fake.endpoint.split(':')[1]}`;
    const result = await adapter.lookup(settings(fake, { endpoint }), { cardNumber: CARD }, options({ network: { allowedHosts, allowPlaintext: true } }));
    expect(result).toMatchObject({ found: 'one' });
  });

  it('bad settings are refused before connecting', async () => {
    for (const over of [{ endpoint: 'sip.example.fr' }, { secret: 'a|b' }, { institutionId: 'MED\r57' }, { expiryField: 'EXPIRY' }]) {
      const failure = await failureOf(adapter.lookup(settings(fake, over), { cardNumber: CARD }, options()));
      expect(failure.retryable).toBe(false);
    }
    expect(fake.connections).toBe(0);
  });

  it('the fake itself answers a bad client checksum with 96, as Koha does', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(fake.endpoint.split(':')[1]), '127.0.0.1', () => socket.write('9300CNnumos|COsecret-sip|AY0AZ0000\r'));
      socket.on('data', (data) => {
        resolve(data.toString());
        socket.destroy();
      });
      socket.on('error', reject);
    });
    expect(answer).toBe('96AZFEF6\r\n');
    expect(fake.received[0]).toMatchObject({ code: '93', sequence: 0, checksumOk: false });
  });
});

describe('SIP2 adapter over TLS', () => {
  const adapter = createSip2Adapter();
  let fake: FakeSip2;

  beforeEach(async () => {
    fake = new FakeSip2({ patrons: PATRONS });
    await fake.start({ tls: true });
  });

  afterEach(async () => {
    await fake.idle();
    expect(fake.open).toBe(0);
    await fake.stop();
  });

  const tlsOptions = (over: Partial<CallOptions> = {}) => options({ network: { allowedHosts: ['127.0.0.1/8', 'localhost'], allowPlaintext: false }, ...over });

  it.each(['127.0.0.1', 'localhost'])('works with the library’s own authority (%s)', async (host) => {
    const endpoint = `${host}:${fake.endpoint.split(':')[1]}`;
    const result = await adapter.lookup(settings(fake, { endpoint, tls: true }), { cardNumber: CARD }, tlsOptions({ ca: [FAKE_SIP2_CERTIFICATE] }));
    expect(result).toMatchObject({ found: 'one', facts: { birthDate: '1984-03-12', expiresOn: '2099-03-11' } });
    expect(fake.received.map((m) => [m.code, m.sequence, m.checksumOk])).toEqual([
      ['93', 0, true],
      ['63', 1, true],
    ]);
  });

  it('fails clearly on a self-signed certificate it was not given', async () => {
    const failure = await failureOf(adapter.lookup(settings(fake, { tls: true }), { cardNumber: CARD }, tlsOptions()));
    expect(failure.message).toMatch(/certificat TLS du serveur SIP2 .* n'est pas reconnu/);
    expect(failure.retryable).toBe(false);
    expect(fake.received).toHaveLength(0);
  });

  it('a silent TLS server is cut at the time limit', async () => {
    fake.failures.silent = true;
    const failure = await failureOf(
      adapter.lookup(settings(fake, { tls: true }), { cardNumber: CARD }, tlsOptions({ ca: [FAKE_SIP2_CERTIFICATE], timeoutMs: 300 })),
    );
    expect(failure.message).toMatch(/délai/);
  });
});
