// The development mailbox page (never in production): /dev/mailbox lists the e-mails of the
// outbox, newest first; /dev/mailbox/<id> shows one as HTML (its links work: in the development
// mailbox they keep their tokens), /dev/mailbox/<id>.txt as text.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../instance.js';
import { emailBody, recentEmails } from '../email/mailbox.js';
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

function html(response: ServerResponse, status: number, content: string, type = 'text/html; charset=utf-8') {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(content);
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
  html(
    response,
    200,
    page(
      'NuMos – boîte de développement',
      `<h1>Boîte de développement</h1><p>${emails.length} e-mail(s), les plus récents d'abord (${LIST_SIZE} au plus). Sans RESEND_API_KEY, rien ne quitte la machine.</p>
<table><thead><tr><th>Créé (UTC)</th><th>État</th><th>À</th><th>Objet</th><th>Modèle</th></tr></thead><tbody>${rows}</tbody></table>`,
    ),
  );
}

/** Answers the mailbox's pages; false when the request is not for them (or in production). */
export function serveMailbox(app: Services, request: IncomingMessage, response: ServerResponse): boolean {
  const path = request.url?.split('?')[0] ?? '';
  if (!app.config.mailbox || request.method !== 'GET' || !(path === MAILBOX_PATH || path.startsWith(`${MAILBOX_PATH}/`))) return false;
  const id = path.slice(MAILBOX_PATH.length + 1);
  const done = (error: unknown) => html(response, 500, page('Erreur', `<p>${escapeHtml(String(error))}</p>`));
  if (!id) {
    list(app, response).catch(done);
    return true;
  }
  const asText = id.endsWith('.txt');
  emailBody(app.prisma, asText ? id.slice(0, -4) : id)
    .then((body) => {
      if (!body) html(response, 404, page('Introuvable', '<p>E-mail introuvable.</p>'));
      else if (asText) html(response, 200, body.text, 'text/plain; charset=utf-8');
      else html(response, 200, body.html);
    })
    .catch(done);
  return true;
}
