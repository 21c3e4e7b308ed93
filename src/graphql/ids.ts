// Relay global IDs in inputs: "Library:<uuid>" base64-encoded. A malformed or foreign ID is simply
// not found, so callers answer with their own business error (UNKNOWN_LIBRARY, NOT_FOUND…).
import { decodeGlobalID } from '@pothos/plugin-relay';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function idOf(typename: string, globalId: string | null | undefined): string | undefined {
  if (!globalId) return undefined;
  try {
    const { typename: found, id } = decodeGlobalID(globalId);
    return found === typename && UUID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
