/**
 * The shapes the alerting modules share (DESIGN.md §9): a rule as loaded from a Prometheus-format
 * group file, the rows a rule's source yields, an alert instance with its state, and the alert the
 * notification pipeline routes (Alertmanager's model). Times are epoch milliseconds.
 *
 *   rule files ─ rule.ts/rule-files.ts ─▶ RuleSpec
 *   RuleSpec + now + RuleSource ─ evaluator.ts (pure) ─▶ AlertInstance[] (state.ts transitions)
 *   manager.ts: schedules groups, runs on ingest commits, persists instances, hands NotifyAlert[] to
 *   notify/pipeline.ts: inhibit → silence → time intervals → group → dedup → deliver (retry) → log
 */

/** Label names and values of an alert (Prometheus/Alertmanager label sets). */
export type Labels = Record<string, string>;

/** Where a rule came from: its file (relative to the rules directory) and 1-based line. */
export interface RulePosition {
  file: string;
  /** Index of the group in the file and of the rule in the group (for write-back). */
  groupIndex: number;
  ruleIndex: number;
  line: number | null;
}

/** `metric:` source: the same parameters as `/api/v1/apm/metrics`, one value per series over the range. */
export interface MetricSourceSpec {
  name: string;
  /** avg|min|max|sum|count for gauges and sums, rate|increase for counters, p50…p99 for histograms, predict_linear. */
  agg: string;
  service?: string;
  /** Attribute matchers `key: value` (equality). */
  where?: Record<string, string>;
  /** The attribute key whose values become a label (one series per value). */
  groupBy?: string;
  /** For `predict_linear`: how far ahead the series is projected (ms); its value is the projection. */
  horizonMs?: number;
}

/** `monitor:` source: one row per monitor (of one id, or of a whole system) in one of `states`. */
export interface MonitorSourceSpec {
  id?: string;
  system?: string;
  /** States that make the row fire (default ['down']). */
  states: ('down' | 'degraded')[];
}

/** What a rule reads. */
export type RuleSourceSpec =
  | {
      kind: 'query';
      /** The `expr` as written. */
      expr: string;
      /** The query that is run: `expr` without a final `where` when that `where` became the condition. */
      query: string;
    }
  | { kind: 'metric'; metric: MetricSourceSpec }
  | { kind: 'monitor'; monitor: MonitorSourceSpec };

/** Comparison of each row with the same query's values over earlier windows (anomaly rules). */
export interface BaselineSpec {
  /** Number of consecutive earlier windows of `range` length before the current one. */
  windows: number;
  /** Number of previous days whose same-time window joins the baseline. */
  days: number;
  /** A label set seen in the baseline but absent now yields a row whose numeric fields are 0 (no-data rules). */
  fillMissing: boolean;
}

/** An alerting rule (Prometheus rule-file format plus Vigil's additions). */
export interface RuleSpec {
  /** Stable id: `<file>:<group>:<alert>`; a duplicate alert name in a group gets `#2`, `#3`… */
  id: string;
  /** The alert name (`alertname` label). */
  name: string;
  group: string;
  /** Evaluation interval of the group (ms, >= 1000). */
  intervalMs: number;
  source: RuleSourceSpec;
  /** The window each evaluation reads, ending at evaluation time (ms). */
  rangeMs: number;
  forMs: number;
  keepFiringForMs: number;
  /** Firing condition over a row's fields, in the query language's expression syntax; null: every row fires. */
  condition: string | null;
  /** Recovery condition; null: the alert resolves when the condition stops holding. */
  resolveWhen: string | null;
  baseline: BaselineSpec | null;
  labels: Labels;
  /** Annotation templates (`{{ $labels.x }}`, `{{ $value }}`), expanded per alert. */
  annotations: Labels;
  position: RulePosition;
}

/** A rule group as loaded. */
export interface RuleGroupSpec {
  name: string;
  file: string;
  intervalMs: number;
  rules: RuleSpec[];
}

/** One row of a rule source's answer: labels identify the alert, fields feed the conditions. */
export interface SourceRow {
  labels: Labels;
  /** Every column of the row (numbers as numbers); `value` is the alert's value. */
  fields: Record<string, number | string | boolean | null>;
  /** The row's value: the column `value`, else the last numeric column. */
  value: number | null;
}

/** Reads a rule's rows over `[fromMs, toMs)`; injected into the evaluator (Prometheus `QueryFunc`). */
export type RuleSource = (rule: RuleSpec, window: { fromMs: number; toMs: number }) => Promise<SourceRow[]>;

/** An alert instance's state (Prometheus's states plus `resolved`, kept until its notification is out). */
export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved';

/** Flap detection memory of one alert instance. */
export interface FlapState {
  /** Times of firing↔resolved changes within the last hour. */
  changes: number[];
  flapping: boolean;
}

/** One alert of one rule, identified by its label set's fingerprint. */
export interface AlertInstance {
  ruleId: string;
  fingerprint: string;
  /** alertname + rule labels + row labels. */
  labels: Labels;
  annotations: Labels;
  state: AlertState;
  value: number | null;
  /** When the condition started holding (pending since). */
  activeAt: number;
  firedAt: number | null;
  resolvedAt: number | null;
  /** Last evaluation at which the condition held. */
  lastSeenAt: number;
  lastEvalAt: number;
  flap: FlapState;
}

/** A change of an instance's state, for history, markers and notifications. */
export interface AlertTransition {
  ruleId: string;
  fingerprint: string;
  labels: Labels;
  from: AlertState;
  to: AlertState;
  at: number;
  value: number | null;
}

/** An alert as the notification pipeline sees it (Alertmanager's alert). */
export interface NotifyAlert {
  fingerprint: string;
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  /** Set when resolved; for a firing alert, a time in the future after which it counts as resolved. */
  endsAt: number | null;
  generatorURL: string;
  /** Whether the alert is resolved (endsAt passed). */
  resolved: boolean;
}

/** The evaluation health of a rule (Prometheus `/api/v1/rules` health). */
export interface RuleHealth {
  health: 'ok' | 'err' | 'unknown';
  lastError: string | null;
  lastEvaluation: number | null;
  evaluationMs: number | null;
}

/** Labels that identify an alert instance, hashed stably (sorted names). */
export function fingerprint(labels: Labels): string {
  // FNV-1a 64-bit over sorted name/value pairs; stable across processes and restarts.
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (const name of Object.keys(labels).sort()) {
    for (const part of [name, '\xff', labels[name]!, '\xff']) {
      for (let i = 0; i < part.length; i++) {
        h ^= BigInt(part.charCodeAt(i));
        h = (h * prime) & 0xffffffffffffffffn;
      }
    }
  }
  return h.toString(16).padStart(16, '0');
}
