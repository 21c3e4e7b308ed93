// What every resolver receives: the application's services and who is calling.
import type { App } from '../instance.js';
import type { Caller } from '../auth/caller.js';

export interface Context {
  app: App;
  prisma: App['prisma'];
  caller: Caller;
  /** The caller's address (X-Forwarded-For believed only from TRUSTED_PROXIES), for throttling. */
  clientIp: string;
  /** Requests this operation may show whoever the caller is (made just now from a link). */
  granted: Set<string>;
  /** Totals a list's page query counted on its way, for its `totalCount` (keyed by list and filter). */
  counts: Map<string, number>;
  /** How the operation came: over HTTP (SSE for subscriptions) or a WebSocket. */
  transport: 'http' | 'websocket';
}
