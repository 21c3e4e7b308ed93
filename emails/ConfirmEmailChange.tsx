// Sent to the new address a patron asked for: the change takes effect when the link is followed.
import { Text } from '@react-email/text';
import { ActionLink, Layout, styles } from './components/Layout.js';

export interface ConfirmEmailChangeProps {
  firstName: string;
  lastName: string;
  link: string;
  expiresAt: string;
}

export function ConfirmEmailChange({ firstName, lastName, link, expiresAt }: ConfirmEmailChangeProps) {
  return (
    <Layout preview="Confirmez votre nouvelle adresse e-mail NuMos">
      <Text style={styles.text}>
        Bonjour {firstName} {lastName},
      </Text>
      <Text style={styles.text}>
        Vous avez demandé que NuMos vous écrive désormais à cette adresse. Pour confirmer ce changement, suivez le lien ci-dessous.
      </Text>
      <ActionLink href={link}>Confirmer ma nouvelle adresse</ActionLink>
      <Text style={styles.text}>
        Ce lien est valable jusqu'au {expiresAt} et ne peut servir qu'une fois. D'ici là, votre ancienne adresse reste celle de votre compte. Si vous n'êtes pas
        à l'origine de cette demande, ignorez ce message.
      </Text>
    </Layout>
  );
}

ConfirmEmailChange.PreviewProps = {
  firstName: 'Camille',
  lastName: 'Martin',
  link: 'http://localhost:3000/confirmer-email?token=exemple',
  expiresAt: '29 novembre 2026 à 11:30',
} satisfies ConfirmEmailChangeProps;

export default ConfirmEmailChange;
