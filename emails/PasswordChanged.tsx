// Sent after a password change made from a session: if it was not the owner, they know at once.
import { Text } from '@react-email/text';
import { ActionLink, Layout, styles } from './components/Layout.js';

export interface PasswordChangedProps {
  displayName: string;
  changedAt: string;
  resetLink: string;
}

export function PasswordChanged({ displayName, changedAt, resetLink }: PasswordChangedProps) {
  return (
    <Layout preview="Votre mot de passe NuMos a été modifié">
      <Text style={styles.text}>Bonjour {displayName},</Text>
      <Text style={styles.text}>Le mot de passe de votre compte NuMos a été modifié le {changedAt}. Vos autres connexions ont été fermées.</Text>
      <Text style={styles.text}>
        Si vous n'êtes pas à l'origine de ce changement, choisissez sans attendre un nouveau mot de passe avec le lien ci-dessous, puis prévenez votre
        bibliothèque.
      </Text>
      <ActionLink href={resetLink}>Mot de passe oublié</ActionLink>
    </Layout>
  );
}

PasswordChanged.PreviewProps = {
  displayName: 'Camille Martin',
  changedAt: '28 novembre 2026 à 11:30',
  resetLink: 'http://localhost:3000/mot-de-passe-oublie',
} satisfies PasswordChangedProps;

export default PasswordChanged;
