// A message written through NuMos ("Écrire à ma médiathèque", "Poser une question au support"),
// forwarded to the library or to technical support; replying answers the sender directly.
import { Text } from '@react-email/text';
import { Layout, styles } from './components/Layout.js';

export interface MessageForwardProps {
  recipient: 'LIBRARY' | 'SUPPORT';
  libraryName: string | null;
  senderEmail: string;
  senderLogin: string | null;
  subject: string;
  body: string;
}

export function MessageForward({ recipient, libraryName, senderEmail, senderLogin, subject, body }: MessageForwardProps) {
  return (
    <Layout preview={`Message NuMos : ${subject}`}>
      <Text style={styles.text}>Bonjour,</Text>
      <Text style={styles.text}>
        {recipient === 'LIBRARY'
          ? `Un message a été écrit à la bibliothèque « ${libraryName} » depuis NuMos.`
          : 'Une question a été posée au support technique depuis NuMos.'}{' '}
        Répondez directement à ce courriel pour répondre à {senderEmail}
        {senderLogin ? ` (identifiant NuMos : ${senderLogin})` : ' (visiteur sans compte)'}.
      </Text>
      <Text style={{ ...styles.text, fontWeight: 'bold' }}>Objet : {subject}</Text>
      {body.split(/\n{2,}/).map((paragraph, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a static e-mail body, rendered once; paragraphs have no identity of their own.
        <Text key={i} style={{ ...styles.text, whiteSpace: 'pre-wrap' }}>
          {paragraph}
        </Text>
      ))}
    </Layout>
  );
}

MessageForward.PreviewProps = {
  recipient: 'LIBRARY',
  libraryName: 'Médiathèque de Nilvange',
  senderEmail: 'camille@example.org',
  senderLogin: 'camille.m',
  subject: 'Film indisponible',
  body: 'Bonjour,\n\nle film que je voulais voir ne se lance pas.\n\nMerci !',
} satisfies MessageForwardProps;

export default MessageForward;
