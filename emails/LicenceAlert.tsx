// To the DLPB when the licence pool's use crosses 90 % or reaches 100 %.
import { Text } from '@react-email/text';
import { Layout, styles } from './components/Layout.js';

export interface LicenceAlertProps {
  level: 90 | 100;
  used: number;
  capacity: number;
}

export function LicenceAlert({ level, used, capacity }: LicenceAlertProps) {
  return (
    <Layout preview={level === 100 ? 'Plus aucune licence NuMos disponible' : 'Licences NuMos : 90 % utilisées'}>
      <Text style={styles.text}>Bonjour,</Text>
      <Text style={styles.text}>
        {used} comptes NuMos sont actifs pour une capacité de {capacity} licences ({Math.floor((100 * used) / Math.max(capacity, 1))} %).
      </Text>
      <Text style={styles.text}>
        {level === 100
          ? "Les bibliothèques ne peuvent plus accepter de nouvelle inscription tant que la capacité n'est pas augmentée."
          : 'À ce rythme, les bibliothèques ne pourront bientôt plus accepter de nouvelle inscription : pensez à augmenter la capacité.'}
      </Text>
    </Layout>
  );
}

LicenceAlert.PreviewProps = { level: 90, used: 18_000, capacity: 20_000 } satisfies LicenceAlertProps;

export default LicenceAlert;
