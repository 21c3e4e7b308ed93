// Messages to a library or to technical support (seed, FAQ): stored, then forwarded by e-mail
// with the sender as reply-to.
import { createElement } from 'react';
import { MessageForward } from '../../../emails/MessageForward.js';
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import { refuseIfAny, Refusal, userError, type UserError } from '../../domain/errors.js';
import { unitOfWork } from '../unit-of-work.js';
import { THROTTLE_RULES } from '../../lib/throttle.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'outbox' | 'prisma' | 'throttle'>;

export interface SendMessageInput {
  to: 'LIBRARY' | 'SUPPORT';
  libraryId?: string | null;
  email: string;
  subject: string;
  body: string;
}

export const SUBJECT_MAX = 200;
export const BODY_MAX = 5_000;

export async function sendMessage(app: Services, caller: Caller, clientIp: string, input: SendMessageInput): Promise<void> {
  const throttled = await app.throttle.hit(THROTTLE_RULES.messagesPerAddress, clientIp);
  if (throttled) throw new Refusal(throttled);
  const subject = input.subject.replace(/\s+/g, ' ').trim();
  const body = input.body.replace(/\r\n/g, '\n').trim();
  const errors: UserError[] = [];
  if (!subject) errors.push(userError('INVALID_INPUT', "L'objet est obligatoire.", 'subject'));
  if (!body) errors.push(userError('INVALID_INPUT', 'Le message est obligatoire.', 'body'));
  const patron = caller.kind === 'patron' ? await app.prisma.patron.findUnique({ where: { id: caller.patronId } }) : null;
  let library = null;
  if (input.to === 'LIBRARY') {
    // Patrons write to their own library unless they name another; visitors must name one.
    const id = input.libraryId ?? patron?.libraryId;
    library = id ? await app.prisma.library.findUnique({ where: { id } }) : null;
    if (!library) errors.push(userError('UNKNOWN_LIBRARY', 'Choisissez la bibliothèque à qui écrire.', 'libraryId'));
  }
  refuseIfAny(errors);
  await unitOfWork(app, { actor: caller }, async ({ tx, now, email }) => {
    await tx.message.create({
      data: {
        recipient: input.to,
        libraryId: library?.id ?? null,
        patronId: patron?.id ?? null,
        senderEmail: input.email.trim(),
        subject,
        body,
        createdAt: now,
      },
    });
    await email({
      template: 'MessageForward',
      to: [library?.email ?? app.config.supportEmail],
      replyTo: input.email.trim(),
      subject: `[NuMos] ${subject}`,
      body: createElement(MessageForward, {
        recipient: input.to,
        libraryName: library?.name ?? null,
        senderEmail: input.email.trim(),
        senderLogin: patron?.login ?? null,
        subject,
        body,
      }),
      patronId: patron?.id,
    });
  });
}
