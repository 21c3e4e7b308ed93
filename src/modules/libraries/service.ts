// Libraries of the public reading network: search, CSV import, demonstration rows.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { PrismaClient } from '../../db/prisma.js';
import { control } from '../../events/bus.js';
import type { Library } from '../../generated/prisma/client.js';
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import { refuseIfAny, userError, type UserError } from '../../domain/errors.js';
import { unitOfWork } from '../unit-of-work.js';
import { normalizeForSearch } from '../../lib/text.js';
import { prismaSql } from '../../db/sql.js';
import { lockLibraries } from './store.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'libraries' | 'outbox' | 'prisma'>;

export const LIBRARY_CODE = /^52\d{5}$/;
const POSTAL_CODE = /^\d{5}$/;
// Deliberately simple: the import checks shape, the library's mail server decides the rest.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const librarySearchText = (name: string, town: string | null) => normalizeForSearch(`${name} ${town ?? ''}`);

export interface LibraryRow {
  code: string;
  name: string;
  town: string | null;
  postalCode: string | null;
  email: string;
}

export interface ImportResult {
  created: number;
  updated: number;
  errors: string[];
}

const HEADERS = ['code', 'name', 'town', 'postal_code', 'email'] as const;

/** Parses and checks an import file; every bad row is reported, with its line number. */
export function parseLibraryCsv(content: string): { rows: LibraryRow[]; errors: string[] } {
  let records: string[][];
  try {
    records = parse(content, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: true });
  } catch (error) {
    return { rows: [], errors: [`Fichier CSV illisible : ${(error as Error).message}`] };
  }
  const [header, ...lines] = records;
  const columns = (header ?? []).map((h) => h.toLowerCase());
  const missing = HEADERS.filter((h) => !columns.includes(h));
  if (missing.length) {
    return { rows: [], errors: [`En-tête incomplet : colonnes attendues ${HEADERS.join(', ')} (manque ${missing.join(', ')})`] };
  }
  const at = (record: string[], name: (typeof HEADERS)[number]) => record[columns.indexOf(name)]?.trim() ?? '';
  const rows: LibraryRow[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  lines.forEach((record, index) => {
    const line = index + 2;
    const row = {
      code: at(record, 'code'),
      name: at(record, 'name'),
      town: at(record, 'town') || null,
      postalCode: at(record, 'postal_code') || null,
      email: at(record, 'email').toLowerCase(),
    };
    const problems: string[] = [];
    if (!LIBRARY_CODE.test(row.code)) problems.push(`code « ${row.code} » invalide (attendu : 52 suivi de 5 chiffres)`);
    if (!row.name) problems.push('nom manquant');
    if (row.postalCode && !POSTAL_CODE.test(row.postalCode)) problems.push(`code postal « ${row.postalCode} » invalide`);
    if (!EMAIL.test(row.email)) problems.push(`adresse e-mail « ${row.email} » invalide`);
    const first = seen.get(row.code);
    if (row.code && first !== undefined) problems.push(`code ${row.code} déjà présent ligne ${first}`);
    else seen.set(row.code, line);
    if (problems.length) errors.push(`ligne ${line} : ${problems.join(' ; ')}`);
    else rows.push(row);
  });
  return { rows, errors };
}

/**
 * Creates or updates libraries by code, all in one transaction: a file with any bad row imports
 * nothing. Importing the same file twice changes nothing the second time.
 */
export async function importLibraries(prisma: PrismaClient, content: string): Promise<ImportResult> {
  const { rows, errors } = parseLibraryCsv(content);
  if (errors.length) return { created: 0, updated: 0, errors };
  return prisma.$transaction(async (tx) => {
    const existing = new Set((await tx.library.findMany({ where: { code: { in: rows.map((r) => r.code) } }, select: { code: true } })).map((l) => l.code));
    for (const row of rows) {
      const data = { ...row, placeholder: false, searchText: librarySearchText(row.name, row.town) };
      await tx.library.upsert({ where: { code: row.code }, create: data, update: data });
    }
    // Running servers (the CLI is another process) read the directory again.
    await control(tx, [{ kind: 'libraries-changed' }]);
    return { created: rows.length - existing.size, updated: existing.size, errors: [] };
  });
}

export const DEMO_LIBRARIES_CSV = join(import.meta.dirname, '..', '..', '..', 'data', 'moselle-public-libraries-2023.csv');

/** Placeholder code of the n-th demonstration row (1-based): 52 9 and four digits. */
export const demoLibraryCode = (n: number) => `529${String(n).padStart(4, '0')}`;

/**
 * Loads the demonstration libraries into a database that has none. Their codes and addresses are
 * invented (see data/README.md) and the rows are flagged `placeholder`.
 */
export async function loadDemoLibraries(prisma: PrismaClient, file = DEMO_LIBRARIES_CSV): Promise<number> {
  const records: Record<string, string>[] = parse(await readFile(file, 'utf8'), { columns: true, bom: true, trim: true });
  const data = records.map((r, index) => {
    const code = demoLibraryCode(index + 1);
    const town = r.commune || null;
    return {
      code,
      name: r.name ?? code,
      town,
      postalCode: r.postal_code || null,
      email: `demo-${code}@numos.local`,
      placeholder: true,
      searchText: librarySearchText(r.name ?? code, town),
    };
  });
  // Only into an empty table, decided inside the transaction (two instances may start together).
  return prisma.$transaction(async (tx) => {
    await lockLibraries(prismaSql(tx));
    if ((await tx.library.count()) > 0) return 0;
    await control(tx, [{ kind: 'libraries-changed' }]);
    return (await tx.library.createMany({ data })).count;
  });
}

export const LIBRARY_NAME_MAX = 200;

export interface SaveLibraryInput {
  code: string;
  name: string;
  town?: string | null;
  postalCode?: string | null;
  email: string;
  closed?: boolean | null;
}

/**
 * DLPB: creates or updates a library by its Moselia code. Closing one keeps its patrons and staff;
 * every instance reads its directory again once the change commits.
 */
export async function saveLibrary(app: Services, caller: Caller, input: SaveLibraryInput): Promise<{ library: Library | null; errors: UserError[] }> {
  const code = input.code.trim();
  const name = input.name.replace(/\s+/g, ' ').trim();
  const town = input.town?.replace(/\s+/g, ' ').trim() || null;
  const postalCode = input.postalCode?.trim() || null;
  const errors: UserError[] = [];
  if (!LIBRARY_CODE.test(code)) errors.push(userError('INVALID_LIBRARY_CODE', 'Le code Moselia est 52 suivi de 5 chiffres (par exemple 5212345).', 'code'));
  if (!name) errors.push(userError('INVALID_INPUT', 'Le nom de la bibliothèque est obligatoire.', 'name'));
  if (postalCode && !POSTAL_CODE.test(postalCode)) errors.push(userError('INVALID_INPUT', 'Le code postal compte 5 chiffres.', 'postalCode'));
  refuseIfAny(errors);
  const library = await unitOfWork(app, { actor: caller }, async ({ tx, now, audit, control }) => {
    const before = await tx.library.findUnique({ where: { code } });
    const closedAt = input.closed == null ? (before?.closedAt ?? null) : input.closed ? (before?.closedAt ?? now) : null;
    const data = { name, town, postalCode, email: input.email.trim(), closedAt, placeholder: false, searchText: librarySearchText(name, town) };
    // Upsert: two simultaneous saves of a new code end with one library.
    const saved = await tx.library.upsert({ where: { code }, create: { code, ...data }, update: data });
    await audit({
      action: 'SAVE_LIBRARY',
      subjectType: 'Library',
      subjectId: saved.id,
      libraryId: saved.id,
      before: before && { name: before.name, town: before.town, postalCode: before.postalCode, closed: before.closedAt !== null },
      after: { code, name, town, postalCode, closed: closedAt !== null, created: !before },
    });
    await control({ kind: 'libraries-changed' });
    return saved;
  });
  app.libraries.invalidate();
  return { library, errors: [] };
}
