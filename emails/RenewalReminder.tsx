// Step 6 of the seed: 15 days before the end of the year of access, an invitation to renew.
// Rendered once per run with markers, then filled per patron (src/modules/lifecycle/jobs.ts).
import { Text } from '@react-email/text';
import { ActionLink, Layout, styles } from './components/Layout.js';

export interface RenewalReminderProps {
  firstName: string;
  lastName: string;
  activeUntil: string;
  link: string;
}

export function RenewalReminder({ firstName, lastName, activeUntil, link }: RenewalReminderProps) {
  return (
    <Layout preview="Votre abonnement NuMos arrive à échéance">
      <Text style={styles.text}>
        Bonjour {firstName} {lastName},
      </Text>
      <Text style={styles.text}>Vous vous êtes inscrit à NuMos, la médiathèque numérique de Moselle.</Text>
      <Text style={styles.text}>Votre abonnement arrive à échéance le {activeUntil} et nous vous invitons à le renouveler.</Text>
      <ActionLink href={link}>Renouveler mon inscription</ActionLink>
      <Text style={styles.text}>Nous vous invitons également à vérifier l'adhésion à votre bibliothèque, indispensable pour accéder à NuMos.</Text>
    </Layout>
  );
}

RenewalReminder.PreviewProps = {
  firstName: 'Camille',
  lastName: 'Martin',
  activeUntil: '28 novembre 2027',
  link: 'http://localhost:3000/renouveler?token=exemple',
} satisfies RenewalReminderProps;

export default RenewalReminder;
