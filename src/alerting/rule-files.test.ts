/**
 * The rules directory on a real temporary directory: loading with broken files kept at their last
 * good version, the watcher, and writes back into the files that keep comments and order.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertingFileError } from '../api/contract.ts';
import { parseRuleFile } from './rule.ts';
import { RuleFileError, RuleFiles } from './rule-files.ts';
import type { RuleGroupSpec } from './types.ts';

const RMS = `# Rules of the RMS team.
groups:
  - name: rms   # the royalty system
    interval: 10s
    rules:
      # Pages the on-call engineer.
      - alert: RmsHighErrorRate
        expr: 'from spans service.name=rms-api kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by service.name, http.route | where n >= 20 and value > 0.05'
        range: 5m   # five minutes of spans
        for: 1m
        labels: { severity: critical, system: rms }   # routing
        annotations:
          summary: 'errors on {{ $labels.http_route }}'   # shown in Slack
          runbook_url: https://runbooks.example/rms
      - alert: HostCpuHigh
        metric: { name: system.cpu.utilization, agg: avg, where: { cpu.mode: idle }, group_by: host.name }
        range: 2m
        condition: 'value < 0.1'
  - name: monitors
    rules:
      - alert: MonitorDown
        monitor: { states: [down] }
`;

let dir: string;
let files: RuleFiles;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  files = new RuleFiles(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const ids = (groups: RuleGroupSpec[]) => groups.flatMap((g) => g.rules.map((r) => r.id));

function refused(fn: () => unknown): RuleFileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuleFileError) return err;
    throw err;
  }
  throw new Error('expected a RuleFileError');
}

describe('RuleFiles: loading', () => {
  it('loads *.yml and *.yaml in name order, skipping dot-files and other files', () => {
    writeFileSync(join(dir, 'rms.yml'), RMS);
    writeFileSync(join(dir, 'a.yaml'), "groups:\n  - name: a\n    rules:\n      - alert: A\n        monitor: {}\n");
    writeFileSync(join(dir, '.hidden.yml'), "groups:\n  - name: h\n    rules:\n      - alert: H\n        monitor: {}\n");
    writeFileSync(join(dir, 'notes.txt'), 'not rules');
    expect(ids(files.load())).toEqual(['a.yaml:a:A', 'rms.yml:rms:RmsHighErrorRate', 'rms.yml:rms:HostCpuHigh', 'rms.yml:monitors:MonitorDown']);
    expect(files.errors()).toEqual([]);
  });

  it('keeps a broken file at its last good version and reports its errors until it is fixed', () => {
    writeFileSync(join(dir, 'rms.yml'), RMS);
    files.load();
    writeFileSync(join(dir, 'rms.yml'), RMS.replace('for: 1m', 'for: soon'));
    expect(ids(files.load())).toEqual(['rms.yml:rms:RmsHighErrorRate', 'rms.yml:rms:HostCpuHigh', 'rms.yml:monitors:MonitorDown']);
    expect(files.errors()).toEqual([expect.objectContaining({ file: 'rms.yml', line: 10, field: 'groups[0].rules[0].for' })]);
    // Still broken on the next load: the error stays.
    expect(files.load()).toHaveLength(2);
    expect(files.errors()).toHaveLength(1);
    writeFileSync(join(dir, 'rms.yml'), RMS.replace('for: 1m', 'for: 2m'));
    expect(files.load()[0]!.rules[0]!.forMs).toBe(120_000);
    expect(files.errors()).toEqual([]);
  });

  it('a file broken from the start yields no rules, only errors; a deleted file takes its rules away', () => {
    writeFileSync(join(dir, 'bad.yml'), 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up\n');
    writeFileSync(join(dir, 'rms.yml'), RMS);
    expect(ids(files.load())).toHaveLength(3);
    expect(files.errors()).toEqual([expect.objectContaining({ file: 'bad.yml', line: 4, message: 'recording rules are not supported; use an alerting rule' })]);
    rmSync(join(dir, 'rms.yml'));
    expect(files.load()).toEqual([]);
  });

  it('answers no groups for a missing directory', () => {
    expect(new RuleFiles(join(dir, 'nope')).load()).toEqual([]);
  });

  it('calls the watcher on a change on disk', async () => {
    writeFileSync(join(dir, 'rms.yml'), RMS);
    files.load();
    const seen: [RuleGroupSpec[], AlertingFileError[]][] = [];
    const w = files.watch((g, e) => seen.push([g, e]));
    try {
      writeFileSync(join(dir, 'more.yml'), "groups:\n  - name: m\n    rules:\n      - alert: M\n        monitor: {}\n");
      const deadline = Date.now() + 5000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(ids(seen.at(-1)![0])).toContain('more.yml:m:M');
    } finally {
      w.close();
    }
  });
});

describe('RuleFiles: reading a rule', () => {
  beforeEach(() => {
    writeFileSync(join(dir, 'rms.yml'), RMS);
    files.load();
  });

  it('answers its keys as written, its YAML with comments, its group, interval, file and line', () => {
    const d = files.ruleDetail('rms.yml:rms:RmsHighErrorRate')!;
    expect(d).toMatchObject({ id: 'rms.yml:rms:RmsHighErrorRate', group: 'rms', interval: '10s', file: 'rms.yml', line: 7 });
    expect(d.rule).toEqual({
      alert: 'RmsHighErrorRate',
      expr: 'from spans service.name=rms-api kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by service.name, http.route | where n >= 20 and value > 0.05',
      range: '5m',
      for: '1m',
      labels: { severity: 'critical', system: 'rms' },
      annotations: { summary: 'errors on {{ $labels.http_route }}', runbook_url: 'https://runbooks.example/rms' },
    });
    expect(d.yaml).toContain('# five minutes of spans');
    expect(d.yaml).toContain('# shown in Slack');
    expect(d.yaml.startsWith('# Pages the on-call engineer.')).toBe(true);
    expect(files.ruleDetail('rms.yml:monitors:MonitorDown')).toMatchObject({ interval: '15s', rule: { alert: 'MonitorDown', monitor: { states: ['down'] } } });
    expect(files.ruleDetail('rms.yml:rms:Nope')).toBeUndefined();
  });

  it('exports one rule as a rule file that parses to the same rule', () => {
    const text = files.exportYaml('rms.yml:rms:HostCpuHigh');
    const parsed = parseRuleFile('export.yml', text);
    expect(parsed.errors).toEqual([]);
    expect(parsed.groups).toHaveLength(1);
    expect(parsed.groups[0]).toMatchObject({ name: 'rms', intervalMs: 10_000 });
    const [rule] = parsed.groups[0]!.rules;
    const original = files.groups()[0]!.rules[1]!;
    expect({ ...rule, id: '', position: null }).toEqual({ ...original, id: '', position: null });
    expect(() => files.exportYaml('nope')).toThrow(RuleFileError);
  });

  it('exports everything as one valid rule file, repeated group names made unique', () => {
    writeFileSync(join(dir, 'z.yml'), "groups:\n  - name: rms\n    rules:\n      - alert: Z\n        monitor: {}\n");
    files.load();
    const parsed = parseRuleFile('all.yml', files.exportYaml());
    expect(parsed.errors).toEqual([]);
    expect(parsed.groups.map((g) => g.name)).toEqual(['rms', 'monitors', 'rms (z.yml)']);
    expect(parsed.groups.flatMap((g) => g.rules.map((r) => r.name))).toEqual(['RmsHighErrorRate', 'HostCpuHigh', 'MonitorDown', 'Z']);
  });
});

describe('RuleFiles: writing', () => {
  let changes: RuleGroupSpec[][];
  let watcher: { close(): void };
  beforeEach(() => {
    writeFileSync(join(dir, 'rms.yml'), RMS);
    files.load();
    changes = [];
    watcher = files.watch((g) => changes.push(g));
  });
  afterEach(() => watcher.close());

  it('updates a rule key by key, keeping comments, order and quoting of what it does not touch', () => {
    const before = files.ruleDetail('rms.yml:rms:RmsHighErrorRate')!.rule;
    const d = files.updateRule('rms.yml:rms:RmsHighErrorRate', {
      ...before,
      for: '2m',
      labels: { severity: 'warning', system: 'rms' },
      annotations: undefined,
      keep_firing_for: '3m',
    });
    expect(d).toMatchObject({ id: 'rms.yml:rms:RmsHighErrorRate', rule: { for: '2m', keep_firing_for: '3m', labels: { severity: 'warning', system: 'rms' } } });
    expect(d.rule.annotations).toBeUndefined();
    const text = read('rms.yml');
    // Untouched: the file's comments, the quoted expr, the other rules.
    for (const kept of ['# Rules of the RMS team.', '# the royalty system', '# Pages the on-call engineer.', '# five minutes of spans', "expr: 'from spans service.name=rms-api", "condition: 'value < 0.1'", '# routing']) {
      expect(text).toContain(kept);
    }
    expect(text).toContain('for: 2m');
    expect(text).toContain('labels: { severity: warning, system: rms }');
    expect(text).not.toContain('runbook_url');
    // keep_firing_for is new: appended after the existing keys.
    expect(text.indexOf('keep_firing_for: 3m')).toBeGreaterThan(text.indexOf('labels: {'));
    expect(text.indexOf('keep_firing_for: 3m')).toBeLessThan(text.indexOf('- alert: HostCpuHigh'));
    // Loaded at once and handed to the listener, without waiting for the watcher.
    expect(files.groups()[0]!.rules[0]!.forMs).toBe(120_000);
    expect(changes).toHaveLength(1);
    expect(changes[0]![0]!.rules[0]!.keepFiringForMs).toBe(180_000);
  });

  it('leaves every other line of the file byte for byte, in the file\'s own indentation', () => {
    const four = `groups:
    -   name: g     # four spaces
        rules:
            # first
            -   alert: A
                monitor: {states: [down]}     # flow, no padding
            # second
            -   alert: B
                expr: "from spans | stats count() as value"
                condition: value > 1
`;
    writeFileSync(join(dir, 'four.yml'), four);
    files.load();
    files.updateRule('four.yml:g:B', { alert: 'B', expr: 'from spans | stats count() as value', condition: 'value > 2' });
    expect(read('four.yml')).toBe(four.replace('condition: value > 1', 'condition: value > 2'));
    files.createRule({ file: 'four.yml', group: 'g', rule: { alert: 'C', monitor: { id: 'x' } } });
    expect(read('four.yml')).toBe(`${four.replace('condition: value > 1', 'condition: value > 2')}            - alert: C\n              monitor:\n                id: x\n`);
    expect(files.ruleDetail('four.yml:g:C')!.rule).toEqual({ alert: 'C', monitor: { id: 'x' } });
    // A deleted rule takes its comment lines with it.
    files.deleteRule('four.yml:g:A');
    expect(read('four.yml')).not.toContain('# first');
    expect(read('four.yml')).toContain('    -   name: g     # four spaces\n        rules:\n            # second\n            -   alert: B\n');
    expect(files.groups()[0]!.rules.map((r) => r.name)).toEqual(['B', 'C']);
  });

  it('answers a rule\'s YAML exactly as written, with the comments above it', () => {
    const d = files.ruleDetail('rms.yml:rms:RmsHighErrorRate')!;
    expect(d.yaml.split('\n').slice(0, 4)).toEqual([
      '# Pages the on-call engineer.',
      'alert: RmsHighErrorRate',
      expect.stringMatching(/^expr: 'from spans/),
      'range: 5m   # five minutes of spans',
    ]);
  });

  it('changes nothing else when a rule is saved unchanged', () => {
    const d = files.ruleDetail('rms.yml:rms:HostCpuHigh')!;
    files.updateRule(d.id, d.rule);
    expect(read('rms.yml')).toBe(RMS);
  });

  it('renames a rule: the id follows the name', () => {
    const d = files.ruleDetail('rms.yml:rms:HostCpuHigh')!;
    const next = files.updateRule(d.id, { ...d.rule, alert: 'HostCpuSaturated' });
    expect(next.id).toBe('rms.yml:rms:HostCpuSaturated');
    expect(files.ruleDetail('rms.yml:rms:HostCpuHigh')).toBeUndefined();
    expect(read('rms.yml')).toContain('- alert: HostCpuSaturated\n        metric: { name: system.cpu.utilization');
  });

  it('switches a rule between sources', () => {
    const d = files.ruleDetail('rms.yml:rms:HostCpuHigh')!;
    const next = files.updateRule(d.id, { alert: 'HostCpuHigh', expr: 'from spans | stats count() as value by host.name', condition: 'value > 10', range: '2m' });
    expect(next.rule).toEqual({ alert: 'HostCpuHigh', range: '2m', condition: 'value > 10', expr: 'from spans | stats count() as value by host.name' });
    expect(files.groups()[0]!.rules[1]!.source).toMatchObject({ kind: 'query' });
  });

  it('refuses an update that would break the file, with the errors, and leaves the file alone', () => {
    const d = files.ruleDetail('rms.yml:rms:HostCpuHigh')!;
    const e = refused(() => files.updateRule(d.id, { ...d.rule, for: 'soon' }));
    expect(e.status).toBe(400);
    expect(e.errors).toEqual([expect.objectContaining({ file: 'rms.yml', field: 'groups[0].rules[1].for' })]);
    expect(e.message).toMatch(/groups\[0\]\.rules\[1\]\.for: expected a duration/);
    const two = refused(() => files.updateRule(d.id, { ...d.rule, expr: 'from spans | stats count()' }));
    expect(two.message).toMatch(/exactly one of expr, metric, monitor/);
    expect(refused(() => files.updateRule(d.id, { ...d.rule, condition: 'valeu < 1' })).message).toMatch(/unknown field 'valeu'/);
    expect(read('rms.yml')).toBe(RMS);
    expect(changes).toHaveLength(0);
  });

  it('answers 404 for an unknown rule and 409 while its file on disk is broken', () => {
    expect(refused(() => files.updateRule('rms.yml:rms:Nope', { alert: 'Nope', monitor: {} })).status).toBe(404);
    expect(refused(() => files.deleteRule('rms.yml:rms:Nope')).status).toBe(404);
    writeFileSync(join(dir, 'rms.yml'), RMS.replace('for: 1m', 'for: soon'));
    const e = refused(() => files.updateRule('rms.yml:rms:HostCpuHigh', { alert: 'HostCpuHigh', monitor: {} }));
    expect(e.status).toBe(409);
    expect(e.errors[0]).toMatchObject({ line: 10 });
  });

  it('edits the rule where it is now, when the file changed on disk since the last load', () => {
    writeFileSync(join(dir, 'rms.yml'), RMS.replace('    rules:\n      # Pages', '    rules:\n      - alert: New\n        monitor: {}\n      # Pages'));
    files.updateRule('rms.yml:rms:HostCpuHigh', { alert: 'HostCpuHigh', monitor: { states: ['down', 'degraded'] } });
    const rules = files.groups()[0]!.rules;
    expect(rules.map((r) => r.name)).toEqual(['New', 'RmsHighErrorRate', 'HostCpuHigh']);
    expect(rules[2]!.source).toEqual({ kind: 'monitor', monitor: { states: ['down', 'degraded'] } });
  });

  it('creates a rule in ui.yml by default, then appends to its group', () => {
    const a = files.createRule({ rule: { alert: 'Checkout', monitor: { id: 'checkout-flow' } } });
    expect(a).toMatchObject({ id: 'ui.yml:ui:Checkout', file: 'ui.yml', group: 'ui', interval: '15s', line: 7 });
    const b = files.createRule({ rule: { alert: 'Errors', expr: 'from spans status=error', condition: 'value > 10', labels: { severity: 'page' }, for: '1m' } });
    expect(b.id).toBe('ui.yml:ui:Errors');
    expect(read('ui.yml')).toBe(
      '# Alerting rules (Prometheus rule-file format; see docs/alerting-rules.md).\n# Edited by hand or in Vigil: comments and order are kept.\n\ngroups:\n  - name: ui\n    rules:\n      - alert: Checkout\n        monitor:\n          id: checkout-flow\n      - alert: Errors\n        expr: from spans status=error\n        for: 1m\n        condition: value > 10\n        labels:\n          severity: page\n',
    );
    expect(ids(files.groups())).toEqual(expect.arrayContaining(['ui.yml:ui:Checkout', 'ui.yml:ui:Errors']));
    expect(changes).toHaveLength(2);
  });

  it('creates a group with its interval in an existing file, keeping the file as it was', () => {
    const d = files.createRule({ rule: { alert: 'Slow', expr: 'from spans | stats p95(duration_ms) as value', condition: 'value > 5000' }, file: 'rms.yml', group: 'latency', interval: '30s' });
    expect(d).toMatchObject({ id: 'rms.yml:latency:Slow', interval: '30s' });
    expect(read('rms.yml').startsWith(RMS)).toBe(true);
    // An interval asked for an existing group is the group's new interval.
    files.createRule({ rule: { alert: 'Slow2', monitor: {} }, file: 'rms.yml', group: 'latency', interval: '1m' });
    expect(files.ruleDetail('rms.yml:latency:Slow')!.interval).toBe('1m');
  });

  it('gives a second rule of the same name in a group its own id', () => {
    files.createRule({ rule: { alert: 'Dup', monitor: {} } });
    const second = files.createRule({ rule: { alert: 'Dup', monitor: { states: ['degraded'] } } });
    expect(second.id).toBe('ui.yml:ui:Dup#2');
    expect(second.rule.monitor).toEqual({ states: ['degraded'] });
  });

  it('refuses file names outside the directory and invalid new rules', () => {
    for (const file of ['../x.yml', 'a/b.yml', '.hidden.yml', 'x.json', '/etc/x.yml', '']) {
      expect(refused(() => files.createRule({ rule: { alert: 'X', monitor: {} }, file })).status, file).toBe(400);
    }
    expect(refused(() => files.createRule({ rule: { alert: 'X' } })).message).toMatch(/one of expr, metric or monitor/);
    expect(refused(() => files.createRule({ rule: { alert: 'X', monitor: {} }, interval: '100ms' })).message).toMatch(/at least 1s/);
    expect(existsSync(join(dir, 'ui.yml'))).toBe(false);
    expect(existsSync(join(dir, '..', 'x.yml'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['rms.yml']);
  });

  it('deletes a rule, keeping the rest of the file', () => {
    files.deleteRule('rms.yml:rms:RmsHighErrorRate');
    expect(ids(files.groups())).toEqual(['rms.yml:rms:HostCpuHigh', 'rms.yml:monitors:MonitorDown']);
    const text = read('rms.yml');
    expect(text).toContain('# Rules of the RMS team.');
    expect(text).toContain("condition: 'value < 0.1'");
    expect(text).not.toContain('RmsHighErrorRate');
    expect(changes).toHaveLength(1);
  });

  it('a write is not announced a second time by the watcher', async () => {
    files.createRule({ rule: { alert: 'Once', monitor: {} } });
    await new Promise((r) => setTimeout(r, 2600));
    expect(changes).toHaveLength(1);
  });
});
