// Sent to the address in force when a change is asked: its owner learns of it before it happens.
import { Text } from '@react-email/text';
import { Layout, styles } from './components/Layout.js';

export interface EmailChangeRequestedProps {
  firstName: string;
  lastName: string;
  requestedAt: string;
}

export function EmailChangeRequested({ firstName, lastName, requestedAt }: EmailChangeRequestedProps) {
  return (
    <Layout preview="Changement d'adresse e-mail demandé sur votre compte NuMos">
      <Text style={styles.text}>
        Bonjour {firstName} {lastName},
      </Text>
      <Text style={styles.text}>
        Le {requestedAt}, un changement de l'adresse e-mail de votre compte NuMos a été demandé. Un lien de confirmation a été envoyé à la nouvelle adresse ;
        tant qu'il n'est pas suivi, NuMos continue de vous écrire ici.
      </Text>
      <Text style={styles.text}>Si vous n'êtes pas à l'origine de cette demande, changez votre mot de passe et prévenez votre bibliothèque.</Text>
    </Layout>
  );
}

EmailChangeRequested.PreviewProps = {
  firstName: 'Camille',
  lastName: 'Martin',
  requestedAt: '28 novembre 2026 à 11:30',
} satisfies EmailChangeRequestedProps;

export default EmailChangeRequested;
