/**
 * `vigil rules check` as users run it (the real bin/vigil.js): promtool-style errors with file and
 * line on stderr and exit 1, a summary per good file, directories, and the shipped defaults.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES_YAML } from '../src/alerting/defaults.ts';
import { runVigil, tempDir } from './helpers/vigil.ts';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

const GOOD = `groups:
  - name: rms
    rules:
      - alert: RmsHighErrorRate
        expr: 'from spans service.name=rms-api | stats count() as value by http.route | where value > 5'
      - alert: RmsDown
        monitor: { system: rms }
  - name: hosts
    rules:
      - alert: HostCpuHigh
        metric: { name: system.cpu.utilization, where: { cpu.mode: idle }, group_by: host.name }
        condition: 'value < 0.1'
`;

const BAD = `groups:
  - name: rms
    rules:
      - alert: Broken
        expr: 'from spans | stats count( by http.route'
        for: soon
      - record: job:errors:rate5m
        expr: 'sum(rate(errors[5m]))'
`;

describe('vigil rules check', () => {
  it('prints a summary per valid file and exits 0', async () => {
    const good = join(dir, 'good.yml');
    const defaults = join(dir, 'defaults.yml');
    writeFileSync(good, GOOD);
    writeFileSync(defaults, DEFAULT_RULES_YAML);
    const r = await runVigil(['rules', 'check', good, defaults]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${good}: 2 groups, 3 rules OK\n${defaults}: 4 groups, 13 rules OK\n`);
  });

  it('prints file:line: field: message for every problem and exits 1, still checking the other files', async () => {
    const good = join(dir, 'good2.yml');
    const bad = join(dir, 'bad.yml');
    writeFileSync(good, GOOD);
    writeFileSync(bad, BAD);
    const r = await runVigil(['rules', 'check', bad, good, join(dir, 'missing.yml')]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${bad}:5: groups\\[0\\]\\.rules\\[0\\]\\.expr: .*position \\d+`));
    expect(lines[1]).toMatch(new RegExp(`^${bad}:6: groups\\[0\\]\\.rules\\[0\\]\\.for: expected a duration`));
    expect(lines[2]).toBe(`${bad}:7: groups[0].rules[1].record: recording rules are not supported; use an alerting rule`);
    expect(lines[3]).toBe(`${join(dir, 'missing.yml')}: cannot read the file: no such file`);
    expect(lines).toHaveLength(4);
    expect(r.stdout).toBe(`${good}: 2 groups, 3 rules OK\n`);
  });

  it('checks the rule files of a directory', async () => {
    const rules = join(dir, 'rules');
    mkdirSync(rules);
    writeFileSync(join(rules, 'a.yml'), GOOD);
    writeFileSync(join(rules, 'b.yaml'), 'groups: []\n');
    writeFileSync(join(rules, '.hidden.yml'), BAD);
    writeFileSync(join(rules, 'notes.txt'), BAD);
    const r = await runVigil(['rules', 'check', rules]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join(rules, 'a.yml')}: 2 groups, 3 rules OK\n${join(rules, 'b.yaml')}: 0 groups, 0 rules OK\n`);
  });

  it('has help, and needs at least one file', async () => {
    const help = await runVigil(['rules', 'check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: vigil rules check \[options\] <files\.\.\.>/);
    expect((await runVigil(['rules', '--help'])).stdout).toMatch(/check/);
    const none = await runVigil(['rules', 'check']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing required argument/);
  });
});
