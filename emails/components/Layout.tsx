// Frame shared by every NuMos e-mail: greeting area, body, the département's signature.
import { Body } from '@react-email/body';
import { Column } from '@react-email/column';
import { Container } from '@react-email/container';
import { Head } from '@react-email/head';
import { Hr } from '@react-email/hr';
import { Html } from '@react-email/html';
import { Link } from '@react-email/link';
import { Preview } from '@react-email/preview';
import { Row } from '@react-email/row';
import { Section } from '@react-email/section';
import { Text } from '@react-email/text';
import type { ReactNode } from 'react';

export const styles = {
  body: { backgroundColor: '#f4f4f5', fontFamily: 'Arial, Helvetica, sans-serif', color: '#1f2933' },
  container: { backgroundColor: '#ffffff', margin: '24px auto', padding: '24px 32px', maxWidth: '600px' },
  text: { fontSize: '15px', lineHeight: '22px' },
  button: {
    backgroundColor: '#004f9f',
    color: '#ffffff',
    padding: '10px 18px',
    borderRadius: '4px',
    textDecoration: 'none',
    fontWeight: 'bold',
  },
  footer: { fontSize: '12px', color: '#6b7280' },
} as const;

export function Layout({ preview, children }: { preview: string; children: ReactNode }) {
  return (
    <Html lang="fr">
      <Head />
      <Preview>{preview}</Preview>
      <Body style={styles.body}>
        <Container style={styles.container}>
          {children}
          <Text style={styles.text}>
            Bien cordialement,
            <br />
            L'équipe de NuMos.
          </Text>
          <Hr />
          <Section>
            <Text style={styles.footer}>
              NuMos, une initiative du <Link href="https://www.moselle.fr">Département de la Moselle</Link>
            </Text>
          </Section>
        </Container>
      </Body>
    </Html>
  );
}

/** A call-to-action link that also reads well in the plain-text version. */
export function ActionLink({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Section style={{ margin: '20px 0' }}>
      <Link href={href} style={styles.button}>
        {children}
      </Link>
    </Section>
  );
}

/**
 * Labels and their values (a request's details): two columns in HTML; in the text part each row
 * reads "Label : value", the label cell being marked for the text conversion (src/email/outbox.ts).
 */
export function Facts({ rows }: { rows: readonly (readonly [label: string, value: string])[] }) {
  return (
    <Section>
      {rows.map(([label, value]) => (
        <Row key={label}>
          <Column data-text-label="true" style={{ ...styles.text, width: '40%', fontWeight: 'bold' }}>
            {label}
          </Column>
          <Column style={styles.text}>{value}</Column>
        </Row>
      ))}
    </Section>
  );
}
