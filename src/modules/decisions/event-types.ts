// The live feed of admin dashboards: registration events, filtered so that library staff receive
// their own library's only, and DLPB agents every library's (or one library's when they ask).
import { filter, pipe } from 'graphql-yoga';
import type { Gauge } from 'prom-client';
import { whileSessionLives } from '../../auth/session-watch.js';
import { builder, forbidden, unauthenticated } from '../../graphql/builder.js';
import { decodeId } from '../../graphql/ids.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { REGISTRATION_TOPIC, type RegistrationEventPayload, type RegistrationEventType } from '../../events/bus.js';

const RegistrationEventTypeEnum = builder.enumType('RegistrationEventType', {
  description: 'What happened to a request.',
  values: {
    CONFIRMED: { description: 'The person confirmed their address: the request awaits a decision.' },
    DECIDED: { description: 'The request was accepted or refused.' },
    ESCALATED: { description: 'Five days without a decision: the DLPB was told.' },
    LAPSED: { description: "Never confirmed within 15 days: the person's data was deleted." },
    RENEWAL_REQUESTED: { description: 'A patron asked for a renewal: it awaits a decision.' },
    MEMBERSHIP_CHECKED: { description: "NuMos looked the applicant up in the library's own system: `request.membershipCheck` tells what it found." },
  } as const,
});

/** A live feed, counted in numos_subscriptions_open while it lives. */
async function* counted<T>(gauge: Gauge<'transport'>, transport: string, source: AsyncIterable<T>): AsyncGenerator<T> {
  gauge.inc({ transport });
  try {
    yield* source;
  } finally {
    gauge.dec({ transport });
  }
}

/** The event a request was loaded for, so that an error about its erased patron can say which. */
const eventTypes = new WeakMap<object, RegistrationEventType>();
export const eventTypeOf = (request: object) => eventTypes.get(request);

const RegistrationEvent = builder.objectRef<RegistrationEventPayload>('RegistrationEvent').implement({
  description:
    "Something happened to a registration request. A request's person may be erased by then (a LAPSED request, a purge): `patron` is null then, while `request.patron`, non-null in the contract, answers the event as an error PERSONAL_DATA_ERASED.",
  fields: (t) => ({
    type: t.field({ type: RegistrationEventTypeEnum, description: 'What happened.', resolve: (e) => e.type }),
    occurredAt: t.field({
      type: 'DateTime',
      description: 'When it happened (the step was due then, for scheduled steps).',
      resolve: (e) => new Date(e.occurredAt),
    }),
    requestId: t.id({ description: 'Global ID of the request, always there.', resolve: (e) => encodeGlobalID('RegistrationRequest', e.requestId) }),
    library: t.prismaField({
      type: 'Library',
      description: 'The library the request belongs to.',
      resolve: (query, e, _args, { prisma }) => prisma.library.findUniqueOrThrow({ ...query, where: { id: e.libraryId } }),
    }),
    patron: t.prismaField({
      type: 'Patron',
      nullable: true,
      description: 'The person of the request; null once their personal data is erased.',
      resolve: (query, e, _args, { prisma }) => prisma.patron.findFirst({ ...query, where: { requests: { some: { id: e.requestId } } } }),
    }),
    request: t.prismaField({
      type: 'RegistrationRequest',
      description: 'The request as it is now.',
      resolve: async (query, e, _args, { prisma }) => {
        const request = await prisma.registrationRequest.findUniqueOrThrow({ ...query, where: { id: e.requestId } });
        eventTypes.set(request, e.type);
        return request;
      },
    }),
  }),
});

builder.subscriptionType({
  description: 'Live feeds, over SSE (yoga, GraphQL over SSE) or WebSocket (graphql-ws). A feed ends with its session.',
});

builder.subscriptionField('registrationEvents', (t) =>
  t.field({
    type: RegistrationEvent,
    description:
      "Library staff: their library's events. DLPB: one library, or all when libraryId is null. Completes when the session ends (logout, password change, disabled account, expiry). Events sent while a client is disconnected are not replayed: reload the queue on reconnection.",
    authScopes: { staff: true },
    args: { libraryId: t.arg.id({ required: false, description: 'DLPB: one library only. Library staff: omit, or their own.' }) },
    subscribe: (_root, { libraryId }, { app, caller, transport }) => {
      // Checked here: the scope check does not guard `subscribe` itself.
      if (caller.kind === 'visitor') throw unauthenticated();
      if (caller.kind !== 'staff') throw forbidden();
      const asked = decodeId('Library', libraryId) ?? null;
      if (caller.role === 'LIBRARY_ADMIN' && asked && asked !== caller.libraryId) throw forbidden();
      const only = caller.role === 'LIBRARY_ADMIN' ? caller.libraryId : asked;
      // Ends with the session (logout, password change, disabled account, expiry), on every instance.
      return counted(
        app.metrics.subscriptions,
        transport === 'websocket' ? 'websocket' : 'sse',
        whileSessionLives(
          app.sessions,
          caller,
          pipe(
            app.events.pubSub.subscribe(REGISTRATION_TOPIC),
            filter((event: RegistrationEventPayload) => only === null || event.libraryId === only),
          ),
        ),
      );
    },
    resolve: (event) => event,
  }),
);
