// The process's log, captured as JSON lines for a test file to read (configureLogging replaces it).
import { Writable } from 'node:stream';
import { type AnyNode, parse } from '@humanwhocodes/momoa';
import { configureLogging } from '../../src/observability/logger.js';

/**
 * A line as a log store reads it: JSON with each key once per object (Elasticsearch and OpenSearch
 * refuse a document with a duplicate key, where JSON.parse keeps the last one silently).
 */
export function parseStrictJson(text: string): unknown {
  const visit = (node: AnyNode, path: string): void => {
    if (node.type === 'Object') {
      const seen = new Set<string>();
      for (const member of node.members) {
        const name = member.name.type === 'String' ? member.name.value : member.name.name;
        if (seen.has(name)) throw new Error(`clé en double « ${name} » dans ${path || 'la ligne'} : ${text}`);
        seen.add(name);
        visit(member.value, `${path}.${name}`);
      }
    } else if (node.type === 'Array') {
      for (const [index, element] of node.elements.entries()) visit(element.value, `${path}[${index}]`);
    }
  };
  visit(parse(text).body, '');
  return JSON.parse(text);
}

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
        lines.push({ ...(parseStrictJson(String(chunk)) as LogLine), at: Date.now() });
        done();
      },
    }),
  });
  return { lines, text: () => raw };
}
