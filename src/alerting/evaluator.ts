/**
 * The rule evaluator (Prometheus `AlertingRule.Eval`), pure: time and the rule's source are passed in.
 *
 *   rows   = source(rule, [now - range, now))                       at most 10,000 label sets
 *   rows  += baseline fields (baseline, baseline_mad, zscore, baseline_samples) from earlier windows,
 *            read through the cache; with fill_missing, label sets only the baseline knows get a row of 0s
 *   per row: labels = row labels (sanitized) < rule labels < alertname; holds = condition(fields);
 *            clear = !holds and (resolve_when(fields) if given)
 *   per instance: state.ts `transition`; annotations expanded with its labels and value
 *   previous instances with no row: holds = false, clear = true
 *
 * A failed read (source, baseline or condition) answers health `err` and keeps the instances exactly
 * as they were: a query that fails must not resolve every alert and fire them again afterwards.
 *
 * Instances returned: pending, firing, resolved (for `resolvedRetentionMs` after resolving, so the
 * notifier can send the resolution), and `inactive` ones that still carry flap memory of the last
 * hour — without them an alert resolving and firing every 20 minutes would never count as flapping.
 * Only pending and firing instances are alerts users see; the manager notifies firing and resolved.
 */
import { compileCondition } from './condition.ts';
import { BaselineCache, baselineFields, baselineStats, baselineWindows } from './baseline.ts';
import { newInstance, transition } from './state.ts';
import { expandAnnotations } from './template.ts';
import { fingerprint, type AlertInstance, type AlertTransition, type Labels, type RuleHealth, type RuleSpec, type RuleSource, type SourceRow } from './types.ts';

/** Label sets one rule may yield; beyond it the evaluation fails instead of flooding the notifier. */
export const MAX_SERIES = 10_000;
/** How long a resolved alert is kept (and re-sent) by default: Prometheus's resolvedRetention. */
export const DEFAULT_RESOLVED_RETENTION_MS = 15 * 60_000;

/** What the evaluator needs besides the rule, the time and the source. */
export interface EvaluatorDeps {
  /** Answers of past baseline windows; share one across evaluations (and rules). */
  cache?: BaselineCache;
  resolvedRetentionMs?: number;
  maxSeries?: number;
  /** `{{ $externalURL }}` in annotations. */
  externalURL?: string;
  /** Monotonic milliseconds for `evaluationMs` (default performance.now). */
  timer?: () => number;
}

/** One label set as evaluated (for backtests and previews). */
export interface EvaluatedRow {
  fingerprint: string;
  labels: Labels;
  value: number | null;
  holds: boolean;
}

/** What one evaluation yields. */
export interface EvaluationResult {
  instances: AlertInstance[];
  transitions: AlertTransition[];
  health: RuleHealth;
  /** Every label set the source answered (empty when the evaluation failed). */
  rows: EvaluatedRow[];
}

type Fields = SourceRow['fields'];
type Compiled = ReturnType<typeof compileCondition>;

const conditions = new Map<string, Compiled | Error>();
const MAX_CONDITIONS = 10_000;

/** A compiled condition, compiled once per text (bounded cache); throws the compile error. */
export function conditionOf(text: string): Compiled {
  let c = conditions.get(text);
  if (c === undefined) {
    try {
      c = compileCondition(text);
    } catch (err) {
      c = err instanceof Error ? err : new Error(String(err));
    }
    if (conditions.size >= MAX_CONDITIONS) conditions.delete(conditions.keys().next().value as string);
    conditions.set(text, c);
  }
  if (c instanceof Error) throw c;
  return c;
}

/** A telemetry attribute name as a Prometheus label name: `service.name` → `service_name`, `5xx` → `_5xx`. */
export function sanitizeLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s === '' ? '_' : s;
}

/** A row's labels with sanitized names; empty values are dropped, as Prometheus drops empty labels. */
export function sanitizeLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (v !== '') out[sanitizeLabelName(k)] = v;
  return out;
}

/** What identifies a rule's source for the baseline cache: an edited source never reads old answers. */
export function sourceKey(rule: RuleSpec): string {
  return JSON.stringify(rule.source);
}

/** An error message, whatever was thrown. */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Evaluates one rule at `now`; see the module comment. Never throws. */
export async function evaluateRule(rule: RuleSpec, now: number, previous: readonly AlertInstance[], source: RuleSource, deps: EvaluatorDeps = {}): Promise<EvaluationResult> {
  const timer = deps.timer ?? (() => performance.now());
  const started = timer();
  const health = (lastError: string | null): RuleHealth => ({ health: lastError === null ? 'ok' : 'err', lastError, lastEvaluation: now, evaluationMs: timer() - started });
  const failed = (message: string): EvaluationResult => ({ instances: [...previous], transitions: [], health: health(message), rows: [] });

  let condition: Compiled | null;
  let resolveWhen: Compiled | null;
  try {
    condition = rule.condition === null ? null : conditionOf(rule.condition);
  } catch (err) {
    return failed(`condition: ${messageOf(err)}`);
  }
  try {
    resolveWhen = rule.resolveWhen === null ? null : conditionOf(rule.resolveWhen);
  } catch (err) {
    return failed(`resolve_when: ${messageOf(err)}`);
  }

  const maxSeries = deps.maxSeries ?? MAX_SERIES;
  let rows: SourceRow[];
  try {
    rows = await source(rule, { fromMs: now - rule.rangeMs, toMs: now });
  } catch (err) {
    return failed(messageOf(err));
  }
  if (rows.length > maxSeries) return failed(`rule yields more than ${maxSeries} series`);

  let enriched: { labels: Labels; fields: Fields; value: number | null }[];
  try {
    enriched = rule.baseline ? await withBaseline(rule, now, rows, source, deps.cache ?? new BaselineCache()) : rows.map((r) => ({ labels: sanitizeLabels(r.labels), fields: r.fields, value: r.value }));
  } catch (err) {
    return failed(`baseline: ${messageOf(err)}`);
  }
  if (enriched.length > maxSeries) return failed(`rule yields more than ${maxSeries} series`);

  // Evaluate every row before changing any state, so a failure leaves the instances untouched.
  const evaluated: (EvaluatedRow & { clear: boolean })[] = [];
  const seen = new Map<string, Labels>();
  try {
    for (const row of enriched) {
      // Rule labels override series labels, and alertname overrides both (Prometheus).
      const labels: Labels = { ...row.labels, ...rule.labels, alertname: rule.name };
      const fp = fingerprint(labels);
      if (seen.has(fp)) {
        return failed(`two rows have the same labels ${JSON.stringify(labels)}: group by columns that tell them apart`);
      }
      seen.set(fp, labels);
      const fields: Fields = 'value' in row.fields ? row.fields : { ...row.fields, value: row.value };
      const holds = condition ? condition.evaluate(fields) : true;
      // A recovery condition that overlaps the firing one must not resolve an alert that still holds.
      const clear = !holds && (resolveWhen ? resolveWhen.evaluate(fields) : true);
      evaluated.push({ fingerprint: fp, labels, value: row.value, holds, clear });
    }
  } catch (err) {
    return failed(`condition: ${messageOf(err)}`);
  }

  const before = new Map(previous.map((i) => [i.fingerprint, i]));
  const instances: AlertInstance[] = [];
  const transitions: AlertTransition[] = [];
  const retention = deps.resolvedRetentionMs ?? DEFAULT_RESOLVED_RETENTION_MS;
  const keep = (prev: AlertInstance | null, next: AlertInstance) => {
    const from = prev?.state ?? 'inactive';
    if (from !== next.state) transitions.push({ ruleId: rule.id, fingerprint: next.fingerprint, labels: next.labels, from, to: next.state, at: now, value: next.value });
    let kept = next;
    // Past its retention a resolved alert stops being sent; it stays (inactive) only for its flap memory.
    if (kept.state === 'resolved' && kept.resolvedAt !== null && now - kept.resolvedAt >= retention) kept = { ...kept, state: 'inactive' };
    if (kept.state === 'inactive' && kept.flap.changes.length === 0) return;
    instances.push(kept);
  };
  const step = { now, forMs: rule.forMs, keepFiringForMs: rule.keepFiringForMs };
  for (const row of evaluated) {
    const prev = before.get(row.fingerprint) ?? null;
    before.delete(row.fingerprint);
    const base = prev ?? newInstance(rule.id, row.fingerprint, row.labels, now);
    const next = transition({ ...base, labels: row.labels }, { ...step, holds: row.holds, clear: row.clear, value: row.value });
    next.annotations = expandAnnotations(rule.annotations, { labels: row.labels, value: row.value, externalURL: deps.externalURL });
    keep(prev, next);
  }
  for (const prev of before.values()) keep(prev, transition(prev, { ...step, holds: false, clear: true }));

  return { instances, transitions, health: health(null), rows: evaluated.map(({ fingerprint: fp, labels, value, holds }) => ({ fingerprint: fp, labels, value, holds })) };
}

/**
 * Adds the baseline fields to each current row (see baseline.ts for the windows and statistics).
 * Label sets absent from a window count as no sample, except with fill_missing, where absence means
 * 0 (a service that stopped sending has 0 requests, not unknown requests) and a label set known to
 * the baseline but absent now gets a row whose numeric fields are 0.
 */
async function withBaseline(rule: RuleSpec, now: number, rows: SourceRow[], source: RuleSource, cache: BaselineCache): Promise<{ labels: Labels; fields: Fields; value: number | null }[]> {
  const spec = rule.baseline!;
  const key = sourceKey(rule);
  const windows = baselineWindows(spec, rule.rangeMs, now);
  const current = rows.map((r) => ({ labels: sanitizeLabels(r.labels), fields: r.fields, value: r.value }));
  const id = (labels: Labels) => fingerprint(labels);
  // Per label set: its value in each window (undefined: absent), and its latest row as a template.
  const values = new Map<string, (number | null | undefined)[]>();
  const templates = new Map<string, { labels: Labels; fields: Fields }>();
  for (let w = 0; w < windows.length; w++) {
    // Sequential on purpose: the first evaluation of an anomaly rule reads many windows, and running
    // them all at once would crowd the query gate that live searches share.
    const windowRows = await cache.get(rule.id, key, windows[w]!, () => source(rule, windows[w]!));
    for (const r of windowRows) {
      const labels = sanitizeLabels(r.labels);
      const k = id(labels);
      if (!values.has(k)) values.set(k, new Array<number | null | undefined>(windows.length).fill(undefined));
      values.get(k)![w] = r.value;
      if (!templates.has(k)) templates.set(k, { labels, fields: r.fields });
    }
  }
  const samplesOf = (k: string): number[] => {
    const vs = values.get(k) ?? [];
    const out: number[] = [];
    for (const v of vs) {
      if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
      else if (v === undefined && spec.fillMissing) out.push(0);
    }
    return out;
  };
  const out = current.map((r) => {
    const k = id(r.labels);
    return { ...r, fields: { ...r.fields, ...baselineFields(r.value, baselineStats(values.has(k) ? samplesOf(k) : [])) } };
  });
  if (spec.fillMissing) {
    const present = new Set(current.map((r) => id(r.labels)));
    for (const [k, t] of templates) {
      if (present.has(k)) continue;
      const fields: Fields = {};
      for (const [name, v] of Object.entries(t.fields)) fields[name] = typeof v === 'number' ? 0 : v;
      fields.value = 0;
      out.push({ labels: t.labels, fields: { ...fields, ...baselineFields(0, baselineStats(samplesOf(k))) }, value: 0 });
    }
  }
  return out;
}
