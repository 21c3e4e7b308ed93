// Step 2 of the seed: the applicant confirms their request (this also keeps robots out).
import { Text } from '@react-email/text';
import { ActionLink, Layout, styles } from './components/Layout.js';

export interface ConfirmRegistrationProps {
  firstName: string;
  lastName: string;
  login: string;
  libraryName: string;
  link: string;
  expiresAt: string;
}

export function ConfirmRegistration({ firstName, lastName, login, libraryName, link, expiresAt }: ConfirmRegistrationProps) {
  return (
    <Layout preview="Confirmez votre inscription à NuMos">
      <Text style={styles.text}>
        Bonjour {firstName} {lastName},
      </Text>
      <Text style={styles.text}>
        Vous avez demandé l'ouverture d'un compte sur NuMos, la médiathèque numérique de Moselle, auprès de la bibliothèque « {libraryName} ». Pour confirmer
        votre demande, suivez le lien ci-dessous.
      </Text>
      <ActionLink href={link}>Confirmer mon inscription</ActionLink>
      <Text style={styles.text}>
        Ce lien est valable jusqu'au {expiresAt}. Sans confirmation d'ici là, votre demande sera annulée et il vous faudra en faire une nouvelle.
      </Text>
      <Text style={styles.text}>
        Dès la confirmation, les contenus en « Accès libre » vous sont ouverts pendant un mois au plus ; les contenus au « Forfait » le seront quand votre
        bibliothèque aura validé votre compte.
      </Text>
      <Text style={styles.text}>
        <strong>Identifiant : {login}</strong>
      </Text>
      <Text style={styles.text}>Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.</Text>
    </Layout>
  );
}

ConfirmRegistration.PreviewProps = {
  firstName: 'Camille',
  lastName: 'Martin',
  login: 'camille.m',
  libraryName: 'Médiathèque de Nilvange',
  link: 'http://localhost:3000/confirmer?token=exemple',
  expiresAt: '13 décembre 2026',
} satisfies ConfirmRegistrationProps;

export default ConfirmRegistration;
