// The contract's scalars, from graphql-scalars, with French messages that do not echo the value
// back and, for e-mail addresses, the lengths of RFC 5321 (254 in all, 64 before the "@").
import { GraphQLError, GraphQLScalarType, type ValueNode } from 'graphql';
import { DateTimeResolver, EmailAddressResolver, LocalDateResolver } from 'graphql-scalars';

export const EMAIL_MAX = 254;
const EMAIL_LOCAL_MAX = 64;

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/** The same scalar, its parse errors replaced by `message` (and `check` run first, if any). */
function french(scalar: GraphQLScalarType, message: string, check?: (value: unknown) => void): GraphQLScalarType {
  const parse = <T>(run: () => T): T => {
    try {
      return run();
    } catch {
      throw badInput(message);
    }
  };
  return new GraphQLScalarType({
    ...scalar.toConfig(),
    parseValue: (value) => {
      check?.(value);
      return parse(() => scalar.parseValue(value));
    },
    parseLiteral: (ast: ValueNode, variables) => {
      if (ast.kind === 'StringValue') check?.(ast.value);
      return parse(() => scalar.parseLiteral(ast, variables));
    },
  });
}

export const DateTimeScalar = french(
  DateTimeResolver,
  'Date et heure invalides : attendu un instant ISO 8601 avec son fuseau, par exemple 2026-11-28T10:00:00Z.',
);
export const LocalDateScalar = french(LocalDateResolver, 'Date invalide : attendu une date qui existe, au format AAAA-MM-JJ.');
export const EmailAddressScalar = french(EmailAddressResolver, 'Adresse e-mail invalide.', (value) => {
  if (typeof value === 'string' && (value.length > EMAIL_MAX || value.split('@')[0]!.length > EMAIL_LOCAL_MAX)) {
    throw badInput(`Adresse e-mail trop longue : ${EMAIL_MAX} caractères au plus, dont ${EMAIL_LOCAL_MAX} avant l'arobase.`);
  }
});
