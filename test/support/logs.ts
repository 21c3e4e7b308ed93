// The process's log, captured as JSON lines for a test file to read (configureLogging replaces it).
import { Writable } from 'node:stream';
import { configureLogging } from '../../src/observability/logger.js';

/** A log line as pino wrote it, with `at`: when the test received it (Date.now()). */
export type LogLine = Record<string, any> & { at: number; level: number; msg: string };

/** From now on, every line of the process's log at `level` and above goes to `lines` (and `text()`). */
export function captureLogs(level = 'info'): { lines: LogLine[]; text: () => string } {
  const lines: LogLine[] = [];
  let raw = '';
  configureLogging({
    json: true,
    level,
    destination: new Writable({
      write: (chunk, _encoding, done) => {
        raw += String(chunk);
        lines.push({ ...JSON.parse(String(chunk)), at: Date.now() });
        done();
      },
    }),
  });
  return { lines, text: () => raw };
}
