// The alert rules (deploy/prometheus/alerts.yml) as Prometheus reads them: checked and unit-tested
// by Debian's promtool (installed by .ci/run), and held against the real server: every metric the
// rules name is one a scrape of this server exposes, the exposition passes promtool's own lint, and
// the thresholds are the defaults /ready uses.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { registerInput } from '../support/patrons.js';

const DIR = 'deploy/prometheus';
const promtool = (args: string[], input?: string, cwd = DIR) => spawnSync('promtool', args, { cwd, input, encoding: 'utf8' });

interface Rule {
  alert: string;
  expr: string;
  annotations: { summary: string; description: string };
}
const rules: Rule[] = (parse(readFileSync(join(DIR, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const rule = (name: string) => rules.find((r) => r.alert === name)!;

describe('the alert rules', () => {
  it('are valid for promtool', () => {
    const checked = promtool(['check', 'rules', 'alerts.yml']);
    expect(checked.error, 'promtool (Debian package prometheus) must be installed').toBeUndefined();
    expect(checked.stdout + checked.stderr).toContain('SUCCESS');
    expect(checked.status).toBe(0);
  });

  it('pass their unit tests (alerts.test.yml): each fires when it should, with its French texts', () => {
    const tested = promtool(['test', 'rules', 'alerts.test.yml']);
    expect(tested.stdout + tested.stderr).toContain('SUCCESS');
    expect(tested.status).toBe(0);
  });

  it('fail those unit tests once a threshold moves (the tests can fail)', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'numos-alerts-'));
    try {
      cpSync(join(DIR, 'alerts.test.yml'), join(scratch, 'alerts.test.yml'));
      writeFileSync(
        join(scratch, 'alerts.yml'),
        readFileSync(join(DIR, 'alerts.yml'), 'utf8').replace('max(numos_outbox_pending) > 1000', 'max(numos_outbox_pending) > 5000'),
      );
      const tested = promtool(['test', 'rules', 'alerts.test.yml'], undefined, scratch);
      expect(tested.status).not.toBe(0);
      expect(tested.stdout + tested.stderr).toContain('NumosFileEmailsSaturee');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('alert where /ready turns degraded: its default thresholds', () => {
    const { readiness } = loadConfig({ NODE_ENV: 'test' });
    expect(rule('NumosFileEmailsSaturee').expr).toBe(`max(numos_outbox_pending) > ${readiness.outboxBacklog}`);
    expect(readiness.outboxAgeSeconds).toBe(3_600);
    expect(rule('NumosEmailsEnRetard').annotations.description).toContain("au-delà d'une heure");
    expect(rule('NumosEmailsAbandonnes').annotations.description).toContain(`au-delà de ${readiness.failedEmails},`);
    expect(rule('NumosTachesEnEchec').expr).toContain(`> ${readiness.failedJobs}`);
  });
});

describe('the metrics the rules name', () => {
  let t: TestApp;
  let exposition: string;

  beforeAll(async () => {
    t = await startTestApp();
    // Some traffic, so that the counters and histograms with labels have series.
    expect((await t.gql('{ libraries { id } }')).errors).toBeUndefined();
    await t.gql('mutation($input: RegisterInput!) { register(input: $input) { errors { code } } }', { input: registerInput('pas-un-id', {}) });
    exposition = await t.app.metrics.registry.metrics();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('are all exposed by the server', () => {
    const exposed = new Set(
      [...exposition.matchAll(/^# TYPE (\w+) (\w+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!],
      ),
    );
    const named = new Set(rules.flatMap((r) => [...r.expr.matchAll(/\bnumos_\w+/g)].map(([name]) => name)));
    expect(named.size).toBeGreaterThan(8);
    expect([...named].filter((name) => !exposed.has(name))).toEqual([]);
  });

  it("pass promtool's lint of an exposition (ours; prom-client's nodejs_*_total gauges are its own)", () => {
    const checked = promtool(['check', 'metrics'], exposition);
    expect(checked.error).toBeUndefined();
    const problems = (checked.stdout + checked.stderr).split('\n').filter(Boolean);
    expect(problems.filter((line) => !/^nodejs_active_\w+_total non-counter metrics/.test(line))).toEqual([]);
  });
});
