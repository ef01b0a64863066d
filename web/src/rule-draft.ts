/**
 * The alert rule editor's form state and its conversion to and from the rule as written in a rule
 * file (`RuleInput`, the API contract's). Empty inputs are left out, so a saved rule file only holds
 * what the user set; durations are checked here (Prometheus syntax) before the server sees them.
 */
import type { AlertingFileError, RuleDetail, RuleInput } from '../../src/api/contract.ts';
import { parsePromDuration } from './alert-format.ts';
import { errorsByField, type FieldErrors } from './form-errors.ts';

/** A name/value row of labels, annotations or metric attribute matchers. */
export interface Pair {
  name: string;
  value: string;
}

/** What a rule reads. */
export type SourceKind = 'query' | 'metric' | 'monitor';

/** Aggregations of a metric source (as `/api/v1/apm/metrics` takes them, plus the projection). */
export const METRIC_AGGS = ['avg', 'min', 'max', 'sum', 'count', 'rate', 'increase', 'p50', 'p90', 'p95', 'p99', 'predict_linear'] as const;

/** The editor's form state: every input as text. */
export interface RuleDraft {
  alert: string;
  kind: SourceKind;
  expr: string;
  metricName: string;
  metricAgg: string;
  metricService: string;
  metricWhere: Pair[];
  metricGroupBy: string;
  metricHorizon: string;
  monitorId: string;
  monitorSystem: string;
  monitorDown: boolean;
  monitorDegraded: boolean;
  range: string;
  for: string;
  keepFiringFor: string;
  condition: string;
  resolveWhen: string;
  baseline: boolean;
  baselineWindows: string;
  baselineDays: string;
  baselineFillMissing: boolean;
  labels: Pair[];
  annotations: Pair[];
  /** Where a new rule goes (ignored when editing). */
  group: string;
  file: string;
  interval: string;
}

/** A draft that cannot become a rule; `field` is the form field to show it under. */
export class DraftError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The form fields the server's errors may name, longest match first (`metric.name: …` → metric.name). */
export const RULE_FIELDS = [
  'alert', 'expr', 'metric', 'metric.name', 'metric.agg', 'metric.service', 'metric.where', 'metric.group_by', 'metric.horizon',
  'monitor', 'monitor.id', 'monitor.system', 'monitor.states', 'range', 'for', 'keep_firing_for', 'condition', 'resolve_when',
  'baseline', 'labels', 'annotations', 'group', 'file', 'interval',
] as const;

const pairs = (r: Record<string, string> | undefined): Pair[] => Object.entries(r ?? {}).map(([name, value]) => ({ name, value }));

/** An empty draft (a query rule with a summary annotation to fill in). */
export function emptyDraft(): RuleDraft {
  return {
    alert: '',
    kind: 'query',
    expr: '',
    metricName: '',
    metricAgg: 'avg',
    metricService: '',
    metricWhere: [],
    metricGroupBy: '',
    metricHorizon: '',
    monitorId: '',
    monitorSystem: '',
    monitorDown: true,
    monitorDegraded: false,
    range: '5m',
    for: '1m',
    keepFiringFor: '',
    condition: '',
    resolveWhen: '',
    baseline: false,
    baselineWindows: '',
    baselineDays: '',
    baselineFillMissing: false,
    labels: [{ name: 'severity', value: 'warning' }],
    annotations: [{ name: 'summary', value: '' }],
    group: 'ui',
    file: 'ui.yml',
    interval: '15s',
  };
}

/** The draft of a saved rule. */
export function draftOf(d: Pick<RuleDetail, 'rule' | 'group' | 'file' | 'interval'>): RuleDraft {
  const r = d.rule;
  const states = r.monitor?.states ?? ['down'];
  return {
    ...emptyDraft(),
    alert: r.alert,
    kind: r.metric ? 'metric' : r.monitor ? 'monitor' : 'query',
    expr: r.expr ?? '',
    metricName: r.metric?.name ?? '',
    metricAgg: r.metric?.agg ?? 'avg',
    metricService: r.metric?.service ?? '',
    metricWhere: pairs(r.metric?.where),
    metricGroupBy: r.metric?.group_by ?? '',
    metricHorizon: r.metric?.horizon ?? '',
    monitorId: r.monitor?.id ?? '',
    monitorSystem: r.monitor?.system ?? '',
    monitorDown: states.includes('down'),
    monitorDegraded: states.includes('degraded'),
    range: r.range ?? '',
    for: r.for ?? '',
    keepFiringFor: r.keep_firing_for ?? '',
    condition: r.condition ?? '',
    resolveWhen: r.resolve_when ?? '',
    baseline: !!r.baseline,
    baselineWindows: r.baseline?.windows === undefined ? '' : String(r.baseline.windows),
    baselineDays: r.baseline?.days === undefined ? '' : String(r.baseline.days),
    baselineFillMissing: !!r.baseline?.fill_missing,
    labels: pairs(r.labels),
    annotations: pairs(r.annotations),
    group: d.group,
    file: d.file,
    interval: d.interval,
  };
}

function duration(field: string, v: string): string | undefined {
  const s = v.trim();
  if (!s) return undefined;
  if (parsePromDuration(s) === null) throw new DraftError(field, `expected a duration such as 30s, 5m, 1h30m or 2d, not "${s}"`);
  return s;
}

function count(field: string, v: string): number | undefined {
  const s = v.trim();
  if (!s) return undefined;
  if (!/^\d+$/.test(s)) throw new DraftError(field, `expected a whole number, not "${s}"`);
  return Number(s);
}

function record(field: string, rows: Pair[], labelNames: boolean): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [i, r] of rows.entries()) {
    const name = r.name.trim();
    if (!name && !r.value.trim()) continue;
    if (!name) throw new DraftError(field, `row ${i + 1}: a name is needed`);
    // Rule labels become Prometheus labels: the same syntax Alertmanager's matchers read.
    if (labelNames && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new DraftError(field, `"${name}" is not a label name: use letters, digits and _ (not starting with a digit)`);
    if (name in out) throw new DraftError(field, `"${name}" is given twice`);
    out[name] = r.value;
  }
  return Object.keys(out).length ? out : undefined;
}

const opt = (v: string) => (v.trim() ? v.trim() : undefined);

/** The rule a draft describes; throws {@link DraftError} for what the form can tell is wrong. */
export function ruleOf(d: RuleDraft): RuleInput {
  const alert = d.alert.trim();
  if (!alert) throw new DraftError('alert', 'the alert needs a name');
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(alert)) throw new DraftError('alert', 'use letters, digits and _ (it becomes the alertname label)');
  const rule: RuleInput = { alert };
  if (d.kind === 'query') {
    if (!d.expr.trim()) throw new DraftError('expr', 'write the query whose rows become alerts');
    rule.expr = d.expr.trim();
  } else if (d.kind === 'metric') {
    if (!d.metricName.trim()) throw new DraftError('metric.name', 'choose a metric');
    rule.metric = { name: d.metricName.trim(), agg: opt(d.metricAgg), service: opt(d.metricService), where: record('metric.where', d.metricWhere, false), group_by: opt(d.metricGroupBy), horizon: duration('metric.horizon', d.metricHorizon) };
    if (d.metricAgg === 'predict_linear' && !rule.metric.horizon) throw new DraftError('metric.horizon', 'predict_linear needs how far ahead to project, e.g. 24h');
    if (d.metricAgg !== 'predict_linear') delete rule.metric.horizon;
    for (const k of Object.keys(rule.metric) as (keyof typeof rule.metric)[]) if (rule.metric[k] === undefined) delete rule.metric[k];
  } else {
    const states = [...(d.monitorDown ? (['down'] as const) : []), ...(d.monitorDegraded ? (['degraded'] as const) : [])];
    if (!states.length) throw new DraftError('monitor.states', 'choose down, degraded or both');
    if (!d.monitorId.trim() && !d.monitorSystem.trim()) throw new DraftError('monitor', 'choose a monitor or a system');
    rule.monitor = { ...(opt(d.monitorId) ? { id: d.monitorId.trim() } : { system: d.monitorSystem.trim() }), states };
  }
  const set = <K extends keyof RuleInput>(k: K, v: RuleInput[K] | undefined) => {
    if (v !== undefined) rule[k] = v;
  };
  set('range', duration('range', d.range));
  set('for', duration('for', d.for));
  set('keep_firing_for', duration('keep_firing_for', d.keepFiringFor));
  set('condition', opt(d.condition));
  set('resolve_when', opt(d.resolveWhen));
  if (d.baseline) {
    const b: NonNullable<RuleInput['baseline']> = {};
    const windows = count('baseline', d.baselineWindows);
    const days = count('baseline', d.baselineDays);
    if (windows !== undefined) b.windows = windows;
    if (days !== undefined) b.days = days;
    if (d.baselineFillMissing) b.fill_missing = true;
    rule.baseline = b;
  }
  set('labels', record('labels', d.labels, true));
  set('annotations', record('annotations', d.annotations, true));
  return rule;
}

/**
 * The errors of a refused write (`{error, errors: [{file, line, field, message}]}`) by form field: an
 * error on a field of the rule goes under it, anything else under the form as `file:line: message`.
 * Without `errors`, the message is split as {@link ruleErrors} does.
 */
export function ruleWriteErrors(message: string, body: unknown): FieldErrors {
  const list = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(list) || list.length === 0) return ruleErrors(message);
  const out: FieldErrors = {};
  const add = (k: string, t: string) => (out[k] = out[k] ? `${out[k]}; ${t}` : t);
  for (const e of list as AlertingFileError[]) {
    const field = (e.field ?? '').replace(/^(?:groups\[\d+\]\.)?rules\[\d+\]\.?/, '');
    const known = [...RULE_FIELDS].sort((a, b) => b.length - a.length).find((f) => field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`));
    if (known) add(known, e.message);
    else add('_form', `${e.line === null ? e.file : `${e.file}:${e.line}`}: ${e.field ? `${e.field}: ` : ''}${e.message}`);
  }
  return out;
}

/**
 * The server's message as errors by field. Rule errors may start with the file and line
 * (`ui.yml:12: for: …`) and name the rule's path in its file (`groups[0].rules[3].for`); both are
 * dropped to find the field, and what names no field stays whole for the form.
 */
export function ruleErrors(message: string): FieldErrors {
  const parts = message.split(/\n|; /).filter((p) => p.trim());
  const out: FieldErrors = {};
  for (const part of parts) {
    const bare = part.replace(/^\S+?:\d+:\s*/, '').replace(/^(?:groups\[\d+\]\.)?rules\[\d+\]\./, '').replace(/^rule\./, '');
    const byField = errorsByField(bare, RULE_FIELDS);
    if (byField._form !== undefined) {
      out._form = out._form ? `${out._form}; ${part}` : part;
      delete byField._form;
    }
    for (const [k, v] of Object.entries(byField)) out[k] = out[k] ? `${out[k]}; ${v}` : v;
  }
  return out;
}
