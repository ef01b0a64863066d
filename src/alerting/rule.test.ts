import { describe, expect, it } from 'vitest';
import { parseRuleFile, splitCondition } from './rule.ts';

const ISSUE_EXAMPLE = `groups:
  - name: rms
    interval: 10s                  # evaluation interval of the group
    rules:
      - alert: RmsHighErrorRate
        expr: 'from spans service.name=rms-api kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by service.name, http.route | where n >= 20 and value > 0.05'
        range: 5m
        for: 1m
        keep_firing_for: 2m
        resolve_when: 'value < 0.02'
        labels: { severity: critical, system: rms }
        annotations: { summary: 'errors on {{ $labels.http_route }}', runbook_url: 'https://runbooks.example/rms' }
      - alert: HostCpuHigh
        metric: { name: system.cpu.utilization, agg: avg, where: { cpu.mode: idle }, group_by: host.name }
        range: 2m
        condition: 'value < 0.1'
      - alert: DiskFullSoon
        metric: { name: system.filesystem.utilization, agg: predict_linear, horizon: 24h, group_by: system.filesystem.mountpoint }
        range: 6h
        condition: 'value >= 1'
      - alert: MonitorDown
        monitor: { states: [down] }
  - name: lms
    rules:
      - alert: LmsForbidden
        expr: 'from spans service.name=lms | eval c = if(http.response.status_code = 403, 1, 0) | stats avg(c) as value count() as n by http.route'
        condition: 'n >= 20 and value > baseline + 0.15 and zscore > 4'
        baseline: { windows: 6, days: 7 }
      - alert: LmsForbidden
        monitor: { system: lms, states: [down, degraded] }
`;

describe('parseRuleFile: the issue example', () => {
  const { groups, errors } = parseRuleFile('rms.yml', ISSUE_EXAMPLE);

  it('has no errors and every group', () => {
    expect(errors).toEqual([]);
    expect(groups.map((g) => [g.name, g.intervalMs, g.rules.length])).toEqual([
      ['rms', 10_000, 4],
      ['lms', 15_000, 2],
    ]);
  });

  it('splits a final where after stats into the condition, and runs the query without it', () => {
    const r = groups[0]!.rules[0]!;
    expect(r.id).toBe('rms.yml:rms:RmsHighErrorRate');
    expect(r.source).toEqual({
      kind: 'query',
      expr: 'from spans service.name=rms-api kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by service.name, http.route | where n >= 20 and value > 0.05',
      query: 'from spans service.name=rms-api kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by service.name, http.route',
    });
    expect(r.condition).toBe('n >= 20 and value > 0.05');
    expect(r.resolveWhen).toBe('value < 0.02');
    expect([r.rangeMs, r.forMs, r.keepFiringForMs]).toEqual([300_000, 60_000, 120_000]);
    expect(r.labels).toEqual({ severity: 'critical', system: 'rms' });
    expect(r.annotations.summary).toBe('errors on {{ $labels.http_route }}');
    expect(r.position).toEqual({ file: 'rms.yml', groupIndex: 0, ruleIndex: 0, line: 5 });
  });

  it('reads metric and monitor sources with their defaults', () => {
    const [, cpu, disk, mon] = groups[0]!.rules;
    expect(cpu!.source).toEqual({ kind: 'metric', metric: { name: 'system.cpu.utilization', agg: 'avg', where: { 'cpu.mode': 'idle' }, groupBy: 'host.name' } });
    expect(cpu!.rangeMs).toBe(120_000);
    expect(cpu!.condition).toBe('value < 0.1');
    expect(disk!.source).toEqual({ kind: 'metric', metric: { name: 'system.filesystem.utilization', agg: 'predict_linear', groupBy: 'system.filesystem.mountpoint', horizonMs: 86_400_000 } });
    expect(mon!.source).toEqual({ kind: 'monitor', monitor: { states: ['down'] } });
    expect(mon!.condition).toBeNull();
    expect([mon!.rangeMs, mon!.forMs, mon!.keepFiringForMs]).toEqual([300_000, 0, 0]);
  });

  it('gives duplicate alert names in a group distinct ids, and reads baselines', () => {
    const [a, b] = groups[1]!.rules;
    expect([a!.id, b!.id]).toEqual(['rms.yml:lms:LmsForbidden', 'rms.yml:lms:LmsForbidden#2']);
    expect(a!.baseline).toEqual({ windows: 6, days: 7, fillMissing: false });
    // An explicit condition leaves the expr whole.
    expect(a!.source).toMatchObject({ kind: 'query', query: a!.source.kind === 'query' ? a!.source.expr : '' });
    expect(b!.source).toEqual({ kind: 'monitor', monitor: { system: 'lms', states: ['down', 'degraded'] } });
    expect(b!.position).toMatchObject({ groupIndex: 1, ruleIndex: 1, line: 29 });
  });
});

describe('parseRuleFile: condition split', () => {
  const one = (expr: string, extra = '') => parseRuleFile('f.yml', `groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: '${expr}'\n${extra}`);
  it.each([
    // [expr, query, condition]
    ['from spans | stats count() as value by service.name | where value > 5', 'from spans | stats count() as value by service.name', 'value > 5'],
    // A where over raw events filters them: it stays in the query (the rule counts what it matches).
    ['from logs | where severity_number >= 17', 'from logs | where severity_number >= 17', null],
    // Not last: every row the query answers fires.
    ['from spans | stats count() as value by service.name | where value > 5 | sort -value', 'from spans | stats count() as value by service.name | where value > 5 | sort -value', null],
    // A | inside a string of the where does not confuse the split.
    ['from spans | stats count() as value by http.route | where http.route != "/a|b" and value > 1', 'from spans | stats count() as value by http.route', 'http.route != "/a|b" and value > 1'],
    ['from spans | stats count() as value | WHERE value>1', 'from spans | stats count() as value', 'value>1'],
  ])('%s', (expr, query, condition) => {
    const { groups, errors } = one(expr);
    expect(errors).toEqual([]);
    const r = groups[0]!.rules[0]!;
    expect(r.source).toEqual({ kind: 'query', expr, query });
    expect(r.condition).toBe(condition);
  });

  it('keeps the where in the query when a condition is given', () => {
    const { groups } = one('from spans | stats count() as value by service.name | where value > 5', "        condition: 'value > 10'\n");
    expect(groups[0]!.rules[0]!.source).toMatchObject({ query: 'from spans | stats count() as value by service.name | where value > 5' });
    expect(groups[0]!.rules[0]!.condition).toBe('value > 10');
  });
});

describe('parseRuleFile: errors name file, line and field', () => {
  const rule = (body: string) => `groups:\n  - name: g\n    rules:\n      - alert: A\n${body}`;
  it.each([
    ['no source', rule('        for: 1m\n'), 4, 'groups[0].rules[0]', /one of expr, metric or monitor/],
    ['two sources', rule("        expr: 'from spans | stats count()'\n        monitor: {}\n"), 6, 'groups[0].rules[0].monitor', /not expr and monitor/],
    ['query syntax', rule("        expr: 'from logs | stats count( as value'\n"), 5, 'groups[0].rules[0].expr', /position \d+/],
    ['timechart', rule("        expr: 'from spans | timechart count()'\n"), 5, 'groups[0].rules[0].expr', /timechart/],
    ['bad duration', rule("        expr: 'from spans | stats count()'\n        for: 5 minutes\n"), 6, 'groups[0].rules[0].for', /expected a duration/],
    ['bare number', rule("        expr: 'from spans | stats count()'\n        range: 300\n"), 6, 'groups[0].rules[0].range', /expected a duration/],
    ['unknown key', rule("        expr: 'from spans | stats count()'\n        severity: page\n"), 6, 'groups[0].rules[0].severity', /unknown key "severity"/],
    ['recording rule', 'groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum(up)\n', 4, 'groups[0].rules[0].record', /recording rules are not supported; use an alerting rule/],
    ['condition syntax', rule("        expr: 'from spans | stats count() as value'\n        condition: 'value >'\n"), 6, 'groups[0].rules[0].condition', /position/],
    ['condition unknown function', rule("        expr: 'from spans | stats count() as value'\n        condition: 'median(value) > 1'\n"), 6, 'groups[0].rules[0].condition', /median/],
    ['condition unknown field', rule("        expr: 'from spans | stats count() as value by service.name'\n        condition: 'vale > 1'\n"), 6, 'groups[0].rules[0].condition', /vale.*position 0 of the condition/],
    ['split where unknown field', rule("        expr: 'from spans | stats count() as value | where baseline > 1'\n"), 5, 'groups[0].rules[0].expr', /baseline/],
    ['resolve_when field', rule("        expr: 'from spans | stats count() as value | where value > 1'\n        resolve_when: 'valu < 1'\n"), 6, 'groups[0].rules[0].resolve_when', /valu/],
    ['resolve_when alone', rule('        monitor: {}\n        resolve_when: value < 1\n'), 6, 'groups[0].rules[0].resolve_when', /needs a condition/],
    ['agg', rule('        metric: { name: m, agg: median }\n'), 5, 'groups[0].rules[0].metric.agg', /expected one of avg/],
    ['horizon without predict_linear', rule('        metric: { name: m, horizon: 1h }\n'), 5, 'groups[0].rules[0].metric.horizon', /only with agg: predict_linear/],
    ['predict_linear without horizon', rule('        metric: { name: m, agg: predict_linear }\n'), 5, 'groups[0].rules[0].metric.horizon', /required/],
    ['metric name', rule('        metric: { agg: avg }\n'), 5, 'groups[0].rules[0].metric.name', /required/],
    ['monitor states', rule('        monitor: { states: [up] }\n'), 5, 'groups[0].rules[0].monitor.states', /down and\/or degraded/],
    ['baseline windows', rule("        expr: 'from spans | stats count() as value'\n        baseline: { windows: 0 }\n"), 6, 'groups[0].rules[0].baseline.windows', /1 to 100/],
    ['baseline days', rule("        expr: 'from spans | stats count() as value'\n        baseline: { days: 29 }\n"), 6, 'groups[0].rules[0].baseline.days', /0 to 28/],
    ['baseline on a monitor', rule('        monitor: { states: [down] }\n        baseline: {}\n'), 6, 'groups[0].rules[0].baseline', /query or metric rule/],
    ['label name', rule("        expr: 'from spans | stats count()'\n        labels: { service.name: x }\n"), 6, 'groups[0].rules[0].labels.service.name', /invalid name/],
    ['interval', 'groups:\n  - name: g\n    interval: 500ms\n    rules: []\n', 3, 'groups[0].interval', /at least 1s/],
    ['group name twice', 'groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n', 4, 'groups[1].name', /used twice/],
    ['group without name', 'groups:\n  - rules: []\n', 2, 'groups[0].name', /required/],
    ['group limit', 'groups:\n  - name: g\n    limit: 10\n    rules: []\n', 3, 'groups[0].limit', /not supported/],
    ['top level', 'rules: []\n', 1, 'rules', /unknown key "rules"/],
    ['YAML syntax', 'groups:\n  - name: g\n    rules: [\n', 4, null, /./],
    ['duplicate key', rule("        expr: 'from spans | stats count()'\n        for: 1m\n        for: 2m\n"), 7, null, /unique|duplicate/i],
  ])('%s', (_name, text, line, field, message) => {
    const { errors } = parseRuleFile('bad.yml', text);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ file: 'bad.yml', line, field });
    expect(errors[0]!.message).toMatch(message);
  });

  it('lists every problem of a file in one pass', () => {
    const { errors } = parseRuleFile('bad.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        for: x\n      - alert: B\n        expr: "from spans | stats count("\n');
    expect(errors.map((e) => e.line)).toEqual([4, 5, 7]);
  });

  it('reads an empty file as no groups', () => {
    expect(parseRuleFile('e.yml', '# nothing yet\n')).toEqual({ groups: [], errors: [] });
    expect(parseRuleFile('e.yml', 'groups: []\n')).toEqual({ groups: [], errors: [] });
  });

  it('adds group labels to each rule, the rule winning', () => {
    const { groups, errors } = parseRuleFile('l.yml', "groups:\n  - name: g\n    labels: { team: a, severity: info }\n    rules:\n      - alert: A\n        expr: 'from spans | stats count()'\n        labels: { severity: page }\n");
    expect(errors).toEqual([]);
    expect(groups[0]!.rules[0]!.labels).toEqual({ team: 'a', severity: 'page' });
  });

  it('accepts for: 0, label values written as numbers, and percentiles such as p99.9', () => {
    const { groups, errors } = parseRuleFile('n.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        metric: { name: http.server.request.duration, agg: p99.9 }\n        for: 0\n        labels: { priority: 1 }\n');
    expect(errors).toEqual([]);
    expect(groups[0]!.rules[0]).toMatchObject({ forMs: 0, labels: { priority: '1' }, source: { metric: { agg: 'p99.9' } } });
  });

  it('lets conditions of baseline rules read the baseline fields', () => {
    const { errors } = parseRuleFile('b.yml', "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: 'from spans | stats p95(duration_ms) as value count() as n by service.name'\n        condition: 'n >= 20 and value > 3 * baseline and zscore > 4 and baseline_samples > 2 and baseline_mad >= 0'\n        baseline: { windows: 12, days: 7 }\n");
    expect(errors).toEqual([]);
    const without = parseRuleFile('b.yml', "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: 'from spans | stats p95(duration_ms) as value by service.name'\n        condition: 'value > 3 * baseline'\n");
    expect(without.errors[0]).toMatchObject({ field: 'groups[0].rules[0].condition' });
  });

  it('lets a condition on a raw listing read its count as value', () => {
    const { groups, errors } = parseRuleFile('c.yml', "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: 'from logs severity>=ERROR'\n        condition: 'value > 100'\n");
    expect(errors).toEqual([]);
    expect(groups[0]!.rules[0]!.condition).toBe('value > 100');
  });
});

describe('parseRuleFile: more checks', () => {
  const rule = (body: string) => `groups:\n  - name: g\n    rules:\n      - alert: A\n${body}`;
  it.each([
    ['metric condition field', rule('        metric: { name: m, group_by: host.name }\n        condition: host.nme = "a"\n'), 6, 'groups[0].rules[0].condition', /unknown field 'host.nme'.*value, count, points, host.name/],
    ['monitor condition field', rule('        monitor: {}\n        condition: status = "down"\n'), 6, 'groups[0].rules[0].condition', /unknown field 'status'.*state/],
    ['baseline field without baseline', rule("        expr: 'from spans | stats count() as value'\n        condition: value > 2 * baseline\n"), 6, 'groups[0].rules[0].condition', /add baseline:/],
    ['split where error points into the expr', rule("        expr: 'from spans | stats count() as value | where value > foo(1)'\n"), 5, 'groups[0].rules[0].expr', /but found 'foo' at position 52$/],
    ['planner error', rule("        expr: 'from spans kind=sever | stats count()'\n"), 5, 'groups[0].rules[0].expr', /sever/],
    ['unknown metric key', rule('        metric: { name: m, step: 1m }\n'), 5, 'groups[0].rules[0].metric.step', /unknown key "step"/],
    ['annotation name', rule("        monitor: {}\n        annotations: { 'run book': x }\n"), 6, 'groups[0].rules[0].annotations.run book', /invalid name/],
    ['empty alert', rule('        monitor: {}\n').replace('alert: A', "alert: ''"), 4, 'groups[0].rules[0].alert', /alert name/],
    ['query_offset', 'groups:\n  - name: g\n    query_offset: 1m\n    rules: []\n', 3, 'groups[0].query_offset', /not supported/],
    ['rules not a list', 'groups:\n  - name: g\n    rules: { a: 1 }\n', 3, 'groups[0].rules', /list of rules/],
    ['groups not a list', 'groups: x\n', 1, 'groups', /list of groups/],
    ['range 0', rule("        monitor: {}\n        range: 0s\n"), 6, 'groups[0].rules[0].range', /at least 1s/],
  ])('%s', (_name, text, line, field, message) => {
    const { errors, groups } = parseRuleFile('bad.yml', text);
    expect(groups).toEqual([]);
    expect(errors[0]).toMatchObject({ file: 'bad.yml', line, field });
    expect(errors[0]!.message).toMatch(message);
  });

  it('reads monitor: {} as every monitor down, and alert names written as numbers as text', () => {
    const { groups, errors } = parseRuleFile('m.yml', 'groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: 500\n        monitor: {}\n        for: 0s\n');
    expect(errors).toEqual([]);
    expect(groups[0]).toMatchObject({ intervalMs: 1000, rules: [{ id: 'm.yml:g:500', name: '500', source: { kind: 'monitor', monitor: { states: ['down'] } }, forMs: 0 }] });
  });

  it('lets a baseline rule compare with baseline in the expr\'s final where', () => {
    const { groups, errors } = parseRuleFile('b.yml', "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: 'from spans | stats count() as value by service.name | where value = 0 and baseline >= 10'\n        baseline: { windows: 6, fill_missing: true }\n");
    expect(errors).toEqual([]);
    expect(groups[0]!.rules[0]).toMatchObject({ condition: 'value = 0 and baseline >= 10', baseline: { windows: 6, days: 0, fillMissing: true }, source: { query: 'from spans | stats count() as value by service.name' } });
  });
});

describe('splitCondition', () => {
  it('answers where the condition starts in the expr', () => {
    const expr = 'from spans | stats count() as value |   where   value > 1 ';
    const s = splitCondition(expr);
    expect(s).toEqual({ query: 'from spans | stats count() as value', condition: 'value > 1', conditionOffset: 48 });
    expect(expr.slice(s.conditionOffset).startsWith('value > 1')).toBe(true);
  });
});
