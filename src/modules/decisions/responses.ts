// Response texts of decisions. The seed's acceptance and refusal texts are the département-wide
// defaults; the DLPB may replace a default, a library admin set their own library's text. `decide`
// sends the library's text, else the default. Texts are sanitised as in `decide` and may use only
// the four placeholders.
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import { libraryScope } from '../../auth/visibility.js';
import type { Tx } from '../../db/prisma.js';
import { prismaSql, type PrismaSqlSource } from '../../db/sql.js';
import type { Decision, Library } from '../../generated/prisma/client.js';
import { forbidden } from '../../domain/errors.js';
import { refuseIfAny, Refusal, userError, type UserError } from '../../domain/errors.js';
import { monthPeriod } from '../../lib/calendar.js';
import { links } from '../../links.js';
import { unitOfWork } from '../unit-of-work.js';
import { policyInForce } from '../quotas/service.js';
import { saveResponseTemplate } from './store.js';
import { acceptanceTemplate, PLACEHOLDER_PATTERN, PLACEHOLDERS, refusalTemplate, sanitizeResponse, type TemplateLinks } from './templates.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'outbox' | 'prisma'>;

export const TEMPLATE_MAX = 20_000;
export const DECISIONS: Decision[] = ['ACCEPT', 'REFUSE'];

/** Where texts are read: Prisma, or the transaction of a decision. */
type TemplateDb = Pick<Tx, 'responseTemplate'> & PrismaSqlSource;

export interface ResponseTemplateView {
  decision: Decision;
  /** The library whose text in force this is (its own or, inherited, the default); null: the defaults. */
  inForceFor: string | null;
  /** Null for the département-wide default. */
  library: Library | null;
  body: string;
  /** Null for the seed's text, never edited. */
  updatedAt: Date | null;
}

export function templateLinks(app: Services): TemplateLinks {
  const { forgotPassword, guide, libraries, contactSupport } = links(app.config);
  return { forgotPassword, guide, libraries, contactSupport };
}

/** The seed's text: the acceptance quotes the limits in force this month. */
async function seedText(app: Services, db: TemplateDb, decision: Decision): Promise<string> {
  if (decision === 'REFUSE') return refusalTemplate(templateLinks(app));
  const { limits } = await policyInForce(prismaSql(db), monthPeriod(app.clock.now()));
  return acceptanceTemplate(limits, templateLinks(app));
}

/** The département-wide default of a decision: the DLPB's text, else the seed's. */
async function defaultTemplate(app: Services, db: TemplateDb, decision: Decision): Promise<ResponseTemplateView> {
  const row = await db.responseTemplate.findFirst({ where: { decision, libraryId: null } });
  return row
    ? { decision, inForceFor: null, library: null, body: row.body, updatedAt: row.updatedAt }
    : { decision, inForceFor: null, library: null, body: await seedText(app, db, decision), updatedAt: null };
}

/** The text in force for a library and a decision (placeholders not yet filled). */
export async function templateInForce(app: Services, db: TemplateDb, library: Library, decision: Decision): Promise<ResponseTemplateView> {
  const own = await db.responseTemplate.findFirst({ where: { decision, libraryId: library.id } });
  if (own) return { decision, inForceFor: library.id, library, body: own.body, updatedAt: own.updatedAt };
  return { ...(await defaultTemplate(app, db, decision)), inForceFor: library.id };
}

/** Staff: the texts in force for a library (a library admin: their own), or the defaults (DLPB, no library). */
export async function responseTemplates(app: Services, caller: Caller, libraryId: string | null | undefined): Promise<ResponseTemplateView[]> {
  const scope = libraryScope(caller, libraryId);
  const library = scope ? await app.prisma.library.findUnique({ where: { id: scope } }) : null;
  if (scope && !library) return [];
  return Promise.all(DECISIONS.map((decision) => (library ? templateInForce(app, app.prisma, library, decision) : defaultTemplate(app, app.prisma, decision))));
}

/** Every `[…]` of a text that is not one of the four placeholders. */
export const unknownPlaceholders = (html: string) =>
  [...new Set(html.match(PLACEHOLDER_PATTERN) ?? [])].filter((written) => !PLACEHOLDERS.some((p) => p.name === written));

/**
 * The problems of a response text as written, before it is kept (setResponseTemplate) or sent
 * (decide): one rule for both, so that a text refused as a template is refused as a message too.
 */
export function responseTextErrors(html: string, field: string): UserError[] {
  const unknown = unknownPlaceholders(html);
  if (unknown.length) {
    const names = PLACEHOLDERS.map((p) => p.name).join(', ');
    return [userError('INVALID_INPUT', `Champ(s) de fusion inconnu(s) : ${unknown.slice(0, 3).join(', ')}. Seuls ${names} sont possibles.`, field)];
  }
  if (html.trim() && !sanitizeResponse(html)) return [userError('INVALID_INPUT', 'Le texte est vide une fois les éléments non autorisés retirés.', field)];
  return [];
}

export interface SetResponseTemplateInput {
  decision: Decision;
  libraryId?: string | null;
  body?: string | null;
}

/**
 * The DLPB sets a default (no library) or any library's text; a library admin only their own.
 * An empty body goes back to the default.
 */
export async function setResponseTemplate(
  app: Services,
  caller: Caller,
  input: SetResponseTemplateInput,
): Promise<{ template: ResponseTemplateView | null; errors: UserError[] }> {
  if (caller.kind !== 'staff') throw forbidden();
  let library: Library | null = null;
  if (input.libraryId) {
    library = await app.prisma.library.findUnique({ where: { id: input.libraryId } });
    if (!library) throw new Refusal(userError('NOT_FOUND', 'Bibliothèque introuvable.', 'libraryId'));
    if (caller.role === 'LIBRARY_ADMIN' && library.id !== caller.libraryId) throw forbidden();
  } else if (caller.role !== 'DLPB_AGENT') {
    throw forbidden();
  }
  const written = input.body?.trim() ?? '';
  refuseIfAny(responseTextErrors(written, 'body'));
  const body = written ? sanitizeResponse(written) : '';

  const template = await unitOfWork(app, { actor: caller }, async ({ tx, sql, now, audit }) => {
    const libraryId = library?.id ?? null;
    if (!body) {
      await tx.responseTemplate.deleteMany({ where: { decision: input.decision, libraryId } });
    } else {
      // One statement: two simultaneous saves end with one row, the last one's text.
      await saveResponseTemplate(sql, { decision: input.decision, libraryId, body, now, staffId: caller.staffId });
    }
    await audit({
      action: body ? 'SET_RESPONSE_TEMPLATE' : 'RESET_RESPONSE_TEMPLATE',
      subjectType: 'ResponseTemplate',
      libraryId: library?.id ?? null,
      onBehalf: library !== null && caller.role === 'DLPB_AGENT',
      after: { decision: input.decision, scope: library ? 'LIBRARY' : 'DEFAULT', characters: body.length },
    });
    return library ? templateInForce(app, tx, library, input.decision) : defaultTemplate(app, tx, input.decision);
  });
  return { template, errors: [] };
}
