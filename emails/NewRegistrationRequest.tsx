// Step 3 of the seed: the home library (copy to the DLPB) is told that a request awaits its decision.
import { Text } from '@react-email/text';
import { ActionLink, Facts, Layout, styles } from './components/Layout.js';

export interface NewRegistrationRequestProps {
  kind: 'REGISTRATION' | 'RENEWAL';
  libraryName: string;
  firstName: string;
  lastName: string;
  birthDate: string;
  age: number;
  email: string;
  login: string;
  submittedAt: string;
  escalatesAt: string | null;
  link: string;
}

export function NewRegistrationRequest(props: NewRegistrationRequestProps) {
  const renewal = props.kind === 'RENEWAL';
  const rows: [string, string][] = [
    ['Nom', props.lastName],
    ['Prénom', props.firstName],
    ['Date de naissance', `${props.birthDate} (${props.age} ans)`],
    ['Courriel', props.email],
    ['Identifiant', props.login],
    ['Demande faite le', props.submittedAt],
  ];
  return (
    <Layout preview={renewal ? 'Une réinscription à NuMos attend votre validation' : 'Une inscription à NuMos attend votre validation'}>
      <Text style={styles.text}>Bonjour,</Text>
      <Text style={styles.text}>
        {renewal
          ? `Un usager de la bibliothèque « ${props.libraryName} » souhaite renouveler son inscription à NuMos.`
          : `Une personne se déclarant adhérente de la bibliothèque « ${props.libraryName} » demande l'accès à NuMos.`}
      </Text>
      <Facts rows={rows} />
      <Text style={styles.text}>
        Avant de valider, vérifiez dans votre logiciel que la personne est adhérente depuis moins d'un an (ou a renouvelé son adhésion depuis moins d'un an) et,
        au moins, son année de naissance.
      </Text>
      <ActionLink href={props.link}>Traiter la demande</ActionLink>
      {props.escalatesAt ? (
        <Text style={styles.text}>Sans décision le {props.escalatesAt}, la demande sera signalée à la DLPB, qui pourra la traiter à votre place.</Text>
      ) : null}
    </Layout>
  );
}

NewRegistrationRequest.PreviewProps = {
  kind: 'REGISTRATION',
  libraryName: 'Médiathèque de Nilvange',
  firstName: 'Camille',
  lastName: 'Martin',
  birthDate: '14/07/1990',
  age: 36,
  email: 'camille.martin@example.org',
  login: 'camille.m',
  submittedAt: '28 novembre 2026 à 10:00',
  escalatesAt: '3 décembre 2026 à 10:00',
  link: 'http://localhost:3000/admin/demandes/UmVnaXN0cmF0aW9uUmVxdWVzdDox',
} satisfies NewRegistrationRequestProps;

export default NewRegistrationRequest;
