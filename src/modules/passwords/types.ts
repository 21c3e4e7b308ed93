import { builder } from '../../graphql/builder.js';
import { OkPayload } from '../../graphql/errors.js';
import { ID_MAX, LOGIN_MAX, maxChars } from '../../graphql/input-guard.js';
import { PASSWORD_MAX } from './policy.js';
import { RealmEnum } from '../sessions/types.js';
import { askPasswordReset, resetPassword } from './service.js';

const RequestPasswordResetInput = builder.inputType('RequestPasswordResetInput', {
  description: 'Whose password to reset.',
  fields: (t) => ({
    realm: t.field({ type: RealmEnum, required: true, description: 'Patron or staff.' }),
    login: t.string({ required: true, ...maxChars(LOGIN_MAX, 'The login.') }),
  }),
});

builder.mutationField('requestPasswordReset', (t) =>
  t.field({
    type: OkPayload,
    description: "Sends a reset link (valid 1 hour) to the account's address. Same answer, in the same time, whether or not the login exists.",
    args: { input: t.arg({ type: RequestPasswordResetInput, required: true, description: 'The account.' }) },
    resolve: (_root, { input }, { app, clientIp }) => askPasswordReset(app, input.realm, input.login, clientIp),
  }),
);

const ResetPasswordInput = builder.inputType('ResetPasswordInput', {
  description: 'A new password, from the link of the reset e-mail.',
  fields: (t) => ({
    token: t.string({ required: true, ...maxChars(ID_MAX, 'The `token` parameter of the link (PUBLIC_APP_URL/mot-de-passe?token=…).') }),
    password: t.string({ required: true, ...maxChars(PASSWORD_MAX, 'At least 8 characters; common passwords are refused.') }),
    passwordConfirmation: t.string({ required: true, ...maxChars(PASSWORD_MAX, 'The same password again.') }),
  }),
});

builder.mutationField('resetPassword', (t) =>
  t.field({
    type: OkPayload,
    description: 'Sets a new password from a reset link; every open session of the account ends.',
    args: { input: t.arg({ type: ResetPasswordInput, required: true, description: 'The link and the new password.' }) },
    resolve: async (_root, { input }, { app }) => {
      await resetPassword(app, input.token, input.password, input.passwordConfirmation);
      return { ok: true, errors: [] };
    },
  }),
);
