// The request body's limit, in place of yoga's (maxRequestBodySize). yoga pipes every body through a
// byte-counting stream and a second Request: on consumeQuota, the providers' hot path, that was a
// stream pipeline per call whose end builds an AbortError with its stack trace (20-30 µs of a
// 600 µs call, npm run bench -- consume). A body that states its length needs no counting: Node's
// HTTP parser reads exactly Content-Length bytes as the body (and refuses a request that also says
// chunked), so the header is checked and the body read as it is. Only a body of unstated length
// (chunked) is counted as it is read, and refused as soon as it goes over.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const CONTENT_LENGTH = /^\d+$/;

const tooLarge = (limit: number) =>
  new GraphQLError(`Requête trop volumineuse : ${Math.floor(limit / 1024)} Kio au plus.`, {
    extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } },
  });

/** The body of a request of unstated length, read whole unless it goes over `limit` bytes. */
async function readAtMost(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** Refuses a body over `limit` bytes (413, REQUEST_ENTITY_TOO_LARGE), and a Content-Length that is not one number (400). */
export function requestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get('content-length');
      if (length !== null) {
        // A list of lengths or a sign is how request smuggling starts: refused, not skipped.
        if (!CONTENT_LENGTH.test(length)) {
          throw new GraphQLError('En-tête Content-Length invalide.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
        }
        if (Number(length) > limit) throw tooLarge(limit);
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser(async (unstated) => {
        const body = await readAtMost(unstated, limit);
        return parse(new fetchAPI.Request(unstated.url, { method: unstated.method, headers: unstated.headers, signal: unstated.signal, body }));
      });
    },
  };
}
