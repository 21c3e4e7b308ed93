// A document's nesting, measured before it is parsed. graphql-js parses nested lists, objects and
// selections recursively: a 2,000-level list literal (a few kilobytes, well under the token limit's
// reach, which counts as it goes) overflowed the stack inside the parser, an "Unexpected error."
// on a fresh instance. One linear pass over the text, outside strings and comments, refuses such a
// document first, with the code of every other document over a limit.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Far above any real document (selections stop at depth 12, inputs at a few levels). */
export const MAX_NESTING = 64;

/** The deepest nesting of braces, brackets and parentheses in a GraphQL document's text. */
export function nestingOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < text.length && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 /* " */) {
      if (text.startsWith('"""', i)) {
        const end = text.indexOf('"""', i + 3);
        // A block string ends at the first """ not escaped as \"""; an unterminated one ends the text.
        let close = end;
        while (close !== -1 && text[close - 1] === '\\') close = text.indexOf('"""', close + 3);
        i = close === -1 ? text.length : close + 2;
      } else {
        for (i++; i < text.length; i++) {
          const s = text.charCodeAt(i);
          if (s === 0x5c /* \ */) i++;
          else if (s === 0x22 || s === 0x0a || s === 0x0d) break;
        }
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */ || c === 0x28 /* ( */) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */ || c === 0x29 /* ) */) {
      depth--;
    }
  }
  return deepest;
}

/** Refuses a document nested deeper than MAX_NESTING before any parser sees it (HTTP, SSE and WebSocket alike). */
export const nestingLimit: Plugin = {
  onParse({ params }) {
    const text = typeof params.source === 'string' ? params.source : params.source.body;
    if (nestingOf(text) > MAX_NESTING) {
      throw new GraphQLError(`Document trop imbriqué : au plus ${MAX_NESTING} niveaux d'accolades, de crochets ou de parenthèses.`, {
        extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } },
      });
    }
  },
};
