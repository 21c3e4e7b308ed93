import type { ResourceProvider } from '../../generated/prisma/client.js';
import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { ContentCategoryEnum } from '../quotas/types.js';
import { maxChars } from '../../graphql/input-guard.js';
import { createResourceProvider, PROVIDER_NAME_MAX } from './service.js';

export const ResourceProviderType = builder.prismaNode('ResourceProvider', {
  description: 'A platform (films, e-books, press) that checks and consumes quotas with its API key. Visible to the DLPB and to itself.',
  id: { field: 'id' },
  authScopes: (provider, { caller }) =>
    (caller.kind === 'staff' && caller.role === 'DLPB_AGENT') || (caller.kind === 'provider' && caller.providerId === provider.id),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Its name, as staff know it.' }),
    categories: t.field({ type: [ContentCategoryEnum], description: 'The content categories it may consume and read.', resolve: (p) => p.categories }),
  }),
});

const CreateResourceProviderInput = builder.inputType('CreateResourceProviderInput', {
  description: 'A new resource provider.',
  fields: (t) => ({
    name: t.string({ required: true, ...maxChars(PROVIDER_NAME_MAX, 'Its name.') }),
    categories: t.field({ type: [ContentCategoryEnum], required: true, description: 'The categories it may consume (at least one).' }),
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
