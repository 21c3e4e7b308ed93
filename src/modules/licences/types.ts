import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { licencePool, setLicenceCapacity, type LicencePoolState } from './service.js';

export const LicencePoolType = builder.objectRef<LicencePoolState>('LicencePool').implement({
  description: "The département's licences: how many accounts may be ACTIVE at once.",
  fields: (t) => ({
    id: t.id({ description: "A stable key for clients' caches (there is one pool); not a node.", resolve: () => encodeGlobalID('LicencePool', 'moselle') }),
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

const SetLicenceCapacityInput = builder.inputType('SetLicenceCapacityInput', {
  fields: (t) => ({ capacity: t.int({ required: true }) }),
});

const LicencePoolPayload = payloadType<{ licencePool: LicencePoolState | null; errors: UserError[] }>('LicencePoolPayload', (t) => ({
    licencePool: t.field({ type: LicencePoolType, nullable: true, resolve: (p) => p.licencePool }),
}));

builder.mutationField('setLicenceCapacity', (t) =>
  t.field({
    type: LicencePoolPayload,
    description: 'DLPB only. Audit-logged.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: SetLicenceCapacityInput, required: true }) },
    resolve: (_root, { input }, { app, caller }) => setLicenceCapacity(app, caller, input.capacity),
  }),
);
