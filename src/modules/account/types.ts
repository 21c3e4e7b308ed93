import { grantKey } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { OkPayload } from '../../graphql/errors.js';
import { ID_MAX, maxChars } from '../../graphql/input-guard.js';
import { PASSWORD_MAX } from '../passwords/policy.js';
import { PatronPayload } from '../patrons/types.js';
import { changePassword, confirmEmailChange, deleteMyAccount, personalDataExport, requestEmailChange, updateProfile } from './service.js';

const currentPassword = () => maxChars(PASSWORD_MAX, 'The password in force: a wrong one is WRONG_PASSWORD, counted like a failed login.');

const ChangePasswordInput = builder.inputType('ChangePasswordInput', {
  description: 'A new password, chosen from a session.',
  fields: (t) => ({
    currentPassword: t.string({ required: true, ...currentPassword() }),
    password: t.string({ required: true, ...maxChars(PASSWORD_MAX, 'At least 8 characters; common passwords are refused.') }),
    passwordConfirmation: t.string({ required: true, ...maxChars(PASSWORD_MAX, 'The same password again.') }),
  }),
});

builder.mutationField('changePassword', (t) =>
  t.field({
    type: OkPayload,
    description: 'Patron or staff session. Ends every other session of the account; an e-mail tells the owner.',
    authScopes: { patron: true, staff: true },
    args: { input: t.arg({ type: ChangePasswordInput, required: true, description: 'The current and the new password.' }) },
    resolve: (_root, { input }, { app, caller }) => changePassword(app, caller, input),
  }),
);

const UpdateProfileInput = builder.inputType('UpdateProfileInput', {
  description: "What a patron may change themself (names and birth date are the library's to correct).",
  fields: (t) => ({
    newsletter: t.boolean({ required: false, description: 'Whether to receive the NuMos newsletter; unchanged when null.' }),
  }),
});

builder.mutationField('updateProfile', (t) =>
  t.field({
    type: PatronPayload,
    description: 'Patron session: the newsletter choice.',
    authScopes: { patron: true },
    args: { input: t.arg({ type: UpdateProfileInput, required: true, description: 'The changes.' }) },
    resolve: (_root, { input }, { app, caller }) => updateProfile(app, caller, input),
  }),
);

const RequestEmailChangeInput = builder.inputType('RequestEmailChangeInput', {
  description: 'A new address for the account.',
  fields: (t) => ({
    email: t.field({ type: 'EmailAddress', required: true, description: 'The new address: a confirmation link is sent to it.' }),
    currentPassword: t.string({ required: true, ...currentPassword() }),
  }),
});

builder.mutationField('requestEmailChange', (t) =>
  t.field({
    type: OkPayload,
    description:
      'Patron session. E-mails a confirmation link (PUBLIC_APP_URL/confirmer-email?token=…, 24 hours, single use) to the new address; the old one stays in force until then (`pendingEmail` shows the new one), and is told of the change. Throttled.',
    authScopes: { patron: true },
    args: { input: t.arg({ type: RequestEmailChangeInput, required: true, description: 'The new address and the current password.' }) },
    resolve: (_root, { input }, { app, caller }) => requestEmailChange(app, caller, input),
  }),
);

const ConfirmEmailChangeInput = builder.inputType('ConfirmEmailChangeInput', {
  description: 'The link sent to the new address.',
  fields: (t) => ({
    token: t.string({ required: true, ...maxChars(ID_MAX, 'The `token` parameter of the link (PUBLIC_APP_URL/confirmer-email?token=…).') }),
  }),
});

builder.mutationField('confirmEmailChange', (t) =>
  t.field({
    type: PatronPayload,
    description: 'No session needed: the link proves the address. The new address becomes the account’s.',
    args: { input: t.arg({ type: ConfirmEmailChangeInput, required: true, description: 'The token of the link.' }) },
    resolve: async (_root, { input }, { app, granted }) => {
      const result = await confirmEmailChange(app, input.token);
      // Whoever holds the link may read the account it confirmed, in this answer.
      if (result.patron) granted.add(grantKey('patron', result.patron.id));
      return result;
    },
  }),
);

const DeleteMyAccountInput = builder.inputType('DeleteMyAccountInput', {
  description: 'The erasure of the caller’s account.',
  fields: (t) => ({ currentPassword: t.string({ required: true, ...currentPassword() }) }),
});

builder.mutationField('deleteMyAccount', (t) =>
  t.field({
    type: OkPayload,
    description:
      'Patron session. Erases the person now, as the purge does (pending requests closed, licence freed, sessions ended); a last e-mail confirms it, after which no trace of the address stays. Anonymous statistics stay.',
    authScopes: { patron: true },
    args: { input: t.arg({ type: DeleteMyAccountInput, required: true, description: 'The current password.' }) },
    resolve: (_root, { input }, { app, caller }) => deleteMyAccount(app, caller, input),
  }),
);

builder.queryField('personalDataExport', (t) =>
  t.string({
    description:
      'Patron only: everything stored about the caller, as one JSON document (GDPR access and portability): identity, e-mail, login, newsletter, library, account, requests with their decisions and response texts, consumptions still kept, monthly use, messages sent, open sessions (dates only). Never a hash, token or key. Audited; throttled (RATE_LIMITED).',
    authScopes: { patron: true },
    resolve: (_root, _args, { app, caller }) => personalDataExport(app, caller),
  }),
);
