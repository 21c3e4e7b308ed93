// Resource providers (film, e-book, press platforms) act server-to-server with an API key shown
// once at creation; only its SHA-256 is stored, with a short prefix to recognise it.
import type { App } from '../../instance.js';
import { API_KEY_PREFIX, type Caller } from '../../auth/caller.js';
import type { ContentCategory, ResourceProvider } from '../../generated/prisma/client.js';
import type { Tx } from '../../db/prisma.js';
import { lockProvider } from './store.js';

// How callers are told apart at each request (src/auth/caller.ts): looked up, never remembered.
export { providerByKey, recordProviderUse } from './store.js';
import { refuseIfAny, Refusal, userError, type UserError } from '../../domain/errors.js';
import { hashSecret, newSecret } from '../../lib/secrets.js';
import { unitOfWork } from '../unit-of-work.js';
import type { AuditAction } from '../audit/service.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'outbox' | 'prisma'>;

export const PROVIDER_NAME_MAX = 200;

export async function createResourceProvider(
  app: Services,
  caller: Caller,
  input: { name: string; categories: ContentCategory[] },
): Promise<{ provider: ResourceProvider | null; apiKey: string | null; errors: UserError[] }> {
  const name = input.name.replace(/\s+/g, ' ').trim();
  const categories = [...new Set(input.categories)];
  const errors: UserError[] = [];
  if (!name) errors.push(userError('INVALID_INPUT', 'Le nom du fournisseur est obligatoire.', 'name'));
  if (!categories.length) errors.push(userError('INVALID_INPUT', 'Indiquez au moins une catégorie de contenus.', 'categories'));
  refuseIfAny(errors);
  const apiKey = newSecret(API_KEY_PREFIX);
  const provider = await unitOfWork(app, { actor: caller }, async ({ tx, now, audit }) => {
    const created = await tx.resourceProvider.create({
      data: { name, categories, apiKeyHash: hashSecret(apiKey), apiKeyPrefix: apiKey.slice(0, 12), createdAt: now },
    });
    await audit({
      action: 'CREATE_RESOURCE_PROVIDER',
      subjectType: 'ResourceProvider',
      subjectId: created.id,
      after: { name, categories, apiKeyPrefix: created.apiKeyPrefix },
    });
    return created;
  });
  return { provider, apiKey, errors: [] };
}

/** After a rotation, the previous key keeps working this long, for the provider to deploy the new one. */
export const KEY_OVERLAP_HOURS = 24;

type ProviderResult = { provider: ResourceProvider | null; apiKey: string | null; errors: UserError[] };

/** Runs a change of a provider's keys, audited; every instance reads keys from the database, so it holds at once. */
async function changeKeys(
  app: Services,
  caller: Caller,
  id: string | undefined,
  change: (
    tx: Tx,
    provider: ResourceProvider,
    now: Date,
  ) => Promise<{ provider: ResourceProvider; apiKey: string | null; action: AuditAction; after: Record<string, unknown> }>,
): Promise<ProviderResult> {
  const notFound = () => new Refusal(userError('NOT_FOUND', 'Fournisseur introuvable.', 'providerId'));
  if (!id) throw notFound();
  const result = await unitOfWork(app, { actor: caller }, async ({ tx, sql, now, audit }) => {
    // The row lock orders concurrent rotations and revocations of one provider.
    if (!(await lockProvider(sql, id))) throw notFound();
    const provider = await tx.resourceProvider.findUniqueOrThrow({ where: { id } });
    if (provider.revokedAt) throw new Refusal(userError('INVALID_STATE', 'Ce fournisseur est révoqué : ses clés ne peuvent plus changer.', 'providerId'));
    const changed = await change(tx, provider, now);
    await audit({ action: changed.action, subjectType: 'ResourceProvider', subjectId: id, after: changed.after });
    return changed;
  });
  return { provider: result.provider, apiKey: result.apiKey, errors: [] };
}

/** DLPB: a new key, shown once; the previous one keeps working for 24 hours, then is refused. */
export function rotateProviderKey(app: Services, caller: Caller, providerId: string | undefined): Promise<ProviderResult> {
  return changeKeys(app, caller, providerId, async (tx, provider, now) => {
    const apiKey = newSecret(API_KEY_PREFIX);
    const updated = await tx.resourceProvider.update({
      where: { id: provider.id },
      data: {
        apiKeyHash: hashSecret(apiKey),
        apiKeyPrefix: apiKey.slice(0, 12),
        previousKeyHash: provider.apiKeyHash,
        previousKeyExpiresAt: new Date(now.getTime() + KEY_OVERLAP_HOURS * 3_600_000),
      },
    });
    return {
      provider: updated,
      apiKey,
      action: 'ROTATE_PROVIDER_KEY',
      after: { apiKeyPrefix: updated.apiKeyPrefix, previousKeyValidHours: KEY_OVERLAP_HOURS },
    };
  });
}

/** DLPB: every key of the provider is refused from the next request on, on every instance. */
export function revokeProvider(app: Services, caller: Caller, providerId: string | undefined): Promise<ProviderResult> {
  return changeKeys(app, caller, providerId, async (tx, provider, now) => {
    const updated = await tx.resourceProvider.update({
      where: { id: provider.id },
      data: { revokedAt: now, previousKeyHash: null, previousKeyExpiresAt: null },
    });
    return { provider: updated, apiKey: null, action: 'REVOKE_PROVIDER', after: { revoked: true } };
  });
}
