import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { licencePool, setLicenceCapacity, type LicencePoolState } from './service.js';

export const LicencePoolType = builder.objectRef<LicencePoolState>('LicencePool').implement({
  description: "The département's licences: how many accounts may be ACTIVE at once.",
  fields: (t) => ({
    id: t.id({ description: "A stable key for clients' caches (there is one pool); not a node.", resolve: () => encodeGlobalID('LicencePool', 'moselle') }),
    capacity: t.exposeInt('capacity', { description: 'Licences the département bought.' }),
    used: t.exposeInt('used', { description: 'Accounts currently ACTIVE.' }),
    available: t.exposeInt('available', { description: 'Licences left for new acceptances (never below 0).' }),
  }),
});

builder.queryField('licencePool', (t) =>
  t.field({
    type: LicencePoolType,
    description: 'DLPB only: the licence pool now.',
    authScopes: { dlpb: true },
    resolve: (_root, _args, { app }) => licencePool(app),
  }),
);

const SetLicenceCapacityInput = builder.inputType('SetLicenceCapacityInput', {
  description: 'A new size of the licence pool.',
  fields: (t) => ({
    capacity: t.int({
      required: true,
      description: 'Licences bought, from 0 to 10,000,000 (below the accounts in use: no new acceptance until it is raised).',
    }),
  }),
});

const LicencePoolPayload = payloadType<{ licencePool: LicencePoolState | null; errors: UserError[] }>(
  'LicencePoolPayload',
  'The answer to a change of the licence pool.',
  (t) => ({
    licencePool: t.field({
      type: LicencePoolType,
      nullable: true,
      description: 'The pool after the change; null when refused.',
      resolve: (p) => p.licencePool,
    }),
  }),
);

builder.mutationField('setLicenceCapacity', (t) =>
  t.field({
    type: LicencePoolPayload,
    description: 'DLPB only: sets the capacity of the licence pool (alerts at 90 % and 100 % follow). Audit-logged.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: SetLicenceCapacityInput, required: true, description: 'The new capacity.' }) },
    resolve: (_root, { input }, { app, caller }) => setLicenceCapacity(app, caller, input.capacity),
  }),
);
