// What a lost connection says in the log: once per cause, and nothing for the ending of its own
// PostgreSQL that the shutdown asked for (a backend still finishing when the fast shutdown ends it,
// on a busy machine: the Ctrl-C test of test/process/start.test.ts met it under load).
import { describe, expect, it } from 'vitest';
import { ownDatabaseStopping, reportDatabaseError } from '../../src/db/availability.js';
import { captureLogs } from '../support/logs.js';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('reportDatabaseError', () => {
  it("says a lost connection once; after the shutdown stops its own database, not that database's ending", () => {
    const logs = captureLogs('info');
    reportDatabaseError(pgError('ECONNRESET', 'read ECONNRESET'));
    reportDatabaseError(pgError('ECONNRESET', 'read ECONNRESET'));
    expect(logs.lines.filter((l) => l.msg.includes('read ECONNRESET'))).toHaveLength(1);

    // The first report of its kind, which would be said but for the shutdown's own stop.
    ownDatabaseStopping();
    reportDatabaseError(pgError('57P01', 'terminating connection due to administrator command'));
    expect(logs.lines.some((l) => l.msg.includes('administrator command'))).toBe(false);
    // Anything else is still said: a broken connection is not the shutdown's doing.
    reportDatabaseError(pgError('08006', 'connection failure'));
    expect(logs.lines.some((l) => l.msg.includes('connection failure'))).toBe(true);
  });
});
