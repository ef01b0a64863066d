/**
 * The logical plan: a dialect-independent description of what to read, filter, compute, aggregate,
 * order and return. Field names are resolved (to table columns, attribute look-ups or earlier
 * results), user values are `param` nodes, and guards (row limits) are part of the plan so every
 * consumer — search API, alert rules, dashboards — gets them.
 */
import type { Dataset } from './ast.ts';

/** Scalar types the planner tracks to decide casts. */
export type ValueType = 'string' | 'number' | 'boolean' | 'time' | 'json' | 'unknown';

/** Aggregate functions of the plan (`quantile` carries its level). */
export type AggFn = 'count' | 'countDistinct' | 'sum' | 'avg' | 'min' | 'max' | 'quantile';

/** Scalar functions the dialects must implement. */
export type ScalarFn = 'round' | 'abs' | 'floor' | 'ceil' | 'sqrt' | 'ln' | 'log10' | 'exp' | 'pow' | 'lower' | 'upper' | 'length' | 'substr' | 'coalesce' | 'concat' | 'greatest' | 'least' | 'trim';

/** A scalar expression of the plan. */
export type PlanExpr =
  /** A user value: always sent as a bind parameter. */
  | { kind: 'param'; value: string | number | boolean }
  /** A constant chosen by Vigil's code (never user text), may be inlined. */
  | { kind: 'const'; value: string | number | boolean | null }
  /** A column of the dataset's table. */
  | { kind: 'column'; column: string }
  /** A string attribute looked up by key in JSON attribute columns, first non-null wins. */
  | { kind: 'attribute'; key: string; sources: string[] }
  /** A column produced by an earlier stage (internal id). */
  | { kind: 'ref'; id: string }
  | { kind: 'not'; arg: PlanExpr }
  | { kind: 'neg'; arg: PlanExpr }
  | { kind: 'logic'; op: 'and' | 'or'; args: PlanExpr[] }
  | { kind: 'compare'; op: '=' | '!=' | '<' | '<=' | '>' | '>='; left: PlanExpr; right: PlanExpr }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/' | '%'; left: PlanExpr; right: PlanExpr }
  /** Case-insensitive substring test; `needle` is a lower-cased param. Far cheaper than ILIKE '%x%' in DuckDB. */
  | { kind: 'contains'; arg: PlanExpr; needle: PlanExpr }
  /** LIKE with `\` as escape character; `pattern` is normally a param. */
  | { kind: 'like'; arg: PlanExpr; pattern: PlanExpr; caseInsensitive: boolean }
  | { kind: 'in'; arg: PlanExpr; values: PlanExpr[] }
  | { kind: 'isNull'; arg: PlanExpr; negated: boolean }
  /** Lenient cast: yields NULL when the value does not convert. */
  | { kind: 'cast'; arg: PlanExpr; to: 'double' | 'string' }
  | { kind: 'call'; fn: ScalarFn; args: PlanExpr[] }
  | { kind: 'case'; whens: { when: PlanExpr; then: PlanExpr }[]; else: PlanExpr }
  | { kind: 'agg'; fn: AggFn; arg: PlanExpr | null; quantile?: number }
  /** Window function over the current (aggregated) rows; used by top/rare. */
  | { kind: 'window'; fn: 'rowNumber' | 'sum'; arg: PlanExpr | null; partitionBy: PlanExpr[]; orderBy: PlanSortKey[] }
  /** Start of the time bucket the row's timestamp falls in (bucket width from the plan or the range). */
  | { kind: 'timeBucket'; arg: PlanExpr }
  /** Seconds in the query's time range (known only at compile time). */
  | { kind: 'rangeSeconds' }
  /** Seconds per timechart bucket (fixed by `span=` or chosen from the range at compile time). */
  | { kind: 'bucketSeconds' };

/** One ordering key. */
export interface PlanSortKey {
  expr: PlanExpr;
  desc: boolean;
}

/** A named computed column (`id` is internal, never shown to users). */
export interface PlanColumn {
  id: string;
  expr: PlanExpr;
}

/** Relational operators, each reading the one before it. */
export type PlanNode =
  /** All rows of the dataset inside the compile-time time range. */
  | { op: 'scan'; dataset: Dataset }
  | { op: 'filter'; input: PlanNode; predicate: PlanExpr }
  /** Adds computed columns, keeping every input column. */
  | { op: 'extend'; input: PlanNode; columns: PlanColumn[] }
  /** Groups by `groupBy` and computes `aggregates`; output has only these columns. */
  | { op: 'aggregate'; input: PlanNode; groupBy: PlanColumn[]; aggregates: PlanColumn[] }
  /** Keeps the first `count` rows in `order`. */
  | { op: 'limit'; input: PlanNode; order: PlanSortKey[]; count: number };

/** An output column as the user sees it. */
export interface OutputColumn {
  name: string;
  expr: PlanExpr;
  type: ValueType;
}

/** Row guards, applied to every query. */
export interface PlanLimits {
  /** Rows returned when the caller does not ask for a limit. */
  defaultRows: number;
  /** Upper bound on rows whatever the caller asks. */
  maxRows: number;
}

/** Default guards: 1000 rows by default, at most 10000. */
export const DEFAULT_LIMITS: PlanLimits = { defaultRows: 1000, maxRows: 10_000 };

/**
 * Longest text a string-building function (`concat`, `+` on strings) may produce, in characters;
 * longer results are cut. Chained evals could otherwise double a value per step inside the engine.
 */
export const MAX_BUILT_STRING_CHARS = 4096;

/** A user field name that is no field of the dataset and so reads a JSON attribute. */
export interface AttributeUse {
  name: string;
  /** 0-based offset of its first use in the query text. */
  position: number;
  /** Fields of the dataset it is probably a misspelling of (closest first). */
  similar: string[];
  /** The other dataset when the name is one of its fields (`status` on logs). */
  otherDataset: Dataset | null;
}

/** A complete logical plan. */
export interface LogicalPlan {
  dataset: Dataset;
  /** `events` lists records; `aggregate` returns computed rows (stats, timechart, top, rare). */
  kind: 'events' | 'aggregate';
  root: PlanNode;
  /** Columns returned, in order. */
  output: OutputColumn[];
  /** Final ordering of the rows (expressions over the root's columns). */
  order: PlanSortKey[];
  /** Fixed timechart bucket width in seconds; null picks one from the time range (or no timechart). */
  bucketSeconds: number | null;
  /** Whether the plan buckets time (timechart). */
  timechart: boolean;
  limits: PlanLimits;
  /** Names read as attributes, for warnings when a query comes back empty. */
  attributes: AttributeUse[];
}
