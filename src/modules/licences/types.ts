import { builder } from '../../graphql/builder.js';
import { licencePool, type LicencePoolState } from './service.js';

export const LicencePoolType = builder.objectRef<LicencePoolState>('LicencePool').implement({
  fields: (t) => ({
    capacity: t.exposeInt('capacity'),
    used: t.exposeInt('used', { description: 'Accounts currently ACTIVE.' }),
    available: t.exposeInt('available'),
  }),
});

builder.queryField('licencePool', (t) =>
  t.field({
    type: LicencePoolType,
    description: 'DLPB only.',
    authScopes: { dlpb: true },
    resolve: (_root, _args, { app }) => licencePool(app),
  }),
);
