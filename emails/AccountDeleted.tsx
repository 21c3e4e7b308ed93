// The last e-mail to a patron who erased their account: once Resend has it, the address is gone too.
import { Text } from '@react-email/text';
import { Layout, styles } from './components/Layout.js';

export interface AccountDeletedProps {
  firstName: string;
  lastName: string;
}

export function AccountDeleted({ firstName, lastName }: AccountDeletedProps) {
  return (
    <Layout preview="Votre compte NuMos a été supprimé">
      <Text style={styles.text}>
        Bonjour {firstName} {lastName},
      </Text>
      <Text style={styles.text}>
        Comme vous l'avez demandé, votre compte NuMos a été supprimé, ainsi que toutes les données personnelles qui s'y rattachaient. Ce message est le dernier
        que vous recevrez de NuMos ; nous ne conservons pas votre adresse.
      </Text>
      <Text style={styles.text}>Vous pourrez à tout moment vous inscrire de nouveau auprès d'une bibliothèque du réseau de lecture publique de Moselle.</Text>
    </Layout>
  );
}

AccountDeleted.PreviewProps = { firstName: 'Camille', lastName: 'Martin' } satisfies AccountDeletedProps;

export default AccountDeleted;
