// Persisted (trusted) documents. A front end built with `npm run codegen` (client preset,
// persisted documents, SHA-256) ships only the hashes of its operations; the manifest it writes
// (persisted-documents.json: hash → document) tells the server what each hash stands for.
// - NUMOS_PERSISTED_DOCUMENTS=<manifest>: documents may be sent by hash, other documents too.
// - NUMOS_TRUSTED_DOCUMENTS=<manifest>: only the manifest's documents run, except for the
//   credentials named in NUMOS_TRUSTED_DOCUMENTS_EXEMPT (resource providers by default: their
//   servers are not front ends).
// A document is named by the GraphQL-over-HTTP `documentId` or by Apollo's persisted-query
// extension ({ persistedQuery: { version: 1, sha256Hash } }), by POST or GET, the hash with or
// without codegen's "sha256:" prefix (see documentIdOf).
import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import type { Caller } from '../auth/caller.js';
import type { DocumentsConfig, ExemptCaller } from '../config.js';

export type { DocumentsConfig, ExemptCaller };

/**
 * Hashes are compared bare: codegen writes "sha256:<hex>" (the GraphQL-over-HTTP form) in the
 * manifest and in each document's `__meta__.hash`, and front ends send either that or the bare hex
 * (Apollo's `sha256Hash`, or whatever their `generateHash` returns).
 */
const bareHash = (id: string) => id.replace(/^sha256:/, '');

/** hash → document, from a manifest; the start stops with a clear message when it cannot be read. */
export function loadManifest(file: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Manifeste de documents illisible (${file}) : ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error(`Manifeste de documents invalide (${file}) : attendu un objet { "<hash>": "<document>" }.`);
  }
  return new Map(Object.entries(parsed as Record<string, string>).map(([key, document]) => [bareHash(key), document]));
}

/**
 * The hash a request names its document by, if it does: `documentId` in a POST body or in a GET's
 * URL (yoga's GET parser keeps only query, variables, operationName and extensions, so it is read
 * from the URL here), else Apollo's persisted-query extension (POST body, or a GET's `extensions`
 * parameter). Without a request: a subscription's payload over WebSocket.
 */
export function documentIdOf(params: GraphQLParams & { documentId?: unknown }, request?: Request): string | null {
  const documentId =
    typeof params.documentId === 'string' ? params.documentId : request?.method === 'GET' ? new URL(request.url).searchParams.get('documentId') : null;
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)?.persistedQuery;
  const id = documentId ?? (persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null);
  return id ? bareHash(id) : null;
}

const notFound = () => ({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });

const PERSISTED_ONLY = {
  message: 'Seuls les documents connus du serveur sont acceptés : envoyez leur identifiant (documentId).',
  extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
};

/** The documents of a manifest, and who may send others. */
export class DocumentStore {
  private readonly manifest: Map<string, string>;

  constructor(private readonly config: DocumentsConfig) {
    this.manifest = loadManifest(config.file);
  }

  get(hash: string): string | undefined {
    return this.manifest.get(hash);
  }

  /** The documents of the manifest, as sent by front ends. */
  documents(): Iterable<string> {
    return this.manifest.values();
  }

  /** Whether this caller may send a document that is not in the manifest. */
  async mayRunAnyDocument(caller: Caller): Promise<boolean> {
    if (!this.config.trusted || !(this.config.exempt as string[]).includes(caller.kind)) return !this.config.trusted;
    // A provider is exempt only with a key a live provider holds.
    return caller.kind !== 'provider' || (await caller.identity()) !== null;
  }

  /** A subscription's document over WebSocket, by id or as sent; an error message when refused. */
  async documentFor(params: GraphQLParams, caller: Caller): Promise<{ query: string } | { error: typeof PERSISTED_ONLY }> {
    const id = documentIdOf(params);
    if (id) {
      const query = this.get(id);
      return query ? { query } : { error: { ...notFound(), extensions: { ...notFound().extensions, http: { status: 400 } } } };
    }
    return (await this.mayRunAnyDocument(caller)) ? { query: params.query ?? '' } : { error: PERSISTED_ONLY };
  }

  /** yoga's persisted-operations plugin on this store; `callerOf` tells exempt credentials apart. */
  plugin(callerOf: (request: Request) => Promise<Caller>): Plugin {
    return usePersistedOperations({
      getPersistedOperation: (hash) => this.get(hash) ?? null,
      extractPersistedOperationId: (params, request) => documentIdOf(params, request),
      allowArbitraryOperations: this.config.trusted ? async (request) => this.mayRunAnyDocument(await callerOf(request)) : true,
      customErrors: {
        notFound: notFound(),
        keyNotFound: { message: 'Un document est attendu : `query`, ou son identifiant (`documentId`).', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } },
        persistedQueryOnly: PERSISTED_ONLY,
      },
    });
  }
}
