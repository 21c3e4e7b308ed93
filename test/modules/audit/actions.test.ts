// auditLog's filter names an action as a person types it ("decide" finds DECIDE); a word that is no
// action is refused with the list of those that are, which the schema lists as well.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../../../src/modules/audit/service.js';
import { getSchema } from '../../../src/wiring/schema.js';
import { seedTwoLibraries, startTestApp, type TestApp, type TwoLibraries } from '../../support/harness.js';
import { registerAndConfirm } from '../../support/patrons.js';

const AUDIT = `query($f: AuditLogFilter) { auditLog(filter: $f) { totalCount edges { node { action } } } }`;

let t: TestApp;
let scene: TwoLibraries;

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  scene = await seedTwoLibraries(t, [
    { code: '5213101', name: 'Médiathèque de Yutz' },
    { code: '5213102', name: 'Bibliothèque de Hombourg' },
  ]);
  const { input } = await registerAndConfirm(t, scene.libA.gid);
  const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { loginKey: input.login.toLowerCase() } } });
  const { data } = await t.gql(
    `mutation($input: DecideInput!) { decide(input: $input) { errors { code } } }`,
    { input: { requestId: encodeGlobalID('RegistrationRequest', request.id), decision: 'ACCEPT' } },
    { token: scene.adminA },
  );
  expect(data.decide.errors).toEqual([]);
  await t.gql(`mutation { setLicenceCapacity(input: { capacity: 30000 }) { errors { code } } }`, {}, { token: scene.dlpb });
});
afterAll(() => t.close());

describe('auditLog(filter: { action })', () => {
  it('finds DECIDE written in any case, with spaces or dashes for underscores', async () => {
    for (const written of ['DECIDE', 'decide', ' Decide ']) {
      const { data, errors } = await t.gql(AUDIT, { f: { action: written } }, { token: scene.dlpb });
      expect(errors, written).toBeUndefined();
      expect(
        data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action),
        written,
      ).toEqual(['DECIDE']);
    }
    const capacity = await t.gql(AUDIT, { f: { action: 'set-licence capacity' } }, { token: scene.dlpb });
    expect(capacity.data.auditLog.edges).toEqual([{ node: { action: 'SET_LICENCE_CAPACITY' } }]);
    // A library admin's own entries, by the same words.
    expect((await t.gql(AUDIT, { f: { action: 'decide' } }, { token: scene.adminA })).data.auditLog.totalCount).toBe(1);
  });

  it('refuses a word that is no action, in French, listing the actions', async () => {
    const { data, errors } = await t.gql(AUDIT, { f: { action: 'décider' } }, { token: scene.dlpb });
    expect(data).toBeNull();
    expect(errors).toEqual([
      expect.objectContaining({
        message: `Action inconnue : « décider ». Actions possibles : ${AUDIT_ACTIONS.join(', ')}.`,
        extensions: { code: 'BAD_USER_INPUT', field: 'filter.action' },
      }),
    ]);
  });

  it('lists every action in the schema, where the entry and the filter are described', () => {
    const schema = getSchema();
    const described = [
      schema.getType('AuditEntry')!.toConfig() as { fields: Record<string, { description?: string | null }> },
      schema.getType('AuditLogFilter')!.toConfig() as { fields: Record<string, { description?: string | null }> },
    ].map((type) => type.fields.action!.description ?? '');
    for (const description of described) for (const action of AUDIT_ACTIONS) expect(description).toContain(action);
  });
});
