import { builder } from '../../graphql/builder.js';
import { OkPayload } from '../../graphql/errors.js';
import { maxChars } from '../../graphql/input-guard.js';
import { BODY_MAX, sendMessage, SUBJECT_MAX } from './service.js';

const MessageRecipientEnum = builder.enumType('MessageRecipient', { values: ['LIBRARY', 'SUPPORT'] as const });

const SendMessageInput = builder.inputType('SendMessageInput', {
  fields: (t) => ({
    to: t.field({ type: MessageRecipientEnum, required: true }),
    libraryId: t.id({ required: false, description: 'Required for visitors; patrons default to their own library.' }),
    email: t.field({ type: 'EmailAddress', required: true }),
    subject: t.string({ required: true, ...maxChars(SUBJECT_MAX) }),
    body: t.string({ required: true, ...maxChars(BODY_MAX) }),
  }),
});

builder.mutationField('sendMessage', (t) =>
  t.field({
    type: OkPayload,
    description: 'A patron or a visitor writes to a library or to technical support.',
    args: { input: t.arg({ type: SendMessageInput, required: true }) },
    resolve: async (_root, { input }, { app, caller, clientIp }) => {
      const errors = await sendMessage(app, caller, clientIp, input);
      return { ok: errors.length === 0, errors };
    },
  }),
);
