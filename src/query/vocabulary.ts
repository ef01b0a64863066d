/**
 * The query language's words: pipe commands, aggregate functions (with their aliases), eval
 * functions, keywords and dataset names. The parser and the planner read them from here, and so does
 * the web UI's highlighting and autocomplete (web/src/query-syntax.ts), so a function the language
 * gains is a hint the UI shows without a second list to forget.
 *
 * Pure data: no imports, no node modules, so Vite can bundle it into the UI.
 */

/** Pipe commands, in the order the parser names them in its errors. */
export const COMMANDS = ['search', 'where', 'eval', 'stats', 'timechart', 'top', 'rare', 'sort', 'head', 'tail', 'fields'] as const;

/** A pipe command's name. */
export type CommandName = (typeof COMMANDS)[number];

/** One aggregate function of stats/timechart. */
export interface AggregateFunction {
  name: string;
  /** Whether `name()` without a field is allowed (count rows, rate of rows). */
  fieldOptional: boolean;
  /** The function this one is another name for (Splunk spells some two ways). */
  aliasOf?: string;
  /** One line for hints and docs. */
  summary: string;
}

/** Aggregate functions the language accepts by name (any other `pNN` percentile is accepted too, see {@link PERCENTILE_FUNCTION}). */
export const AGGREGATE_FUNCTIONS: readonly AggregateFunction[] = [
  { name: 'count', fieldOptional: true, summary: 'number of records (or of records with the field)' },
  { name: 'dc', fieldOptional: false, summary: 'number of distinct values' },
  { name: 'distinct_count', fieldOptional: false, aliasOf: 'dc', summary: 'number of distinct values' },
  { name: 'sum', fieldOptional: false, summary: 'sum' },
  { name: 'avg', fieldOptional: false, summary: 'mean' },
  { name: 'mean', fieldOptional: false, aliasOf: 'avg', summary: 'mean' },
  { name: 'min', fieldOptional: false, summary: 'smallest value' },
  { name: 'max', fieldOptional: false, summary: 'largest value' },
  { name: 'median', fieldOptional: false, summary: '50th percentile' },
  { name: 'rate', fieldOptional: true, summary: 'per second over the range (stats) or the bucket (timechart)' },
  { name: 'p50', fieldOptional: false, summary: '50th percentile' },
  { name: 'p75', fieldOptional: false, summary: '75th percentile' },
  { name: 'p90', fieldOptional: false, summary: '90th percentile' },
  { name: 'p95', fieldOptional: false, summary: '95th percentile' },
  { name: 'p99', fieldOptional: false, summary: '99th percentile' },
  { name: 'p999', fieldOptional: false, summary: '99.9th percentile' },
];

/** The names of {@link AGGREGATE_FUNCTIONS}. */
export const AGG_FUNCTIONS: readonly string[] = AGGREGATE_FUNCTIONS.map((a) => a.name);

/** Any percentile: p0 … p99, and p999. */
export const PERCENTILE_FUNCTION = /^p(\d{1,2}|999)$/;

/** Eval (where/eval expression) functions; an alias names the function it spells differently. */
export const EVAL_FUNCTIONS: readonly { name: string; aliasOf?: string }[] = [
  { name: 'if' },
  { name: 'case' },
  { name: 'round' },
  { name: 'abs' },
  { name: 'floor' },
  { name: 'ceil' },
  { name: 'ceiling', aliasOf: 'ceil' },
  { name: 'sqrt' },
  { name: 'ln' },
  { name: 'log10' },
  { name: 'exp' },
  { name: 'pow' },
  { name: 'lower' },
  { name: 'upper' },
  { name: 'trim' },
  { name: 'len' },
  { name: 'length', aliasOf: 'len' },
  { name: 'substr' },
  { name: 'coalesce' },
  { name: 'concat' },
  { name: 'min' },
  { name: 'max' },
  { name: 'greatest', aliasOf: 'max' },
  { name: 'least', aliasOf: 'min' },
  { name: 'tonumber' },
  { name: 'tostring' },
  { name: 'isnull' },
  { name: 'isnotnull' },
  { name: 'like' },
  { name: 'contains' },
];

/** Boolean operators of searches and expressions (upper case in searches; either case in expressions). */
export const BOOLEAN_KEYWORDS = ['AND', 'OR', 'NOT', 'IN'] as const;

/** Words with a fixed meaning in the language: boolean operators, `by`, `as`, and the dataset selectors. */
export const KEYWORDS: readonly string[] = [...BOOLEAN_KEYWORDS, ...BOOLEAN_KEYWORDS.map((k) => k.toLowerCase()), 'by', 'as', 'from', 'index'];

/** Dataset names after `from` / `index=`, and which table each reads. */
export const DATASETS: Readonly<Record<string, 'logs' | 'spans'>> = { logs: 'logs', log: 'logs', spans: 'spans', span: 'spans', traces: 'spans' };
