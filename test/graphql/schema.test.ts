// The schema documents itself: a description on every type, field, argument, input field and enum
// value (front-end teams read it in GraphiQL and their editors), and a documented maximum on every
// string input (src/graphql/input-guard.ts).
import {
  graphql,
  printSchema,
  getNullableType,
  isListType,
  type GraphQLInputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { getSchema } from '../../src/wiring/schema.js';

/** Every place a description belongs, and whether it has one. */
function describedPlaces(schema: GraphQLSchema): { place: string; described: boolean }[] {
  const places: { place: string; described: boolean }[] = [];
  const add = (place: string, description: string | null | undefined) => places.push({ place, described: !!description?.trim() });
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || (isScalarType(type) && isSpecifiedScalarType(type))) continue;
    add(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        add(`${type.name}.${field.name}`, field.description);
        for (const arg of field.args) add(`${type.name}.${field.name}(${arg.name})`, arg.description);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) add(`${type.name}.${field.name}`, field.description);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) add(`${type.name}.${value.name}`, value.description);
    } else if (isUnionType(type) || isScalarType(type)) {
      // the type's own description is enough
    }
  }
  return places;
}

describe('the printed schema', () => {
  it('describes itself: the root of GraphiQL’s documentation (introspection)', async () => {
    const { data } = await graphql({ schema: getSchema(), source: '{ __schema { description } }' });
    expect((data as { __schema: { description: string } }).__schema.description).toMatch(/^NuMos, the free digital media library/);
    expect(printSchema(getSchema())).toContain('schema {');
  });

  for (const testClock of [false, true]) {
    it(`describes everything${testClock ? ' (with the test clock)' : ''}`, () => {
      const places = describedPlaces(getSchema(testClock));
      const missing = places.filter((p) => !p.described).map((p) => p.place);
      console.log(`descriptions: ${places.length - missing.length} of ${places.length}`);
      expect(missing).toEqual([]);
    });
  }

  it('gives every string argument and input field a maximum', () => {
    const schema = getSchema(true);
    const unbounded: string[] = [];
    const check = (place: string, type: Parameters<typeof getNamedType>[0], extensions: { maxChars?: unknown }) => {
      if (getNamedType(type)?.name === 'String' && typeof extensions.maxChars !== 'number') unbounded.push(place);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (isObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          // Relay's cursors (after, before) share the IDs' maximum.
          for (const arg of field.args) if (!['after', 'before'].includes(arg.name)) check(`${type.name}.${field.name}(${arg.name})`, arg.type, arg.extensions);
        }
      } else if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) check(`${type.name}.${field.name}`, field.type, field.extensions);
      }
    }
    expect(unbounded).toEqual([]);
  });

  it('gives every list argument and input field a documented maximum number of items', () => {
    const schema = getSchema(true);
    const places: { place: string; max: unknown; description: string }[] = [];
    const visit = (place: string, type: GraphQLInputType, definition: { extensions: { maxItems?: unknown }; description?: string | null }) => {
      if (isListType(getNullableType(type))) places.push({ place, max: definition.extensions.maxItems, description: definition.description ?? '' });
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (isObjectType(type))
        for (const field of Object.values(type.getFields())) for (const arg of field.args) visit(`${type.name}.${field.name}(${arg.name})`, arg.type, arg);
      else if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) visit(`${type.name}.${field.name}`, field.type, field);
    }
    expect(places.length).toBeGreaterThan(0);
    expect(places.filter((p) => typeof p.max !== 'number' || !p.description.includes(`At most ${p.max} items.`)).map((p) => p.place)).toEqual([]);
  });
});
