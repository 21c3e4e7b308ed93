// Frame shared by every NuMos e-mail: greeting area, body, the département's signature.
import { Body, Container, Head, Hr, Html, Link, Preview, Section, Text } from '@react-email/components';
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
