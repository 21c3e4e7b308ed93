import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLibraries, loadDemoLibraries } from '../../../src/modules/libraries/service.js';
import { seedLibrary, startTestApp, type TestApp } from '../../support/harness.js';

const LIBRARIES = `query($search: String) { libraries(search: $search) { id code name town isPlaceholder } }`;

describe('libraries(search:)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await seedLibrary(t.app, { code: '5200001', name: 'Médiathèque Pierre Mendès-France', town: 'Nilvange' });
    await seedLibrary(t.app, { code: '5200002', name: 'Bibliothèque municipale', town: 'Sarrebourg' });
    await seedLibrary(t.app, { code: '5200003', name: 'Médiathèque Œcuménique', town: 'Lorry-lès-Metz' });
  });
  afterAll(() => t.close());

  it('lists every library, by name, to visitors', async () => {
    const { data } = await t.gql(LIBRARIES);
    expect(data.libraries.map((l: { code: string }) => l.code)).toEqual(['5200002', '5200001', '5200003']);
    expect(data.libraries[0]).toMatchObject({ name: 'Bibliothèque municipale', town: 'Sarrebourg', isPlaceholder: false });
  });

  it.each([
    ['mediatheque', ['5200001', '5200003']],
    ['MÉDIATHÈQUE nilv', ['5200001']],
    ['les metz', ['5200003']],
    ['oecumenique', ['5200003']],
    ['SARREBOURG', ['5200002']],
    ['  ', ['5200002', '5200001', '5200003']],
    ['%', []],
    ['introuvable', []],
  ])('search %j ignores case and accents, on name and town', async (search, codes) => {
    const { data } = await t.gql(LIBRARIES, { search });
    expect(data.libraries.map((l: { code: string }) => l.code)).toEqual(codes);
  });

  it('answers node(id:) with a library', async () => {
    const { data } = await t.gql(LIBRARIES, { search: 'nilvange' });
    const id = data.libraries[0].id;
    const node = await t.gql(`query($id: ID!) { node(id: $id) { id ... on Library { code } } }`, { id });
    expect(node.data.node).toEqual({ id, code: '5200001' });
  });
});

const HEADER = 'code,name,town,postal_code,email\n';

describe('library import (CSV)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('creates, then updates, and is idempotent', async () => {
    const csv = `${HEADER}5212345,Médiathèque de Nilvange,Nilvange,57240,Contact@Nilvange.fr\n5212346,"Bibliothèque, annexe",Metz,57000,bib@metz.fr\n`;
    expect(await importLibraries(t.app.prisma, csv)).toEqual({ created: 2, updated: 0, errors: [] });
    expect(await importLibraries(t.app.prisma, csv)).toEqual({ created: 0, updated: 2, errors: [] });
    expect(await t.app.prisma.library.count()).toBe(2);

    const renamed = csv.replace('Médiathèque de Nilvange', 'Médiathèque départementale');
    await importLibraries(t.app.prisma, renamed);
    const nilvange = await t.app.prisma.library.findUniqueOrThrow({ where: { code: '5212345' } });
    expect(nilvange).toMatchObject({ name: 'Médiathèque départementale', email: 'contact@nilvange.fr', postalCode: '57240', placeholder: false });
    const { data } = await t.gql(LIBRARIES, { search: 'departementale' });
    expect(data.libraries).toHaveLength(1);
  });

  it('reports every bad row with its line and imports nothing', async () => {
    const before = await t.app.prisma.library.count();
    const csv =
      HEADER +
      '5299001,Bonne bibliothèque,Metz,57000,ok@metz.fr\n' +
      '5399002,Mauvais code,Metz,57000,ok@metz.fr\n' +
      '5299003,,Metz,57000,ok@metz.fr\n' +
      '5299004,Adresse,Metz,5700,pas-une-adresse\n' +
      '5299001,Doublon,Metz,57000,ok@metz.fr\n';
    const result = await importLibraries(t.app.prisma, csv);
    expect(result.created + result.updated).toBe(0);
    expect(result.errors).toEqual([
      'ligne 3 : code « 5399002 » invalide (attendu : 52 suivi de 5 chiffres)',
      'ligne 4 : nom manquant',
      'ligne 5 : code postal « 5700 » invalide ; adresse e-mail « pas-une-adresse » invalide',
      'ligne 6 : code 5299001 déjà présent ligne 2',
    ]);
    expect(await t.app.prisma.library.count()).toBe(before);
    expect(await t.app.prisma.library.findUnique({ where: { code: '5299001' } })).toBeNull();
  });

  it('refuses a file without the expected columns', async () => {
    const result = await importLibraries(t.app.prisma, 'nom,ville\nA,B\n');
    expect(result.errors[0]).toMatch(/En-tête incomplet.*manque code, name, town, postal_code, email/);
  });

  it('runs from the command line, with an exit code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'numos-csv-'));
    const good = join(dir, 'good.csv');
    const bad = join(dir, 'bad.csv');
    writeFileSync(good, `${HEADER}5277777,Médiathèque CLI,Thionville,57100,cli@thionville.fr\n`);
    writeFileSync(bad, `${HEADER}52777,Trop court,Thionville,57100,cli@thionville.fr\n`);
    const env = { ...process.env, DATABASE_URL: t.database.url };
    const ok = spawnSync('npm', ['run', '--silent', 'cli', '--', 'libraries:import', good], { env, encoding: 'utf8' });
    expect(ok.stdout).toContain('1 bibliothèque(s) importée(s) : 1 créée(s), 0 mise(s) à jour.');
    expect(ok.status).toBe(0);
    const ko = spawnSync('npm', ['run', '--silent', 'cli', '--', 'libraries:import', bad], { env, encoding: 'utf8' });
    expect(ko.status).toBe(1);
    expect(ko.stderr).toContain("Import refusé, rien n'a été importé (1 erreur(s))");
    expect(ko.stderr).toContain('ligne 2 : code « 52777 » invalide');
  }, 60_000);
});

describe('demonstration libraries', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('load once into an empty database, with placeholder codes and addresses', async () => {
    expect(await loadDemoLibraries(t.app.prisma)).toBe(146);
    expect(await loadDemoLibraries(t.app.prisma)).toBe(0);
    const rows = await t.app.prisma.library.findMany();
    expect(rows).toHaveLength(146);
    for (const row of rows) {
      expect(row.code).toMatch(/^529\d{4}$/);
      expect(row.email).toBe(`demo-${row.code}@numos.local`);
      expect(row.placeholder).toBe(true);
    }
    const { data } = await t.gql(LIBRARIES, { search: 'algrange' });
    expect(data.libraries).toEqual([expect.objectContaining({ town: 'Algrange', isPlaceholder: true })]);
  });
});
