import { describe, expect, it } from 'vitest';
import type { RuleInput } from '../../src/api/contract.ts';
import { draftOf, DraftError, emptyDraft, ruleErrors, ruleOf, ruleWriteErrors, type RuleDraft } from './rule-draft.ts';

const detail = (rule: RuleInput) => ({ rule, group: 'rms', file: 'rms.yml', interval: '10s' });
const fieldOf = (d: RuleDraft) => {
  try {
    ruleOf(d);
    return null;
  } catch (e) {
    return e instanceof DraftError ? e.field : 'not a DraftError';
  }
};

describe('rule drafts', () => {
  it.each<[string, RuleInput]>([
    [
      'a query rule with every option',
      {
        alert: 'RmsHighErrorRate',
        expr: 'from spans service.name=rms-api kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by http.route | where n >= 20 and value > 0.05',
        range: '5m',
        for: '1m',
        keep_firing_for: '2m',
        resolve_when: 'value < 0.03',
        baseline: { windows: 6, days: 7, fill_missing: true },
        labels: { severity: 'critical', system: 'rms' },
        annotations: { summary: 'Errors on {{ $labels.http_route }}', runbook_url: 'https://runbooks.example/rms' },
      },
    ],
    ['a metric rule', { alert: 'DiskFull', metric: { name: 'system.filesystem.utilization', agg: 'predict_linear', group_by: 'host.name', horizon: '24h', where: { mountpoint: '/' } }, condition: 'value > 1' }],
    ['a monitor rule on a system', { alert: 'SystemDown', monitor: { system: 'lms', states: ['down', 'degraded'] }, for: '0s' }],
    ['a monitor rule on one monitor', { alert: 'LoginDown', monitor: { id: 'lms-login', states: ['down'] } }],
  ])('round-trips %s unchanged', (_name, rule) => {
    expect(ruleOf(draftOf(detail(rule)))).toEqual(rule);
  });

  it('leaves empty inputs out and drops blank rows', () => {
    const d = { ...emptyDraft(), alert: 'X', expr: 'from spans | stats count() as value', range: '', for: '', labels: [{ name: '', value: '' }], annotations: [{ name: 'summary', value: '' }] };
    expect(ruleOf(d)).toEqual({ alert: 'X', expr: 'from spans | stats count() as value', annotations: { summary: '' } });
  });

  it('keeps a projection horizon only for predict_linear', () => {
    const d = { ...emptyDraft(), alert: 'X', kind: 'metric' as const, metricName: 'm', metricAgg: 'avg', metricHorizon: '1h' };
    expect(ruleOf(d).metric).toEqual({ name: 'm', agg: 'avg' });
  });

  it('names the field of what it can tell is wrong', () => {
    const base = { ...emptyDraft(), alert: 'X', expr: 'from spans | stats count() as value' };
    expect(fieldOf({ ...base, alert: '' })).toBe('alert');
    expect(fieldOf({ ...base, alert: 'High error rate' })).toBe('alert');
    expect(fieldOf({ ...base, expr: ' ' })).toBe('expr');
    expect(fieldOf({ ...base, for: '1 minute' })).toBe('for');
    expect(fieldOf({ ...base, keepFiringFor: '1.5m' })).toBe('keep_firing_for');
    expect(fieldOf({ ...base, labels: [{ name: 'service.name', value: 'x' }] })).toBe('labels');
    expect(fieldOf({ ...base, annotations: [{ name: 'a', value: '1' }, { name: 'a', value: '2' }] })).toBe('annotations');
    expect(fieldOf({ ...base, baseline: true, baselineDays: 'seven' })).toBe('baseline');
    expect(fieldOf({ ...base, kind: 'metric' })).toBe('metric.name');
    expect(fieldOf({ ...base, kind: 'metric', metricName: 'x', metricAgg: 'predict_linear' })).toBe('metric.horizon');
    expect(fieldOf({ ...base, kind: 'monitor' })).toBe('monitor');
    expect(fieldOf({ ...base, kind: 'monitor', monitorSystem: 'rms', monitorDown: false })).toBe('monitor.states');
    expect(fieldOf(base)).toBeNull();
  });

  it('puts server errors under their field, with or without file:line and the rule path', () => {
    expect(ruleErrors('ui.yml:12: for: expected a duration')).toEqual({ for: 'expected a duration' });
    expect(ruleErrors('groups[0].rules[2].metric.name: unknown metric; expr: expected a value at position 4')).toEqual({ 'metric.name': 'unknown metric', expr: 'expected a value at position 4' });
    expect(ruleErrors('a rule named X already exists in group ui')).toEqual({ _form: 'a rule named X already exists in group ui' });
  });

  it('puts the errors of a refused write under their field, the rest as file:line under the form', () => {
    const body = {
      error: '…',
      errors: [
        { file: 'ui.yml', line: 9, field: 'groups[0].rules[0].condition', message: "expected a value after '>'" },
        { file: 'ui.yml', line: 11, field: 'groups[0].rules[0].metric.where.host', message: 'expected a string' },
        { file: 'ui.yml', line: 7, field: 'groups[0].rules[0]', message: 'expected one of expr, metric or monitor' },
      ],
    };
    expect(ruleWriteErrors('…', body)).toEqual({
      condition: "expected a value after '>'",
      'metric.where': 'expected a string',
      _form: 'ui.yml:7: groups[0].rules[0]: expected one of expr, metric or monitor',
    });
    expect(ruleWriteErrors('for: bad', undefined)).toEqual({ for: 'bad' });
  });
});
