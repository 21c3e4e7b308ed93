// Preloaded by a test's child process (`node --import ./test/support/record-imports.mjs …`): prints
// `LOADED <url>` on stderr for each module resolved whose URL contains RECORD_IMPORTS, so that the
// test can tell whether a package was loaded at all.
import { register } from 'node:module';

const hooks = `
import { writeSync } from 'node:fs';
const wanted = ${JSON.stringify(process.env.RECORD_IMPORTS ?? '')};
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (wanted && result.url.includes(wanted)) writeSync(2, 'LOADED ' + result.url + '\\n');
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
