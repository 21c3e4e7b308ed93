// A resource provider for the load benchmark, made through the service (its key is what the HTTP
// clients send).
import type { App } from '../src/instance.js';
import { ProviderCaller, type Caller } from '../src/auth/caller.js';
import { hashSecret } from '../src/lib/secrets.js';
import { createResourceProvider } from '../src/modules/providers/service.js';

export async function createProviderForBench(app: App): Promise<{ caller: Caller; apiKey: string }> {
  const dlpb: Caller = {
    kind: 'staff',
    sessionId: 'bench',
    expiresAt: new Date(8.64e15),
    staffId: '00000000-0000-4000-8000-000000000000',
    role: 'DLPB_AGENT',
    libraryId: null,
  };
  const { provider, apiKey } = await createResourceProvider(app, dlpb, {
    name: 'Banc de charge',
    categories: ['NEWSPAPER', 'FILM', 'BOOK', 'MAGAZINE', 'UNLIMITED'],
  });
  // The HTTP clients and the direct callers hold the same key: consumeQuota checks it in its own statement.
  return { caller: new ProviderCaller(hashSecret(apiKey!), async () => ({ providerId: provider!.id, categories: provider!.categories })), apiKey: apiKey! };
}
