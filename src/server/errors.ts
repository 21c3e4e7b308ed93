// What a client is told when something goes wrong outside the business rules (those come back in
// payloads). Every top-level error passes through `shapeError` (yoga's maskError hook, and the
// WebSocket server's), so that each carries a stable `extensions.code`:
// - the database out of reach → SERVICE_UNAVAILABLE, HTTP 503 with Retry-After, no address named;
// - a document over a limit (tokens, depth, aliases, directives, cost) → QUERY_TOO_COMPLEX;
// - a malformed variable, ID or cursor → BAD_USER_INPUT, with `field` when an input field is at fault;
// - an unexpected failure → "Unexpected error." and no internals (yoga's own masking);
// and so that a message never echoes more than a short prefix of what the client sent, nor, in
// production, suggests names of the schema ("Did you mean …?").
import { RequestRefused } from '../domain/errors.js';
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { maskError, type Plugin } from 'graphql-yoga';
import { isDatabaseUnavailable } from '../db/availability.js';
import { requestScope } from '../observability/logger.js';

/** Seconds a client is asked to wait before trying again during a database outage. */
export const RETRY_AFTER_SECONDS = 5;

export function serviceUnavailable(): GraphQLError {
  return new GraphQLError('Le service est momentanément indisponible : réessayez dans quelques instants.', {
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } } },
  });
}

/** The HTTP status of an answer whose errors all say "try again later", with the longest wait asked. */
const RETRY_STATUS: Record<string, number> = { RATE_LIMITED: 429, SERVICE_UNAVAILABLE: 503 };

/**
 * Clients and proxies read headers, not extensions: an answer that is nothing but RATE_LIMITED
 * errors is HTTP 429, nothing but SERVICE_UNAVAILABLE 503, each with Retry-After. Beside other
 * errors or data it keeps the status of the rest (a GraphQL answer with partial data is not a
 * failure to retry).
 */
export const retryStatus: Plugin = {
  onResultProcess({ result, setResult }) {
    if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return;
    const errors = result.errors;
    // Nothing answered but errors, each a "try again later": no field of the answer has a value.
    const nothing = result.data == null || Object.values(result.data).every((value) => value == null);
    const statuses = errors.map((error) => RETRY_STATUS[String(error.extensions?.code)]);
    const status = nothing && statuses.every(Boolean) ? Math.max(...(statuses as number[])) : undefined;
    if (status) {
      const wait = Math.max(
        ...errors.map((error) => {
          const seconds = Number(error.extensions?.retryAfterSeconds ?? RETRY_AFTER_SECONDS);
          return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : RETRY_AFTER_SECONDS;
        }),
      );
      setResult({ ...result, extensions: { ...result.extensions, http: { status, headers: { 'Retry-After': String(wait) } } } });
    } else if (statuses.some(Boolean)) {
      setResult({
        ...result,
        errors: errors.map((error) => {
          if (!RETRY_STATUS[String(error.extensions?.code)]) return error;
          const { http: _http, ...extensions } = error.extensions ?? {};
          return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions });
        }),
      });
    }
  },
};

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

/**
 * The errors graphql-armor rejects a document with, as its own `onReject` hooks hand them over
 * (src/server/yoga.ts): QUERY_TOO_COMPLEX, whatever their message says.
 */
const overLimit = new WeakSet<GraphQLError>();
export const noteOverLimit = (_context: unknown, error: GraphQLError) => {
  overLimit.add(error);
};
const isOverLimit = (error: GraphQLError) => overLimit.has(error) || (error.originalError instanceof GraphQLError && overLimit.has(error.originalError));

// graphql-js gives a malformed variable and its suggestions in the message only (no class, no
// code): these two patterns are pinned by test/server/errors.test.ts, so that an upgrade that
// changes the wording fails a test rather than a client.
export const VARIABLE_ERROR = /^Variable "\$(\w+)" got invalid value .*?(?: at "([^"]+)")?;/;
export const SUGGESTION = / ?Did you mean [^?]*\?/g;

/** `at "input.limits[0].category"` → `limits.0.category`: the field at fault, as payloads name it. */
function fieldOf(variable: string, at: string | undefined): string {
  if (!at) return variable;
  return (
    at
      .replace(/\[(\d+)\]/g, '.$1')
      .split('.')
      .slice(1)
      .join('.') || variable
  );
}

/** A variable missing or null where required (graphql-js's getVariableValues; pinned like VARIABLE_ERROR). */
export const VARIABLE_MISSING = /^Variable "\$(\w+)" of (?:required|non-null) type "[^"]+" (?:was not provided|must not be null)\.$/;

/**
 * graphql-js's reasons for refusing a value, in French (what follows "got invalid value … ;"). Our
 * scalars give theirs in French already (src/graphql/scalars.ts); these are graphql-js's own, for
 * the built-in types, enums and input objects. Pinned by test/server/errors.test.ts.
 */
const REASONS: [RegExp, (...groups: string[]) => string][] = [
  [/^Field "(\w+)" of required type "[^"]+" was not provided\./, (field) => `Le champ « ${field} » est obligatoire.`],
  [/^Field "(\w+)" is not defined by type "(\w+)"\./, (field, type) => `Le champ « ${field} » n'existe pas dans ${type}.`],
  [/^Expected non-nullable type "[^"]+" not to be null\./, () => 'Valeur obligatoire.'],
  [/^Expected type "(\w+)" to be an object\./, (type) => `Objet ${type} attendu.`],
  [/^Value .* does not exist in "(\w+)" enum\./, (type) => `Valeur inconnue pour ${type}.`],
  [/^Enum "(\w+)" cannot represent non-string value/, (type) => `Valeur inconnue pour ${type}.`],
  [/^String cannot represent/, () => 'Texte attendu.'],
  [/^Int cannot represent non 32-bit/, () => 'Nombre entier trop grand.'],
  [/^Int cannot represent/, () => 'Nombre entier attendu.'],
  [/^Float cannot represent/, () => 'Nombre attendu.'],
  [/^Boolean cannot represent/, () => 'Booléen (true ou false) attendu.'],
  [/^ID cannot represent/, () => 'Identifiant attendu.'],
];

/** The French reason of a refused variable: our scalar's own message, else graphql-js's translated. */
function frenchReason(reason: string, ours: boolean): string {
  const text = reason.replace(SUGGESTION, '').trim();
  if (ours) return text;
  for (const [pattern, say] of REASONS) {
    const match = pattern.exec(text);
    if (match) return say(...match.slice(1));
  }
  return 'Valeur invalide.';
}

/** The code (and field) of a top-level error, from what raised it, when it has none or too vague a one. */
function classify(error: GraphQLError): { code: string; field?: string; message?: string } | undefined {
  if (isOverLimit(error)) return { code: 'QUERY_TOO_COMPLEX' };
  const variable = VARIABLE_ERROR.exec(error.message);
  // A malformed value in a variable: the code its scalar gave, or BAD_USER_INPUT; its field, as
  // payload errors name it; and the reason alone, in French (a form shows it beside the field).
  if (variable) {
    const ours = error.extensions.code !== undefined;
    return {
      code: String(error.extensions.code ?? 'BAD_USER_INPUT'),
      field: fieldOf(variable[1]!, variable[2]),
      message: frenchReason(error.message.slice(variable[0].length), ours),
    };
  }
  const missing = VARIABLE_MISSING.exec(error.message);
  if (missing) return { code: 'BAD_USER_INPUT', field: missing[1], message: `La variable $${missing[1]} est obligatoire.` };
  if (error.extensions.code) return undefined;
  if (error.originalError instanceof PothosValidationError) {
    // Pothos's own checks: a global ID or a cursor that is not one.
    const cursor = /cursor/i.test(error.originalError.message);
    return { code: 'BAD_USER_INPUT', message: cursor ? 'Curseur de pagination invalide.' : 'Identifiant invalide.' };
  }
  return error.path ? undefined : { code: 'GRAPHQL_VALIDATION_FAILED' };
}

/** A GraphQL error with its code and field, a short message, and in production no suggestion. */
export function refineError(error: GraphQLError, production: boolean): GraphQLError {
  const found = classify(error);
  let text = found?.message ?? shortMessage(error.message);
  if (production) text = text.replace(SUGGESTION, '');
  if (!found && text === error.message) return error;
  return new GraphQLError(text, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, ...(found && { code: found.code }), ...(found?.field && { field: found.field }) },
  });
}

/** yoga's maskError hook: every error of an execution, and those thrown while handling a request. */
/** A refusal of access raised by a service or an auth scope, found inside graphql-js's wrapper. */
export const requestRefused = (error: unknown): RequestRefused | null =>
  error instanceof RequestRefused ? error : error instanceof GraphQLError && error.originalError instanceof RequestRefused ? error.originalError : null;

export function shapeError(error: unknown, message: string, isDev?: boolean, production = false): Error {
  const denied = requestRefused(error);
  if (denied) {
    const at = error instanceof GraphQLError ? error : undefined;
    // The contract's top-level codes, with the HTTP status of a GraphQL answer.
    return new GraphQLError(denied.message, {
      nodes: at?.nodes,
      source: at?.source,
      positions: at?.positions,
      path: at?.path,
      extensions: { code: denied.code, ...(denied.field ? { field: denied.field } : {}), http: { status: 200 } },
    });
  }
  const shaped = isDatabaseUnavailable(error) ? serviceUnavailable() : maskError(error, message, isDev);
  if (!(shaped instanceof GraphQLError)) return shaped;
  // A masked error names its request, so that a user's report can be matched to the log.
  const requestId = requestScope.getStore()?.requestId;
  const masked = shaped !== error && requestId;
  const withId = masked
    ? new GraphQLError(shaped.message, {
        nodes: shaped.nodes,
        source: shaped.source,
        positions: shaped.positions,
        path: shaped.path,
        extensions: { ...shaped.extensions, requestId },
      })
    : shaped;
  return refineError(withId, production);
}
