import { grantKey } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { payloadType } from '../../graphql/errors.js';
import { ID_MAX, maxChars } from '../../graphql/input-guard.js';
import { RegistrationRequestType } from '../registration/types.js';
import { requestRenewal, type RenewalResult } from './service.js';

const RequestRenewalInput = builder.inputType('RequestRenewalInput', {
  description: 'A renewal, from the link of the reminder or a patron session.',
  fields: (t) => ({
    token: t.string({ required: false, ...maxChars(ID_MAX, 'The token of the renewal link; omit when calling with a patron session.') }),
  }),
});

const RequestRenewalPayload = payloadType<RenewalResult>('RequestRenewalPayload', 'The answer to a renewal.', (t) => ({
  request: t.field({
    type: RegistrationRequestType,
    nullable: true,
    description: 'The RENEWAL request, awaiting the library’s decision; null when refused.',
    // Whoever holds the link may see the request it just made, as its patron would.
    resolve: (p, _args, ctx) => {
      if (p.request?.patronId) ctx.granted.add(grantKey('patron', p.request.patronId));
      return p.request;
    },
  }),
}));

builder.mutationField('requestRenewal', (t) =>
  t.field({
    type: RequestRenewalPayload,
    description: 'From the renewal link (token) or a patron session; open from 15 days before the end of access until the purge.',
    args: { input: t.arg({ type: RequestRenewalInput, required: true, description: 'The link’s token, or nothing with a patron session.' }) },
    resolve: (_root, { input }, { app, caller }) => requestRenewal(app, caller, input.token),
  }),
);
