// The development mailbox page (never in production): /dev/mailbox lists the e-mails of the
// outbox, newest first; /dev/mailbox/<id> shows one as HTML (its links work: in the development
// mailbox they keep their tokens), /dev/mailbox/<id>.txt as text. For end-to-end tests, the same in
// JSON: /dev/mailbox.json (the list, each e-mail with the links of its text) and
// /dev/mailbox/<id>.json (one, with its html and text).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../instance.js';
import { mailboxEmail, recentEmails } from '../email/mailbox.js';
import { escapeHtml } from '../lib/text.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'config' | 'prisma'>;

export const MAILBOX_PATH = '/dev/mailbox';
const LIST_SIZE = 200;

const page = (title: string, body: string) => `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}th{background:#f4f4f4}</style>
</head><body>${body}</body></html>`;

function send(response: ServerResponse, status: number, content: string, type = 'text/html; charset=utf-8') {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(content);
}

function json(response: ServerResponse, status: number, content: unknown) {
  send(response, status, JSON.stringify(content), 'application/json; charset=utf-8');
}

async function list(app: Services, response: ServerResponse) {
  const emails = await recentEmails(app.prisma, LIST_SIZE);
  const rows = emails
    .map(
      (e) => `<tr><td>${e.createdAt.toISOString().replace('T', ' ').slice(0, 19)}</td><td>${escapeHtml(e.status)}</td>
<td>${escapeHtml(e.to.join(', '))}${e.cc.length ? `<br><small>cc ${escapeHtml(e.cc.join(', '))}</small>` : ''}</td>
<td><a href="${MAILBOX_PATH}/${e.id}">${escapeHtml(e.subject)}</a> · <a href="${MAILBOX_PATH}/${e.id}.txt">texte</a></td>
<td>${escapeHtml(e.template)}</td></tr>`,
    )
    .join('\n');
  send(
    response,
    200,
    page(
      'NuMos – boîte de développement',
      `<h1>Boîte de développement</h1><p>${emails.length} e-mail(s), les plus récents d'abord (${LIST_SIZE} au plus). Sans RESEND_API_KEY, rien ne quitte la machine. Pour un script : <a href="${MAILBOX_PATH}.json">JSON</a>.</p>
<table><thead><tr><th>Créé (UTC)</th><th>État</th><th>À</th><th>Objet</th><th>Modèle</th></tr></thead><tbody>${rows}</tbody></table>`,
    ),
  );
}

/** Answers the mailbox's pages; false when the request is not for them (or in production). */
export function serveMailbox(app: Services, request: IncomingMessage, response: ServerResponse): boolean {
  const path = request.url?.split('?')[0] ?? '';
  const isList = path === MAILBOX_PATH || path === `${MAILBOX_PATH}.json`;
  if (!app.config.mailbox || request.method !== 'GET' || !(isList || path.startsWith(`${MAILBOX_PATH}/`))) return false;
  const asJson = path.endsWith('.json');
  const done = (error: unknown) =>
    asJson ? json(response, 500, { error: String(error) }) : send(response, 500, page('Erreur', `<p>${escapeHtml(String(error))}</p>`));
  if (isList) {
    (asJson ? recentEmails(app.prisma, LIST_SIZE).then((emails) => json(response, 200, { emails })) : list(app, response)).catch(done);
    return true;
  }
  const [, id = '', format = 'html'] = /^\/([^/.]*)(?:\.(txt|json))?$/.exec(path.slice(MAILBOX_PATH.length)) ?? [];
  mailboxEmail(app.prisma, id)
    .then((email) => {
      if (!email) {
        if (asJson) json(response, 404, { error: 'E-mail introuvable.' });
        else send(response, 404, page('Introuvable', '<p>E-mail introuvable.</p>'));
      } else if (format === 'json') json(response, 200, email);
      else if (format === 'txt') send(response, 200, email.text, 'text/plain; charset=utf-8');
      else send(response, 200, email.html);
    })
    .catch(done);
  return true;
}
