// Identifiers as the domain sees them: UUIDs. Relay global IDs are decoded by the GraphQL layer
// (src/graphql/ids.ts) before a service sees them.

/**
 * Matches no row: what an ID that names nothing (malformed, or of another type) becomes, so that a
 * service answers it with its own business error (NOT_FOUND, UNKNOWN_LIBRARY…) or an empty list.
 */
export const NO_MATCH = '00000000-0000-0000-0000-000000000000';
