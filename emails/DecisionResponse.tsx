// The library's answer to a request (acceptance or refusal): the decider's text, already filled
// and sanitised (src/modules/decisions/templates.ts), inside the NuMos frame.
import { Layout, styles } from './components/Layout.js';

export interface DecisionResponseProps {
  preview: string;
  /** Sanitised HTML: paragraphs, emphasis, lists and links only. */
  html: string;
}

export function DecisionResponse({ preview, html }: DecisionResponseProps) {
  return (
    <Layout preview={preview}>
      {/* biome-ignore lint/security/noDangerouslySetInnerHtml: the decider's text, sanitised by sanitizeResponse (src/modules/decisions/templates.ts) before it gets here. */}
      <div style={styles.text} dangerouslySetInnerHTML={{ __html: html }} />
    </Layout>
  );
}

DecisionResponse.PreviewProps = {
  preview: 'Votre compte NuMos est activé',
  html: '<p>Bonjour Camille Martin,</p><p>Nous avons le plaisir de vous confirmer que votre compte est désormais actif jusqu’au 28 novembre 2027.</p><p><strong>Identifiant : camille.m</strong></p>',
} satisfies DecisionResponseProps;

export default DecisionResponse;
