// To a library and the DLPB when NuMos stops calling the library's system for a while, after
// several failed membership checks in a row (once per outage).
import { Text } from '@react-email/text';
import { Layout, styles } from './components/Layout.js';

export interface ConnectorPausedProps {
  libraryName: string;
  system: string;
  failures: number;
  pausedUntil: string;
  lastError: string;
}

export function ConnectorPaused({ libraryName, system, failures, pausedUntil, lastError }: ConnectorPausedProps) {
  return (
    <Layout preview={`NuMos ne parvient plus à joindre le système de ${libraryName}`}>
      <Text style={styles.text}>Bonjour,</Text>
      <Text style={styles.text}>
        Les {failures} dernières vérifications d'adhésion de {libraryName} dans son système ({system}) ont échoué. NuMos suspend ses appels à ce système
        jusqu'au {pausedUntil}, puis réessaiera.
      </Text>
      <Text style={styles.text}>Dernière erreur : {lastError}</Text>
      <Text style={styles.text}>
        En attendant, les demandes suivent le circuit habituel : la bibliothèque vérifie l'adhésion dans son système, et la DLPB prend le relais après 5 jours.
        Vérifiez l'adresse du système, l'identifiant et le mot de passe du connecteur dans l'administration NuMos.
      </Text>
    </Layout>
  );
}

ConnectorPaused.PreviewProps = {
  libraryName: 'Médiathèque de Nilvange',
  system: 'Koha',
  failures: 5,
  pausedUntil: '6 décembre 2026 à 10:17',
  lastError: 'délai dépassé',
} satisfies ConnectorPausedProps;

export default ConnectorPaused;
