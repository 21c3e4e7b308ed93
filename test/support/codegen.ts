// `npm run codegen` as a front end runs it, into a folder of its own: codegen/generated/ is not
// committed (each front end generates from its own operations), so tests generate what they use.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { IntrospectionQuery } from 'graphql';

/** The PossibleTypesResultData of codegen's possible-types.ts. */
export type PossibleTypes = Record<string, string[]>;

/** Runs codegen.ts on the sample operations of codegen/ and returns the output folder (ending in "/"). */
export async function runCodegen(): Promise<string> {
  const out = `${await mkdtemp(join(tmpdir(), 'numos-codegen-'))}/`;
  // Asynchronous, so that a test file's other set-up (its database) goes on meanwhile.
  await promisify(execFile)(join(process.cwd(), 'node_modules', '.bin', 'graphql-codegen'), ['--config', 'codegen.ts'], {
    env: { ...process.env, CODEGEN_OUTPUT: out },
    encoding: 'utf8',
  }).catch((error: { stderr?: string; stdout?: string; message: string }) => {
    throw new Error(`graphql-codegen : ${error.stderr || error.stdout || error.message}`);
  });
  return out;
}

/** The possibleTypes codegen wrote for Apollo's InMemoryCache. */
export async function generatedPossibleTypes(out: string): Promise<PossibleTypes> {
  return ((await import(join(out, 'possible-types.ts'))) as { default: { possibleTypes: PossibleTypes } }).default.possibleTypes;
}

/** The minified schema codegen wrote for urql's graphcache. */
export async function generatedUrqlSchema(out: string): Promise<IntrospectionQuery> {
  return ((await import(join(out, 'urql-schema.ts'))) as { default: IntrospectionQuery }).default;
}
