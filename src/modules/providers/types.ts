import type { ResourceProvider } from '../../generated/prisma/client.js';
import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { ContentCategoryEnum } from '../quotas/types.js';
import { maxChars } from '../../graphql/input-guard.js';
import { createResourceProvider, PROVIDER_NAME_MAX } from './service.js';

export const ResourceProviderType = builder.prismaNode('ResourceProvider', {
  id: { field: 'id' },
  authScopes: (provider, { caller }) =>
    (caller.kind === 'staff' && caller.role === 'DLPB_AGENT') || (caller.kind === 'provider' && caller.providerId === provider.id),
  fields: (t) => ({
    name: t.exposeString('name'),
    categories: t.field({ type: [ContentCategoryEnum], resolve: (p) => p.categories }),
  }),
});

const CreateResourceProviderInput = builder.inputType('CreateResourceProviderInput', {
  fields: (t) => ({
    name: t.string({ required: true, ...maxChars(PROVIDER_NAME_MAX) }),
    categories: t.field({ type: [ContentCategoryEnum], required: true }),
  }),
});

const CreateResourceProviderPayload = payloadType<{ provider: ResourceProvider | null; apiKey: string | null; errors: UserError[] }>('CreateResourceProviderPayload', (t) => ({
    provider: t.field({ type: ResourceProviderType, nullable: true, resolve: (p) => p.provider }),
    apiKey: t.exposeString('apiKey', { nullable: true, description: 'Shown once; only a hash is stored.' }),
}));

builder.mutationField('createResourceProvider', (t) =>
  t.field({
    type: CreateResourceProviderPayload,
    description: 'DLPB only. The API key is in this answer and nowhere else.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: CreateResourceProviderInput, required: true }) },
    resolve: (_root, { input }, { app, caller }) => createResourceProvider(app, caller, input),
  }),
);
