// The live feed of admin dashboards: registration events, filtered so that library staff receive
// their own library's only, and DLPB agents every library's (or one library's when they ask).
import { filter, pipe } from 'graphql-yoga';
import { builder, forbidden, unauthenticated } from '../../graphql/builder.js';
import { idOf } from '../../graphql/ids.js';
import { REGISTRATION_TOPIC, type RegistrationEventPayload } from '../../events/bus.js';

const RegistrationEventTypeEnum = builder.enumType('RegistrationEventType', {
  values: ['CONFIRMED', 'DECIDED', 'ESCALATED', 'LAPSED', 'RENEWAL_REQUESTED'] as const,
});

const RegistrationEvent = builder.objectRef<RegistrationEventPayload>('RegistrationEvent').implement({
  fields: (t) => ({
    type: t.field({ type: RegistrationEventTypeEnum, resolve: (e) => e.type }),
    occurredAt: t.field({ type: 'DateTime', resolve: (e) => new Date(e.occurredAt) }),
    request: t.prismaField({
      type: 'RegistrationRequest',
      resolve: (query, e, _args, { prisma }) => prisma.registrationRequest.findUniqueOrThrow({ ...query, where: { id: e.requestId } }),
    }),
  }),
});

builder.subscriptionType({});

builder.subscriptionField('registrationEvents', (t) =>
  t.field({
    type: RegistrationEvent,
    description: "Library staff: their library's events. DLPB: one library, or all when libraryId is null.",
    authScopes: { staff: true },
    args: { libraryId: t.arg.id({ required: false }) },
    subscribe: (_root, { libraryId }, { app, caller }) => {
      // Checked here: the scope check does not guard `subscribe` itself.
      if (caller.kind === 'visitor') throw unauthenticated();
      if (caller.kind !== 'staff') throw forbidden();
      const asked = libraryId ? (idOf('Library', libraryId) ?? 'none') : null;
      if (caller.role === 'LIBRARY_ADMIN' && asked && asked !== caller.libraryId) throw forbidden();
      const only = caller.role === 'LIBRARY_ADMIN' ? caller.libraryId : asked;
      return pipe(
        app.events.pubSub.subscribe(REGISTRATION_TOPIC),
        filter((event: RegistrationEventPayload) => only === null || event.libraryId === only),
      );
    },
    resolve: (event) => event,
  }),
);
