// After a registration, a confirmation, a login and a password reset, no table holds a raw token or
// a raw password; once Resend has accepted the e-mails, the outbox holds no live link either.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dumpEverything } from '../../support/dump.js';
import { login, seedLibrary, startTestApp, type TestApp } from '../../support/harness.js';
import { registerAndConfirm, tokenFrom, waitForEmail } from '../../support/patrons.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true });
});
afterAll(() => t.close());

it('finds no raw token and no raw password in any table', async () => {
  const library = await seedLibrary(t.app, { code: '5212345', name: 'Médiathèque de Nilvange' });
  const password = 'Mon-Secret-Tres-Particulier-1';
  const { input, token: confirmation } = await registerAndConfirm(t, encodeGlobalID('Library', library.id), { password, passwordConfirmation: password });
  const session = await login(t, 'PATRON', input.login, password);

  await t.gql(`mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { ok } }`, {
    input: { realm: 'PATRON', login: input.login },
  });
  const reset = tokenFrom(await waitForEmail(t, input.email, 'Réinitialisez votre mot de passe NuMos'), '/mot-de-passe');
  const newPassword = 'Un-Autre-Secret-Tres-Particulier-2';
  await t.gql(`mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { ok } }`, {
    input: { token: reset, password: newPassword, passwordConfirmation: newPassword },
  });
  const newSession = await login(t, 'PATRON', input.login, newPassword);
  await waitForEmail(t, 'bib-5212345@example.org', /inscription à valider/);
  await expect.poll(() => t.app.prisma.emailOutbox.count({ where: { status: { not: 'SENT' } } }), { timeout: 10_000 }).toBe(0);

  const dump = await dumpEverything(t);
  expect(dump.length).toBeGreaterThan(1_000);
  expect(dump).toContain(input.login.toLowerCase()); // the dump really holds the patron's rows
  for (const secret of [password, newPassword, confirmation, reset, session, newSession]) {
    expect(dump).not.toContain(secret.toLowerCase());
  }
});
