// The response e-mail texts of the seed (acceptance, refusal), their placeholders, and the
// sanitising of what a decider writes: the editor is a rich-text field, the result goes into an
// e-mail, so only simple formatting and links survive.
import sanitizeHtml from 'sanitize-html';
import { escapeHtml } from '../../lib/text.js';
import type { MeteredCategory } from '../quotas/service.js';

export interface PlaceholderValues {
  firstName: string;
  lastName: string;
  /** French date, or empty for a refusal. */
  activeUntil: string;
  login: string;
}

export interface Placeholder {
  /** As written in a text, brackets included. */
  name: string;
  /** What it becomes, in French for the staff who write the texts. */
  description: string;
  value: (values: PlaceholderValues) => string;
}

/** Anything in brackets: a placeholder, known or not. */
export const PLACEHOLDER_PATTERN = /\[[^\]\n]*\]/g;

/** The only placeholders a response text may use (the seed's four), and what fills each. */
export const PLACEHOLDERS: readonly Placeholder[] = [
  { name: '[prenom]', description: 'Le prénom de l’usager.', value: (v) => v.firstName },
  { name: '[nom_destinataire]', description: 'Le nom de famille de l’usager.', value: (v) => v.lastName },
  {
    name: '[actif-jusquau]',
    description: 'La date de fin d’accès que donne l’acceptation (par exemple « 28 novembre 2027 ») ; vide dans un refus.',
    value: (v) => v.activeUntil,
  },
  { name: '[identifiant]', description: 'L’identifiant de connexion de l’usager.', value: (v) => v.login },
];

/** The pages the seed's texts link to (src/links.ts). */
export interface TemplateLinks {
  forgotPassword: string;
  guide: string;
  libraries: string;
  contactSupport: string;
}

export function acceptanceTemplate(limits: Record<MeteredCategory, number>, links: TemplateLinks): string {
  return [
    '<p>Bonjour [prenom] [nom_destinataire],</p>',
    '<p>Vous vous êtes inscrit à NuMos, la médiathèque numérique de Moselle.</p>',
    '<p>Nous avons le plaisir de vous confirmer que votre compte est désormais actif jusqu’au [actif-jusquau].</p>',
    '<p>Deux types de ressources sont désormais à votre disposition :</p>',
    '<ul><li>Les ressources consultables en illimité, portant la mention « Accès libre » ;</li>',
    '<li>Les ressources décomptées de votre forfait, portant la mention « Forfait ».</li></ul>',
    '<p>Votre forfait vous permet de consulter chaque mois les documents de votre choix parmi :</p>',
    `<ul><li>${limits.FILM} documents de l’espace films ;</li>`,
    `<li>${limits.BOOK} documents de l’espace livres ;</li>`,
    `<li>${limits.MAGAZINE} magazines et ${limits.NEWSPAPER} quotidiens.</li></ul>`,
    '<p>Nous vous rappelons l’identifiant que vous avez choisi</p>',
    '<p><strong>Identifiant : [identifiant]</strong></p>',
    `<p>Le mot de passe est celui que vous aviez défini dans le formulaire d’inscription. Si vous l’avez oublié, utilisez <a href="${links.forgotPassword}">ce lien</a>.</p>`,
    `<p>Pour tout renseignement, consultez le <a href="${links.guide}">mode d’emploi</a> ou contactez votre bibliothèque.</p>`,
  ].join('\n');
}

export function refusalTemplate(links: TemplateLinks): string {
  return [
    '<p>Bonjour [prenom] [nom_destinataire],</p>',
    '<p>Vous avez demandé à accéder à NuMos, la médiathèque numérique de Moselle.</p>',
    '<p>Nous avons le regret de vous faire savoir que nous ne pouvons pas satisfaire à votre demande en l’état.</p>',
    '<p>Nous vous invitons à vous rapprocher de votre bibliothèque pour vous y (ré)inscrire, puis à renouveler votre demande d’accès à NuMos.</p>',
    `<p>Vous pouvez consulter <a href="${links.libraries}">la liste des bibliothèques du réseau de lecture publique de Moselle</a> participant à ce service.</p>`,
    `<p>Pour toute autre difficulté, vous pouvez nous contacter par <a href="${links.contactSupport}">ce formulaire</a>.</p>`,
  ].join('\n');
}

/** Fills the placeholders (values escaped: a name is text, never markup), then sanitises. */
export function renderResponse(html: string, values: PlaceholderValues): string {
  // One pass: a value that looks like a placeholder (a name "[identifiant]") stays as it is.
  const filled = html.replace(PLACEHOLDER_PATTERN, (written) => {
    const placeholder = PLACEHOLDERS.find((p) => p.name === written);
    return placeholder ? escapeHtml(placeholder.value(values)) : written;
  });
  return sanitizeResponse(filled);
}

/**
 * What the rich-text editor may produce: paragraphs, emphasis, lists, links. No script, no style,
 * no event handler, no image or other remote content (a link is the only way out).
 */
export function sanitizeResponse(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: ['p', 'br', 'strong', 'b', 'em', 'i', 'u', 'ul', 'ol', 'li', 'a', 'blockquote', 'hr'],
    allowedAttributes: { a: ['href', 'rel'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer' }, true) },
  }).trim();
}
