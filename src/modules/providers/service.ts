// Resource providers (film, e-book, press platforms) act server-to-server with an API key shown
// once at creation; only its SHA-256 is stored, with a short prefix to recognise it.
import type { App } from '../../app.js';
import { API_KEY_PREFIX, type Caller } from '../../auth/caller.js';
import type { ContentCategory, ResourceProvider } from '../../generated/prisma/client.js';
import { userError, type UserError } from '../../graphql/errors.js';
import { hashSecret, newSecret } from '../../lib/secrets.js';
import { audit } from '../audit/service.js';

export const PROVIDER_NAME_MAX = 200;

export async function createResourceProvider(
  app: App,
  caller: Caller,
  input: { name: string; categories: ContentCategory[] },
): Promise<{ provider: ResourceProvider | null; apiKey: string | null; errors: UserError[] }> {
  const name = input.name.replace(/\s+/g, ' ').trim();
  const categories = [...new Set(input.categories)];
  const errors: UserError[] = [];
  if (!name) errors.push(userError('INVALID_INPUT', 'Le nom du fournisseur est obligatoire.', 'name'));
  if (!categories.length) errors.push(userError('INVALID_INPUT', 'Indiquez au moins une catégorie de contenus.', 'categories'));
  if (errors.length) return { provider: null, apiKey: null, errors };
  const apiKey = newSecret(API_KEY_PREFIX);
  const provider = await app.prisma.$transaction(async (tx) => {
    const created = await tx.resourceProvider.create({
      data: { name, categories, apiKeyHash: hashSecret(apiKey), apiKeyPrefix: apiKey.slice(0, 12), createdAt: app.clock.now() },
    });
    await audit(tx, caller, app.clock.now(), {
      action: 'provider.create',
      subjectType: 'ResourceProvider',
      subjectId: created.id,
      after: { name, categories, apiKeyPrefix: created.apiKeyPrefix },
    });
    return created;
  });
  return { provider, apiKey, errors: [] };
}
