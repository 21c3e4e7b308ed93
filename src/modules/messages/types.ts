import { builder } from '../../graphql/builder.js';
import { OkPayload } from '../../graphql/errors.js';
import { maxChars } from '../../graphql/input-guard.js';
import { BODY_MAX, sendMessage, SUBJECT_MAX } from './service.js';
import { decodeIds } from '../../graphql/ids.js';

const MessageRecipientEnum = builder.enumType('MessageRecipient', {
  description: 'Who a message goes to.',
  values: {
    LIBRARY: { description: "A library: the patron's own, or the one named." },
    SUPPORT: { description: 'Technical support of NuMos.' },
  } as const,
});

const SendMessageInput = builder.inputType('SendMessageInput', {
  description: 'A message to a library or to support (seed, FAQ).',
  fields: (t) => ({
    to: t.field({ type: MessageRecipientEnum, required: true, description: 'A library or support.' }),
    libraryId: t.id({ required: false, description: 'Required for visitors; patrons default to their own library.' }),
    email: t.field({ type: 'EmailAddress', required: true, description: 'Where the answer should go (the reply-to of the forwarded e-mail).' }),
    subject: t.string({ required: true, ...maxChars(SUBJECT_MAX, 'The subject.') }),
    body: t.string({ required: true, ...maxChars(BODY_MAX, 'The message, as plain text.') }),
  }),
});

builder.mutationField('sendMessage', (t) =>
  t.field({
    type: OkPayload,
    description: 'A patron or a visitor writes to a library or to technical support.',
    args: { input: t.arg({ type: SendMessageInput, required: true, description: 'The message.' }) },
    resolve: async (_root, { input }, { app, caller, clientIp }) => {
      await sendMessage(app, caller, clientIp, decodeIds(input, { libraryId: 'Library' }));
      return { ok: true, errors: [] };
    },
  }),
);
