import { builder } from '../../graphql/builder.js';
import { maxChars, SEARCH_MAX } from '../../graphql/input-guard.js';
import { SEARCH_WORDS_MAX } from '../../lib/text.js';
import type { Library } from '../../generated/prisma/client.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { LIBRARY_NAME_MAX, saveLibrary } from './service.js';

export const LibraryType = builder.prismaNode('Library', {
  description: 'A library of the Moselle public reading network: the home library of its patrons.',
  id: { field: 'id' },
  fields: (t) => ({
    code: t.exposeString('code', {
      description: "Moselia identifier, 52 followed by 5 digits; also the library's staff login.",
    }),
    name: t.exposeString('name', { description: 'Its name.' }),
    town: t.exposeString('town', { nullable: true, description: 'Its town, when known.' }),
    isPlaceholder: t.exposeBoolean('placeholder', {
      description: 'True for demonstration rows whose code and e-mail address are invented placeholders.',
    }),
    email: t.field({
      type: 'EmailAddress',
      nullable: true,
      description: "Staff only: the address that receives the library's notifications (null for anyone else).",
      resolve: (library, _args, { caller }) => (caller.kind === 'staff' ? library.email : null),
    }),
    postalCode: t.exposeString('postalCode', { nullable: true, description: 'Its postal code, when known.' }),
    closed: t.boolean({
      description: 'Closed libraries are not offered at registration; their patrons keep their accounts.',
      resolve: (library) => library.closedAt !== null,
    }),
  }),
});

builder.queryField('libraries', (t) =>
  t.prismaField({
    type: ['Library'],
    description: 'Libraries of the network (staff also see closed ones); `search` matches name and town, ignoring case and accents.',
    args: {
      search: t.arg.string({
        required: false,
        ...maxChars(SEARCH_MAX, `Words of the name or town, ignoring case and accents; the first ${SEARCH_WORDS_MAX} count.`),
      }),
    },
    resolve: (_query, _root, { search }, { app, caller }) => app.libraries.search(search, { includeClosed: caller.kind === 'staff' }),
  }),
);

const SaveLibraryInput = builder.inputType('SaveLibraryInput', {
  description: 'A library, created or updated by its code.',
  fields: (t) => ({
    code: t.string({ required: true, ...maxChars(20, 'Moselia code, 52 followed by 5 digits. An existing code updates that library.') }),
    name: t.string({ required: true, ...maxChars(LIBRARY_NAME_MAX, 'Its name.') }),
    town: t.string({ required: false, ...maxChars(LIBRARY_NAME_MAX, 'Its town.') }),
    postalCode: t.string({ required: false, ...maxChars(20, 'Its postal code (5 digits).') }),
    email: t.field({ type: 'EmailAddress', required: true, description: "The address that receives the library's notifications." }),
    closed: t.boolean({
      required: false,
      description: 'True: closed (no longer offered at registration); false: open again; unchanged (new: open) when null.',
    }),
  }),
});

const LibraryPayload = payloadType<{ library: Library | null; errors: UserError[] }>('LibraryPayload', 'The answer to a change of a library.', (t) => ({
  library: t.field({ type: LibraryType, nullable: true, description: 'The library as saved; null when refused.', resolve: (p) => p.library }),
}));

builder.mutationField('saveLibrary', (t) =>
  t.field({
    type: LibraryPayload,
    description: 'DLPB only. Creates or updates a library by its Moselia code (INVALID_LIBRARY_CODE otherwise). Audited.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: SaveLibraryInput, required: true, description: 'The library.' }) },
    resolve: (_root, { input }, { app, caller }) => saveLibrary(app, caller, input),
  }),
);
