// Helpers that walk a patron through the API as a front end would.
import { expect } from 'vitest';
import type { SentEmail } from './fake-resend.js';
import type { TestApp } from './harness.js';

export const REGISTER = `mutation($input: RegisterInput!) {
  register(input: $input) { ok confirmationExpiresAt errors { code message field } }
}`;
export const CONFIRM = `mutation($token: String!) {
  confirm(input: { token: $token }) { account { status temporaryUntil activeUntil canAccessUnlimited canAccessMetered } errors { code message field } }
}`;

let counter = 0;

export function registerInput(libraryId: string, overrides: Record<string, unknown> = {}) {
  counter += 1;
  return {
    lastName: 'Martin',
    firstName: `Camille${counter}`,
    birthDate: '1990-07-14',
    email: `camille${counter}@example.org`,
    login: `camille.${counter}`,
    password: 'un mot de passe solide',
    passwordConfirmation: 'un mot de passe solide',
    libraryId,
    newsletter: false,
    ...overrides,
  };
}

/** The token of the first link of an e-mail that points at `path` (e.g. "/confirmer"). */
export function tokenFrom(email: SentEmail, path: string): string {
  const match = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(email.text);
  if (!match) throw new Error(`pas de lien ${path} dans « ${email.subject} »`);
  return match[1]!;
}

export async function waitForEmail(t: TestApp, to: string, subject: string | RegExp, count = 1): Promise<SentEmail> {
  const matching = () => t.resend!.to(to).filter((e) => (typeof subject === 'string' ? e.subject === subject : subject.test(e.subject)));
  await t.resend!.waitFor(() => matching().length >= count);
  return matching()[count - 1]!;
}

/** Waits until every e-mail queued so far has been handed to the (fake) Resend: counts are final then. */
export async function allDelivered(t: TestApp): Promise<void> {
  await expect.poll(() => t.app.prisma.emailOutbox.count({ where: { status: 'PENDING' } }), { timeout: 15_000 }).toBe(0);
}

/** Registers and confirms through the API; returns the input used and the confirmation token. */
export async function registerAndConfirm(t: TestApp, libraryId: string, overrides: Record<string, unknown> = {}) {
  const input = registerInput(libraryId, overrides);
  const { data } = await t.gql(REGISTER, { input });
  expect(data.register.errors).toEqual([]);
  const email = await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos');
  const token = tokenFrom(email, '/confirmer');
  const confirmed = await t.gql(CONFIRM, { token });
  expect(confirmed.data.confirm.errors).toEqual([]);
  return { input, token };
}
