import { builder } from '../../graphql/builder.js';
import { OkPayload } from '../../graphql/errors.js';
import { PASSWORD_RESET_QUEUE } from '../../jobs/queues.js';
import { ID_MAX, LOGIN_MAX, maxChars } from '../../graphql/input-guard.js';
import { THROTTLE_RULES } from '../../lib/throttle.js';
import { PASSWORD_MAX } from './policy.js';
import { RealmEnum } from '../sessions/types.js';
import { resetPassword } from './service.js';

const RequestPasswordResetInput = builder.inputType('RequestPasswordResetInput', {
  fields: (t) => ({
    realm: t.field({ type: RealmEnum, required: true }),
    login: t.string({ required: true, ...maxChars(LOGIN_MAX) }),
  }),
});

builder.mutationField('requestPasswordReset', (t) =>
  t.field({
    type: OkPayload,
    description:
      'Sends a reset link (valid 1 hour) to the account\'s address. Same answer, in the same time, whether or not the login exists.',
    args: { input: t.arg({ type: RequestPasswordResetInput, required: true }) },
    resolve: async (_root, { input }, { app, clientIp }) => {
      const throttled =
        (await app.throttle.hit(THROTTLE_RULES.resetsPerAddress, clientIp)) ??
        (await app.throttle.hit(THROTTLE_RULES.resetsPerLogin, `${input.realm}:${input.login.trim()}`));
      if (throttled) return { ok: false, errors: [throttled] };
      await app.boss.send(PASSWORD_RESET_QUEUE, { realm: input.realm, login: input.login });
      return { ok: true, errors: [] };
    },
  }),
);

const ResetPasswordInput = builder.inputType('ResetPasswordInput', {
  fields: (t) => ({
    token: t.string({ required: true, ...maxChars(ID_MAX) }),
    password: t.string({ required: true, ...maxChars(PASSWORD_MAX) }),
    passwordConfirmation: t.string({ required: true, ...maxChars(PASSWORD_MAX) }),
  }),
});

builder.mutationField('resetPassword', (t) =>
  t.field({
    type: OkPayload,
    description: 'Sets a new password from a reset link; every open session of the account ends.',
    args: { input: t.arg({ type: ResetPasswordInput, required: true }) },
    resolve: async (_root, { input }, { app }) => {
      const errors = await resetPassword(app, input.token, input.password, input.passwordConfirmation);
      return { ok: errors.length === 0, errors };
    },
  }),
);
