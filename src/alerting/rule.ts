/**
 * One alerting rule file: Prometheus's rule-file format (the shape Loki's ruler uses too) with Vigil's
 * additions, parsed into {@link RuleGroupSpec}s. Pure: text in, groups and errors out; every error names
 * the file, the line and the field (`rules.yml:12: groups[0].rules[1].for: expected a duration …`).
 *
 *   groups:
 *     - name: rms                  # unique in the file
 *       interval: 10s              # default 15s, at least 1s
 *       rules:
 *         - alert: RmsHighErrorRate
 *           expr: 'from spans … | stats avg(e) as value count() as n by service.name | where n >= 20 and value > 0.05'
 *           # or metric: {name, agg, service, where, group_by, horizon}  or monitor: {id, system, states}
 *           range: 5m  for: 1m  keep_firing_for: 2m  condition: …  resolve_when: …
 *           baseline: {windows: 12, days: 7, fill_missing: false}
 *           labels: {…}  annotations: {…}
 *
 * A query rule whose `expr` ends in `| where …` after an aggregation, and that has no `condition`,
 * gets that `where` as its condition and runs the query without it: the evaluator must see the rows
 * that fail it, or `resolve_when`, `keep_firing_for` and baselines could never tell "recovered" from
 * "no data".
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import type { AlertingFileError } from '../api/contract.ts';
import { QueryError } from '../query/errors.ts';
import { parseQuery } from '../query/parser.ts';
import { buildPlan } from '../query/planner.ts';
import { compileCondition, type Condition } from './condition.ts';
import { parsePromDuration } from './duration.ts';
import type { BaselineSpec, Labels, MetricSourceSpec, MonitorSourceSpec, RuleGroupSpec, RuleSourceSpec, RuleSpec } from './types.ts';

/** A problem in a rule file: `file:line: field: message`. */
export type FileError = AlertingFileError;

/** What one rule file yields; `groups` is empty whenever `errors` is not (a file is taken whole or not at all). */
export interface ParsedRuleFile {
  groups: RuleGroupSpec[];
  errors: FileError[];
}

/** Evaluation interval of a group without `interval`. */
export const DEFAULT_INTERVAL_MS = 15_000;
/** Window of a rule without `range`. */
export const DEFAULT_RANGE_MS = 5 * 60_000;
/** Aggregations of `metric:` rules (the metrics explorer's, plus `predict_linear`); any other percentile such as p99.9 too. */
export const METRIC_AGGS = ['avg', 'min', 'max', 'sum', 'count', 'rate', 'increase', 'p50', 'p75', 'p90', 'p95', 'p99', 'predict_linear'] as const;
const PERCENTILE = /^p\d{1,2}(\.\d+)?$/;
/** Fields the evaluator adds to each row of a rule with `baseline:` (baseline.ts). */
export const BASELINE_FIELDS = ['baseline', 'baseline_mad', 'zscore', 'baseline_samples'] as const;
/** Fields of a monitor rule's rows (sources.ts). */
const MONITOR_FIELDS = ['value', 'state', 'monitor', 'monitor_name', 'system'];
/** Keys a rule may have, in the order Vigil writes them. */
export const RULE_KEYS = ['alert', 'expr', 'metric', 'monitor', 'range', 'for', 'keep_firing_for', 'condition', 'resolve_when', 'baseline', 'labels', 'annotations'] as const;

const GROUP_KEYS = ['name', 'interval', 'labels', 'rules'];
/** Prometheus group keys Vigil knows but does not implement: named as such rather than as typos. */
const UNSUPPORTED_GROUP_KEYS = ['limit', 'query_offset'];
const METRIC_KEYS = ['name', 'agg', 'service', 'where', 'group_by', 'horizon'];
const MONITOR_KEYS = ['id', 'system', 'states'];
const BASELINE_KEYS = ['windows', 'days', 'fill_missing'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Commands after which a final `where` filters result rows (and so can become the condition). */
const AGGREGATING = new Set(['stats', 'top', 'rare', 'timechart']);

type Path = (string | number)[];

/** Formats a path as `groups[0].rules[1].expr`. */
function fieldPath(path: Path): string | null {
  if (path.length === 0) return null;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Parses one rule file's text; `file` is its name relative to the rules directory (it goes into ids and errors). */
export function parseRuleFile(file: string, text: string): ParsedRuleFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    return { groups: [], errors: doc.errors.map((e) => ({ file, line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line, field: null, message: e.message.split('\n')[0]! })) };
  }
  const r = new RuleFileReader(file, doc, lc);
  const groups = r.read();
  return r.errors.length ? { groups: [], errors: r.errors } : { groups, errors: [] };
}

/**
 * Splits a final `| where …` (after an aggregation) off a query: it becomes the condition, which starts
 * at `conditionOffset` in `expr`. Throws {@link QueryError} when `expr` does not parse.
 */
export function splitCondition(expr: string): { query: string; condition: string | null; conditionOffset: number } {
  const q = parseQuery(expr);
  const lastCmd = q.commands.at(-1);
  if (!lastCmd || lastCmd.type !== 'where' || !q.commands.slice(0, -1).some((c) => AGGREGATING.has(c.type))) return { query: expr, condition: null, conditionOffset: 0 };
  // The command's position is its name's; the pipe is the last one before it (pipes inside quotes come earlier).
  const pipe = expr.lastIndexOf('|', lastCmd.pos);
  const rest = expr.slice(lastCmd.pos + 'where'.length);
  const condition = rest.trim();
  return { query: expr.slice(0, pipe).trimEnd(), condition, conditionOffset: lastCmd.pos + 'where'.length + (rest.length - rest.trimStart().length) };
}

class RuleFileReader {
  readonly errors: FileError[] = [];

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lc: LineCounter,
  ) {}

  private lineOfNode(node: unknown): number | null {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.lc.linePos(range[0]).line : null;
  }

  private err(path: Path, node: unknown, message: string): void {
    this.errors.push({ file: this.file, line: this.lineOfNode(node), field: fieldPath(path), message });
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** A mapping's entries by key, reporting keys outside `allowed` (on the key's own line). */
  private entries(map: YAMLMap, path: Path, allowed: readonly string[], what: string): Map<string, { key: unknown; value: unknown }> {
    const out = new Map<string, { key: unknown; value: unknown }>();
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!allowed.includes(key)) {
        if (what === 'a group' && UNSUPPORTED_GROUP_KEYS.includes(key)) this.err([...path, key], pair.key, `"${key}" is not supported by Vigil; remove it`);
        else this.err([...path, key], pair.key, `unknown key "${key}" in ${what} (expected ${allowed.join(', ')})`);
        continue;
      }
      out.set(key, { key: pair.key, value: this.resolve(pair.value) });
    }
    return out;
  }

  read(): RuleGroupSpec[] {
    const root = this.resolve(this.doc.contents);
    // An empty file is a valid file without groups (as in Prometheus).
    if (root === null || root === undefined || (isScalar(root) && root.value === null)) return [];
    if (!isMap(root)) {
      this.err([], root, 'expected a mapping with key "groups"');
      return [];
    }
    const top = this.entries(root, [], ['groups'], 'a rule file');
    const groupsNode = top.get('groups')?.value;
    if (groupsNode === undefined || groupsNode === null || (isScalar(groupsNode) && groupsNode.value === null)) return [];
    if (!isSeq(groupsNode)) {
      this.err(['groups'], groupsNode, 'expected a list of groups');
      return [];
    }
    const groups: RuleGroupSpec[] = [];
    const names = new Map<string, number>();
    groupsNode.items.forEach((item, gi) => {
      const g = this.group(this.resolve(item), gi);
      if (!g) return;
      const first = names.get(g.name);
      if (first !== undefined) this.err(['groups', gi, 'name'], this.doc.getIn(['groups', gi, 'name'], true), `group name "${g.name}" is used twice in this file (also groups[${first}])`);
      else names.set(g.name, gi);
      groups.push(g);
    });
    return groups;
  }

  private group(node: unknown, gi: number): RuleGroupSpec | null {
    const path: Path = ['groups', gi];
    if (!isMap(node)) {
      this.err(path, node, 'expected a group: a mapping with name, interval and rules');
      return null;
    }
    const e = this.entries(node, path, GROUP_KEYS, 'a group');
    const before = this.errors.length;
    const name = this.string(e.get('name')?.value, [...path, 'name'], node, true);
    if (name !== null && name.trim() === '') this.err([...path, 'name'], e.get('name')?.value, 'expected a non-empty group name');
    const intervalEntry = e.get('interval');
    let intervalMs = DEFAULT_INTERVAL_MS;
    if (intervalEntry) {
      const ms = this.duration(intervalEntry.value, [...path, 'interval']);
      if (ms !== null && ms < 1000) this.err([...path, 'interval'], intervalEntry.value, 'expected an interval of at least 1s');
      else if (ms !== null) intervalMs = ms;
    }
    // Prometheus's group labels: added to every rule of the group, a rule's own label winning.
    const groupLabels = this.labelMap(e.get('labels')?.value, [...path, 'labels'], 'label');
    const rulesNode = e.get('rules')?.value;
    const rules: RuleSpec[] = [];
    if (rulesNode === undefined) this.err([...path, 'rules'], node, 'required: the list of rules of the group');
    else if (!(isScalar(rulesNode) && rulesNode.value === null) && !isSeq(rulesNode)) this.err([...path, 'rules'], rulesNode, 'expected a list of rules');
    if (name === null || this.errors.length > before) {
      // Still check the rules, so one run reports every problem of the file.
      if (isSeq(rulesNode)) rulesNode.items.forEach((item, ri) => this.rule(this.resolve(item), gi, ri, name ?? '', intervalMs, new Map()));
      return null;
    }
    const seen = new Map<string, number>();
    if (isSeq(rulesNode)) {
      rulesNode.items.forEach((item, ri) => {
        const r = this.rule(this.resolve(item), gi, ri, name, intervalMs, seen);
        if (r) rules.push({ ...r, labels: { ...groupLabels, ...r.labels } });
      });
    }
    return { name, file: this.file, intervalMs, rules };
  }

  private rule(node: unknown, gi: number, ri: number, group: string, intervalMs: number, seen: Map<string, number>): RuleSpec | null {
    const path: Path = ['groups', gi, 'rules', ri];
    if (!isMap(node)) {
      this.err(path, node, 'expected a rule: a mapping with alert and expr (or metric or monitor)');
      return null;
    }
    if (node.has('record')) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === 'record');
      this.err([...path, 'record'], pair?.key ?? node, 'recording rules are not supported; use an alerting rule');
      return null;
    }
    const before = this.errors.length;
    const e = this.entries(node, path, RULE_KEYS, 'a rule');
    const alertEntry = e.get('alert');
    const name = this.string(alertEntry?.value, [...path, 'alert'], node, true);
    if (name !== null && (name.trim() === '' || /[\r\n]/.test(name))) this.err([...path, 'alert'], alertEntry?.value, 'expected an alert name on one line');

    const kinds = (['expr', 'metric', 'monitor'] as const).filter((k) => e.has(k));
    let source: RuleSourceSpec | null = null;
    /** The fields the rule's rows carry (null: unknown, not checked). */
    let columns: string[] | null = null;
    let split: { text: string; offset: number } | null = null;
    if (kinds.length !== 1) {
      this.err(kinds.length ? [...path, kinds[1]!] : path, kinds.length ? e.get(kinds[1]!)!.key : node, kinds.length ? `expected exactly one of expr, metric, monitor, not ${kinds.join(' and ')}` : 'expected one of expr, metric or monitor');
    } else if (kinds[0] === 'expr') {
      const v = e.get('expr')!.value;
      const expr = this.string(v, [...path, 'expr'], node, true);
      if (expr !== null) {
        try {
          const parts = splitCondition(expr);
          const query = e.has('condition') || parts.condition === null ? expr : parts.query;
          if (parts.condition !== null && !e.has('condition')) split = { text: parts.condition, offset: parts.conditionOffset };
          // Planned now, so unknown fields, bad values and misplaced commands are load errors, not evaluation errors.
          const plan = buildPlan(query);
          if (plan.timechart) this.err([...path, 'expr'], v, 'a timechart answers one row per time bucket; alert on `stats … by …` instead');
          // A listing without aggregation is counted by the source: its one field is `value`.
          columns = plan.kind === 'events' ? ['value'] : plan.output.map((c) => c.name);
          source = { kind: 'query', expr, query };
        } catch (err) {
          if (!(err instanceof QueryError)) throw err;
          this.err([...path, 'expr'], v, err.message);
        }
      }
    } else if (kinds[0] === 'metric') {
      const metric = this.metric(e.get('metric')!.value, [...path, 'metric']);
      if (metric) {
        source = { kind: 'metric', metric };
        columns = ['value', 'count', 'points', ...(metric.groupBy !== undefined ? [metric.groupBy] : [])];
      }
    } else {
      const monitor = this.monitor(e.get('monitor')!.value, [...path, 'monitor']);
      if (monitor) {
        source = { kind: 'monitor', monitor };
        columns = MONITOR_FIELDS;
      }
    }
    if (columns !== null && e.has('baseline')) columns = [...columns, ...BASELINE_FIELDS];

    const dur = (key: string, def: number): number => {
      const entry = e.get(key);
      if (!entry) return def;
      return this.duration(entry.value, [...path, key]) ?? def;
    };
    const rangeMs = dur('range', DEFAULT_RANGE_MS);
    if (e.has('range') && rangeMs < 1000) this.err([...path, 'range'], e.get('range')!.value, 'expected a range of at least 1s');
    const forMs = dur('for', 0);
    const keepFiringForMs = dur('keep_firing_for', 0);

    const cond = (key: string): string | null => {
      const entry = e.get(key);
      if (!entry) return null;
      const text = this.string(entry.value, [...path, key], node, true);
      if (text === null) return null;
      try {
        const problem = unknownField(compileCondition(text), columns, e.has('baseline'));
        if (problem) this.err([...path, key], entry.value, `${problem.message} at position ${problem.position} of the condition`);
      } catch (err) {
        if (!(err instanceof QueryError)) throw err;
        this.err([...path, key], entry.value, `${err.detail} at position ${err.position} of the condition`);
      }
      return text;
    };
    let condition = cond('condition');
    const resolveWhen = cond('resolve_when');
    if (split !== null) {
      // The final where of the expr: errors point into the expr, where the user wrote it.
      const exprNode = e.get('expr')!.value;
      try {
        const problem = unknownField(compileCondition(split.text), columns, e.has('baseline'));
        if (problem) this.err([...path, 'expr'], exprNode, `${problem.message} at position ${split.offset + problem.position}`);
        condition = split.text;
      } catch (err) {
        if (!(err instanceof QueryError)) throw err;
        this.err([...path, 'expr'], exprNode, `${err.detail} at position ${split.offset + err.position}`);
      }
    }
    if (resolveWhen !== null && condition === null) {
      this.err([...path, 'resolve_when'], e.get('resolve_when')!.key, 'resolve_when needs a condition (without one every row fires, so nothing can recover early)');
    }

    let baseline: BaselineSpec | null = null;
    const baselineEntry = e.get('baseline');
    if (baselineEntry) {
      baseline = this.baseline(baselineEntry.value, [...path, 'baseline']);
      if (source && source.kind === 'monitor') this.err([...path, 'baseline'], baselineEntry.key, 'a baseline needs a query or metric rule (expr or metric)');
    }
    const labels = this.labelMap(e.get('labels')?.value, [...path, 'labels'], 'label');
    const annotations = this.labelMap(e.get('annotations')?.value, [...path, 'annotations'], 'annotation');

    if (name === null || source === null || this.errors.length > before) return null;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    const base = `${this.file}:${group}:${name}`;
    return {
      id: n === 1 ? base : `${base}#${n}`,
      name,
      group,
      intervalMs,
      source,
      rangeMs,
      forMs,
      keepFiringForMs,
      condition,
      resolveWhen,
      baseline,
      labels,
      annotations,
      position: { file: this.file, groupIndex: gi, ruleIndex: ri, line: this.lineOfNode(alertEntry?.key ?? node) },
    };
  }

  private metric(node: unknown, path: Path): MetricSourceSpec | null {
    if (!isMap(node)) {
      this.err(path, node, 'expected a mapping with name, agg, service, where, group_by, horizon');
      return null;
    }
    const before = this.errors.length;
    const e = this.entries(node, path, METRIC_KEYS, 'metric');
    const name = this.string(e.get('name')?.value, [...path, 'name'], node, true);
    const aggNode = e.get('agg')?.value;
    const agg = aggNode === undefined ? 'avg' : this.string(aggNode, [...path, 'agg'], node, true);
    if (agg !== null && !(METRIC_AGGS as readonly string[]).includes(agg) && !PERCENTILE.test(agg)) this.err([...path, 'agg'], aggNode, `expected one of ${METRIC_AGGS.join(', ')} (or another percentile such as p99.9) but found "${agg}"`);
    const service = e.has('service') ? this.string(e.get('service')!.value, [...path, 'service'], node, true) : null;
    const groupBy = e.has('group_by') ? this.string(e.get('group_by')!.value, [...path, 'group_by'], node, true) : null;
    const where = e.has('where') ? this.stringMap(e.get('where')!.value, [...path, 'where']) : null;
    let horizonMs: number | undefined;
    const horizonEntry = e.get('horizon');
    if (horizonEntry) {
      if (agg !== 'predict_linear') this.err([...path, 'horizon'], horizonEntry.key, 'horizon is allowed only with agg: predict_linear');
      const ms = this.duration(horizonEntry.value, [...path, 'horizon']);
      if (ms !== null) horizonMs = ms;
    } else if (agg === 'predict_linear') this.err([...path, 'horizon'], node, 'required with agg: predict_linear (how far ahead to project, e.g. 24h)');
    if (name === null || agg === null || this.errors.length > before) return null;
    const spec: MetricSourceSpec = { name, agg };
    if (service !== null) spec.service = service;
    if (where !== null) spec.where = where;
    if (groupBy !== null) spec.groupBy = groupBy;
    if (horizonMs !== undefined) spec.horizonMs = horizonMs;
    return spec;
  }

  private monitor(node: unknown, path: Path): MonitorSourceSpec | null {
    if (!isMap(node)) {
      this.err(path, node, 'expected a mapping with id, system or states');
      return null;
    }
    const before = this.errors.length;
    const e = this.entries(node, path, MONITOR_KEYS, 'monitor');
    const spec: MonitorSourceSpec = { states: ['down'] };
    if (e.has('id')) spec.id = this.string(e.get('id')!.value, [...path, 'id'], node, true) ?? undefined;
    if (e.has('system')) spec.system = this.string(e.get('system')!.value, [...path, 'system'], node, true) ?? undefined;
    const statesNode = e.get('states')?.value;
    if (statesNode !== undefined) {
      if (!isSeq(statesNode) || statesNode.items.length === 0) this.err([...path, 'states'], statesNode, 'expected a list of states: down and/or degraded');
      else {
        const states: ('down' | 'degraded')[] = [];
        statesNode.items.forEach((item, i) => {
          const s = isScalar(item) ? item.value : undefined;
          if (s !== 'down' && s !== 'degraded') this.err([...path, 'states'], item, `expected down and/or degraded but found ${JSON.stringify(s ?? null)}`);
          else if (!states.includes(s)) states.push(s);
        });
        spec.states = states;
      }
    }
    return this.errors.length > before ? null : spec;
  }

  private baseline(node: unknown, path: Path): BaselineSpec | null {
    if (!isMap(node)) {
      this.err(path, node, 'expected a mapping with windows, days, fill_missing');
      return null;
    }
    const e = this.entries(node, path, BASELINE_KEYS, 'baseline');
    const int = (key: string, def: number, min: number, max: number): number => {
      const v = e.get(key)?.value;
      if (v === undefined) return def;
      const n = isScalar(v) ? v.value : undefined;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
        this.err([...path, key], v, `expected a whole number from ${min} to ${max}`);
        return def;
      }
      return n;
    };
    const windows = int('windows', 12, 1, 100);
    const days = int('days', 0, 0, 28);
    let fillMissing = false;
    const fm = e.get('fill_missing')?.value;
    if (fm !== undefined) {
      const b = isScalar(fm) ? fm.value : undefined;
      if (typeof b !== 'boolean') this.err([...path, 'fill_missing'], fm, 'expected true or false');
      else fillMissing = b;
    }
    return { windows, days, fillMissing };
  }

  /** `labels:` / `annotations:`: names in Prometheus label syntax, values text (numbers and booleans as written). */
  private labelMap(node: unknown, path: Path, what: string): Labels {
    if (node === undefined || (isScalar(node) && node.value === null)) return {};
    const out = this.stringMap(node, path);
    if (out === null) return {};
    for (const name of Object.keys(out)) {
      if (!LABEL_NAME.test(name)) {
        const pair = isMap(node) ? node.items.find((p) => isScalar(p.key) && String(p.key.value) === name) : undefined;
        this.err([...path, name], pair?.key ?? node, `invalid name "${name}": a ${what} name has letters, digits and _ and does not start with a digit`);
      }
    }
    return out;
  }

  private stringMap(node: unknown, path: Path): Record<string, string> | null {
    if (!isMap(node)) {
      this.err(path, node, 'expected a mapping of names to values');
      return null;
    }
    const out: Record<string, string> = {};
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const v = this.resolve(pair.value);
      if (!isScalar(v) || v.value === null || typeof v.value === 'object') {
        this.err([...path, key], v ?? pair.key, 'expected a text value');
        continue;
      }
      out[key] = String(v.value);
    }
    return out;
  }

  /** A scalar string (numbers and booleans are refused where text is meant); null after reporting. */
  private string(node: unknown, path: Path, parent: unknown, required: boolean): string | null {
    if (node === undefined) {
      if (required) this.err(path, parent, 'required');
      return null;
    }
    if (!isScalar(node) || typeof node.value !== 'string') {
      // Numbers and booleans read as text where a name is meant (`alert: 500`, `id: 42`).
      if (isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean')) return String(node.source ?? node.value);
      this.err(path, node ?? parent, 'expected text');
      return null;
    }
    return node.value;
  }

  private duration(node: unknown, path: Path): number | null {
    const v = isScalar(node) ? node.value : undefined;
    if (v === 0) return 0;
    if (typeof v !== 'string') {
      this.err(path, node, `expected a duration such as 30s, 5m, 1h30m or 2d`);
      return null;
    }
    try {
      return parsePromDuration(v);
    } catch (err) {
      this.err(path, node, (err as Error).message);
      return null;
    }
  }
}

/** The YAML node of a rule, for writers that need its position (rule-files.ts). */
export function ruleNode(doc: Document, groupIndex: number, ruleIndex: number): Node | null {
  const n = doc.getIn(['groups', groupIndex, 'rules', ruleIndex], true);
  return isMap(n) ? n : null;
}

/** The first field a condition reads that the rule's rows do not carry, if the rows' fields are known. */
function unknownField(c: Condition, columns: readonly string[] | null, hasBaseline: boolean): { message: string; position: number } | null {
  if (columns === null) return null;
  for (const f of c.fields) {
    if (columns.includes(f.name)) continue;
    const isBaseline = (BASELINE_FIELDS as readonly string[]).includes(f.name);
    const hint = isBaseline && !hasBaseline ? ' (add baseline: to the rule to compare with earlier windows)' : '';
    return { message: `unknown field '${f.name}'${hint}; the rule's rows have ${columns.join(', ')}`, position: f.position };
  }
  return null;
}
