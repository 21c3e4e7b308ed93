// Someone registered again for a person who already has an account: no second account is made,
// and the existing address is told (the registration form itself answers as for anyone).
import { Text } from '@react-email/text';
import { ActionLink, Layout, styles } from './components/Layout.js';

export interface AccountAlreadyExistsProps {
  firstName: string;
  lastName: string;
  login: string;
  resetLink: string;
  resetExpiresAt: string;
}

export function AccountAlreadyExists({ firstName, lastName, login, resetLink, resetExpiresAt }: AccountAlreadyExistsProps) {
  return (
    <Layout preview="Vous avez déjà un compte NuMos">
      <Text style={styles.text}>
        Bonjour {firstName} {lastName},
      </Text>
      <Text style={styles.text}>
        Une nouvelle demande d'inscription à NuMos vient d'être faite à vos nom, prénom et date de naissance. Vous avez déjà un compte NuMos : aucun second
        compte n'a été créé.
      </Text>
      <Text style={styles.text}>
        <strong>Identifiant : {login}</strong>
      </Text>
      <Text style={styles.text}>Si vous avez oublié votre mot de passe, choisissez-en un nouveau :</Text>
      <ActionLink href={resetLink}>Choisir un nouveau mot de passe</ActionLink>
      <Text style={styles.text}>
        Ce lien est valable jusqu'au {resetExpiresAt}. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre compte reste inchangé.
      </Text>
    </Layout>
  );
}

AccountAlreadyExists.PreviewProps = {
  firstName: 'Camille',
  lastName: 'Martin',
  login: 'camille.m',
  resetLink: 'http://localhost:3000/mot-de-passe?token=exemple',
  resetExpiresAt: '28 novembre 2026 à 11:00',
} satisfies AccountAlreadyExistsProps;

export default AccountAlreadyExists;
