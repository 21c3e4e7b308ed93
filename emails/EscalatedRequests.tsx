// Requests undecided 5 days after confirmation: one digest to the DLPB per run, one reminder to
// each library concerned.
import { Link } from '@react-email/link';
import { Section } from '@react-email/section';
import { Text } from '@react-email/text';
import { Layout, styles } from './components/Layout.js';

export interface EscalatedRequestLine {
  name: string;
  libraryName: string;
  confirmedAt: string;
  link: string;
}

export interface EscalatedRequestsProps {
  audience: 'DLPB' | 'LIBRARY';
  requests: EscalatedRequestLine[];
  /** Requests escalated in the same run but not listed (the list is capped). */
  more: number;
}

export function EscalatedRequests({ audience, requests, more }: EscalatedRequestsProps) {
  const count = requests.length + more;
  const plural = count > 1;
  return (
    <Layout preview={`${count} demande${plural ? 's' : ''} NuMos sans décision depuis 5 jours`}>
      <Text style={styles.text}>Bonjour,</Text>
      <Text style={styles.text}>
        {audience === 'DLPB'
          ? `${count} demande${plural ? 's' : ''} d'inscription ${plural ? 'attendent' : 'attend'} une décision depuis plus de 5 jours après confirmation. ${plural ? 'Elles apparaissent' : 'Elle apparaît'} désormais dans la file de la DLPB, qui peut décider à la place de la bibliothèque.`
          : `Rappel : ${count} demande${plural ? 's' : ''} d'inscription à NuMos ${plural ? 'attendent' : 'attend'} votre décision depuis plus de 5 jours. La DLPB en est informée et pourra ${plural ? 'les' : 'la'} traiter à votre place.`}
      </Text>
      <Section>
        {requests.map((r) => (
          <Text key={r.link} style={styles.text}>
            • <Link href={r.link}>{r.name}</Link>
            {audience === 'DLPB' ? ` — ${r.libraryName}` : ''} — confirmée le {r.confirmedAt}
          </Text>
        ))}
      </Section>
      {more > 0 ? (
        <Text style={styles.text}>
          … et {more} autre{more > 1 ? 's' : ''}, visibles dans l'administration.
        </Text>
      ) : null}
    </Layout>
  );
}

EscalatedRequests.PreviewProps = {
  audience: 'DLPB',
  requests: [
    { name: 'Camille Martin', libraryName: 'Médiathèque de Nilvange', confirmedAt: '23 novembre 2026 à 10:00', link: 'http://localhost:3000/admin/demandes/1' },
  ],
  more: 0,
} satisfies EscalatedRequestsProps;

export default EscalatedRequests;
