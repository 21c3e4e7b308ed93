import type { ResourceProvider } from '../../generated/prisma/client.js';
import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { ContentCategoryEnum } from '../quotas/types.js';
import { maxChars, maxItems } from '../../graphql/input-guard.js';
import { createResourceProvider, PROVIDER_NAME_MAX, revokeProvider, rotateProviderKey } from './service.js';
import { decodeId } from '../../graphql/ids.js';

export const ResourceProviderType = builder.prismaNode('ResourceProvider', {
  description: 'A platform (films, e-books, press) that checks and consumes quotas with its API key. Visible to the DLPB and to itself.',
  id: { field: 'id' },
  authScopes: async (provider, { caller }) =>
    (caller.kind === 'staff' && caller.role === 'DLPB_AGENT') || (caller.kind === 'provider' && (await caller.identity())?.providerId === provider.id),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Its name, as staff know it.' }),
    categories: t.field({ type: [ContentCategoryEnum], description: 'The content categories it may consume and read.', resolve: (p) => p.categories }),
    keyPrefix: t.exposeString('apiKeyPrefix', { description: 'First characters of the current key, to recognise it (the key itself is never shown again).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When one of its keys was last used (to the minute or so); null if never.',
    }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true, description: "When it was revoked; a revoked provider's keys are refused." }),
  }),
});

const CreateResourceProviderInput = builder.inputType('CreateResourceProviderInput', {
  description: 'A new resource provider.',
  fields: (t) => ({
    name: t.string({ required: true, ...maxChars(PROVIDER_NAME_MAX, 'Its name.') }),
    categories: t.field({ type: [ContentCategoryEnum], required: true, ...maxItems(10, 'The categories it may consume (at least one).') }),
  }),
});

export const CreateResourceProviderPayload = payloadType<{ provider: ResourceProvider | null; apiKey: string | null; errors: UserError[] }>(
  'CreateResourceProviderPayload',
  "The answer to a provider's creation (or a new key).",
  (t) => ({
    provider: t.field({ type: ResourceProviderType, nullable: true, description: 'The provider; null when refused.', resolve: (p) => p.provider }),
    apiKey: t.exposeString('apiKey', { nullable: true, description: 'Shown once; only a hash is stored. Send it as `Authorization: Bearer <apiKey>`.' }),
  }),
);

builder.mutationField('createResourceProvider', (t) =>
  t.field({
    type: CreateResourceProviderPayload,
    description: 'DLPB only. The API key is in this answer and nowhere else.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: CreateResourceProviderInput, required: true, description: 'The provider.' }) },
    resolve: (_root, { input }, { app, caller }) => createResourceProvider(app, caller, input),
  }),
);

builder.queryField('resourceProviders', (t) =>
  t.prismaField({
    type: [ResourceProviderType],
    description: 'DLPB only. Every provider, revoked ones included, by name.',
    authScopes: { dlpb: true },
    resolve: (query, _root, _args, { prisma }) => prisma.resourceProvider.findMany({ ...query, orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
  }),
);

const ProviderInput = builder.inputType('ProviderInput', {
  description: 'A resource provider.',
  fields: (t) => ({ providerId: t.id({ required: true, description: 'The provider.' }) }),
});

builder.mutationField('rotateProviderKey', (t) =>
  t.field({
    type: CreateResourceProviderPayload,
    description: 'DLPB only. A new key, shown once in this answer; the previous key keeps working for 24 hours, then is refused. Audited.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: ProviderInput, required: true, description: 'Which provider.' }) },
    resolve: (_root, { input }, { app, caller }) => rotateProviderKey(app, caller, decodeId('ResourceProvider', input.providerId)),
  }),
);

builder.mutationField('revokeProvider', (t) =>
  t.field({
    type: CreateResourceProviderPayload,
    description: 'DLPB only. Every key of the provider is refused from the next request on, on every instance. Audited.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: ProviderInput, required: true, description: 'Which provider.' }) },
    resolve: (_root, { input }, { app, caller }) => revokeProvider(app, caller, decodeId('ResourceProvider', input.providerId)),
  }),
);
