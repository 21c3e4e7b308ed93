// What a client is told when something goes wrong outside the business rules (those come back in
// payloads). Every error passes through `shapeError` (yoga's maskError hook):
// - the database out of reach → SERVICE_UNAVAILABLE, HTTP 503 with Retry-After, no address named;
// - an unexpected failure → "Unexpected error." and no internals (yoga's own masking);
// - a message never echoes more than a short prefix of what the client sent.
import { GraphQLError } from 'graphql';
import { maskError } from 'graphql-yoga';
import { isDatabaseUnavailable } from '../db/availability.js';

/** Seconds a client is asked to wait before trying again during a database outage. */
export const RETRY_AFTER_SECONDS = 5;

export function serviceUnavailable(): GraphQLError {
  return new GraphQLError('Le service est momentanément indisponible : réessayez dans quelques instants.', {
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } } },
  });
}

/** Quoted values longer than ECHO_MAX are cut in error messages, whole messages at MESSAGE_MAX. */
const ECHO_MAX = 40;
const MESSAGE_MAX = 300;
const LONG_QUOTE = new RegExp(`"((?:[^"\\\\]|\\\\.){${ECHO_MAX}})(?:[^"\\\\]|\\\\.)+"`, 'g');

/** An error message with what the client sent cut short ("a 100 KB value" is echoed as 40 characters). */
export function shortMessage(message: string): string {
  if (message.length <= MESSAGE_MAX) return message;
  const cut = message.replace(LONG_QUOTE, (_all, head: string) => `"${head}…"`);
  return cut.length <= MESSAGE_MAX ? cut : `${cut.slice(0, MESSAGE_MAX)}…`;
}

function withShortMessage(error: GraphQLError): GraphQLError {
  const message = shortMessage(error.message);
  if (message === error.message) return error;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: error.extensions,
  });
}

export function shapeError(error: unknown, message: string, isDev?: boolean): Error {
  if (isDatabaseUnavailable(error)) return serviceUnavailable();
  const masked = maskError(error, message, isDev);
  return masked instanceof GraphQLError ? withShortMessage(masked) : masked;
}
