import { builder } from '../../graphql/builder.js';
import { maxChars, SEARCH_MAX } from '../../graphql/input-guard.js';
import { SEARCH_WORDS_MAX } from '../../lib/text.js';

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
  }),
});

builder.queryField('libraries', (t) =>
  t.prismaField({
    type: ['Library'],
    description: 'Libraries of the network; `search` matches name and town, ignoring case and accents.',
    args: { search: t.arg.string({ required: false, ...maxChars(SEARCH_MAX, `Words of the name or town, ignoring case and accents; the first ${SEARCH_WORDS_MAX} count.`) }) },
    resolve: (_query, _root, { search }, { app }) => app.libraries.search(search),
  }),
);
