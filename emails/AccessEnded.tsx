// The library ended a patron's access before its term (the person left the library).
import { Text } from '@react-email/text';
import { Layout, styles } from './components/Layout.js';

export interface AccessEndedProps {
  firstName: string;
  lastName: string;
  libraryName: string;
  /** The library's words, as plain text. */
  reason: string;
}

export function AccessEnded({ firstName, lastName, libraryName, reason }: AccessEndedProps) {
  return (
    <Layout preview="Votre accès à NuMos a pris fin">
      <Text style={styles.text}>
        Bonjour {firstName} {lastName},
      </Text>
      <Text style={styles.text}>
        La bibliothèque « {libraryName} » a mis fin à votre accès à NuMos, la médiathèque numérique de Moselle, pour la raison suivante :
      </Text>
      <Text style={{ ...styles.text, fontStyle: 'italic', whiteSpace: 'pre-line' }}>{reason}</Text>
      <Text style={styles.text}>
        Vous pourrez demander le renouvellement de votre compte depuis votre espace NuMos, ou vous rapprocher d'une bibliothèque du réseau pour vous y inscrire.
      </Text>
    </Layout>
  );
}

AccessEnded.PreviewProps = {
  firstName: 'Camille',
  lastName: 'Martin',
  libraryName: 'Médiathèque de Nilvange',
  reason: 'Vous avez quitté la bibliothèque.',
} satisfies AccessEndedProps;

export default AccessEnded;
