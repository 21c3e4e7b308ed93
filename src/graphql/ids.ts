// Relay global IDs in inputs: "Library:<uuid>" base64-encoded, decoded here so that services see
// UUIDs only. A malformed or foreign ID is simply not found, so services answer with their own
// business error (UNKNOWN_LIBRARY, NOT_FOUND…).
import { decodeGlobalID } from '@pothos/plugin-relay';
import { NO_MATCH } from '../domain/ids.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The UUID a global ID of `typename` names, or undefined (absent, malformed or foreign). */
export function idOf(typename: string, globalId: string | null | undefined): string | undefined {
  if (!globalId) return undefined;
  try {
    const { typename: found, id } = decodeGlobalID(globalId);
    return found === typename && UUID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An argument's global ID for a service: undefined when absent, NO_MATCH when it names nothing of
 * `typename` (so "absent" and "names nothing" stay distinct), else its UUID.
 */
export function decodeId(typename: string, globalId: string | null | undefined): string | undefined {
  if (globalId == null || globalId === '') return undefined;
  return idOf(typename, globalId) ?? NO_MATCH;
}

/** An input whose global-ID fields are decoded: each a UUID, NO_MATCH, or undefined when absent. */
export type Decoded<T, K extends keyof T> = Omit<T, K> & { [P in K]?: string };

/** A copy of an input or filter with the named global-ID fields decoded (see decodeId). */
export function decodeIds<T extends object, K extends keyof T>(value: T, fields: Record<K, string>): Decoded<T, K>;
export function decodeIds<T extends object, K extends keyof T>(value: T | null | undefined, fields: Record<K, string>): Decoded<T, K> | null | undefined;
export function decodeIds<T extends object, K extends keyof T>(value: T | null | undefined, fields: Record<K, string>): Decoded<T, K> | null | undefined {
  if (!value) return value;
  const decoded: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [field, typename] of Object.entries(fields) as [string, string][]) {
    decoded[field] = decodeId(typename, decoded[field] as string | null | undefined);
  }
  return decoded as Decoded<T, K>;
}
