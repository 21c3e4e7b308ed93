// Sent on "mot de passe oublié" and to new staff members, who choose their first password this way.
import { Text } from '@react-email/text';
import { ActionLink, Layout, styles } from './components/Layout.js';

export interface PasswordResetProps {
  displayName: string;
  login: string;
  link: string;
  expiresAt: string;
  /** True for a staff account just created: the wording welcomes instead of resetting. */
  firstPassword?: boolean;
}

export function PasswordReset({ displayName, login, link, expiresAt, firstPassword = false }: PasswordResetProps) {
  return (
    <Layout preview={firstPassword ? 'Choisissez votre mot de passe NuMos' : 'Réinitialisez votre mot de passe NuMos'}>
      <Text style={styles.text}>Bonjour {displayName},</Text>
      {firstPassword ? (
        <Text style={styles.text}>
          Un compte d'administration NuMos vient d'être créé pour vous. Pour l'utiliser, choisissez votre mot de passe en suivant le lien ci-dessous.
        </Text>
      ) : (
        <Text style={styles.text}>
          Une réinitialisation du mot de passe de votre compte NuMos a été demandée. Pour choisir un nouveau mot de passe, suivez le lien ci-dessous.
        </Text>
      )}
      <Text style={styles.text}>
        <strong>Identifiant : {login}</strong>
      </Text>
      <ActionLink href={link}>Choisir mon mot de passe</ActionLink>
      <Text style={styles.text}>
        Ce lien est valable jusqu'au {expiresAt} et ne peut servir qu'une fois. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot
        de passe actuel reste valable.
      </Text>
    </Layout>
  );
}

PasswordReset.PreviewProps = {
  displayName: 'Camille Martin',
  login: '5212345',
  link: 'http://localhost:3000/mot-de-passe?token=exemple',
  expiresAt: '28 novembre 2026 à 11:30',
  firstPassword: true,
} satisfies PasswordResetProps;

export default PasswordReset;
