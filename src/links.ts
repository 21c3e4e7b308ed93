// Links in e-mails. Secrets travel as a `token=` query parameter; staff links carry the
// request's global ID, the one the admin front end passes back to `registrationRequest(id:)`.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Config } from './config.js';

export const links = (config: Config) => ({
  confirm: (token: string) => `${config.publicAppUrl}/confirmer?token=${encodeURIComponent(token)}`,
  resetPassword: (token: string) => `${config.publicAppUrl}/mot-de-passe?token=${encodeURIComponent(token)}`,
  confirmEmail: (token: string) => `${config.publicAppUrl}/confirmer-email?token=${encodeURIComponent(token)}`,
  renew: (token: string) => `${config.publicAppUrl}/renouveler?token=${encodeURIComponent(token)}`,
  request: (requestId: string) => `${config.adminAppUrl}/demandes/${encodeURIComponent(encodeGlobalID('RegistrationRequest', requestId))}`,
});
