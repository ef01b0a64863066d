/**
 * Syntax tree of a query as the user wrote it: names are still user field names and values are
 * still text. The planner resolves them against a dataset.
 */

/** Datasets a query can read. */
export type Dataset = 'logs' | 'spans';

/** Comparison operators of search terms and expressions. */
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A value in a search term: the text and whether it was quoted (quoted values are never numbers). */
export interface SearchValue {
  text: string;
  /** Raw text with backslash escapes kept (for `\*`). */
  raw: string;
  quoted: boolean;
  pos: number;
}

/** A node of the leading search (or of a `search` pipe). */
export type SearchNode =
  | { type: 'and'; items: SearchNode[]; pos: number }
  | { type: 'or'; items: SearchNode[]; pos: number }
  | { type: 'not'; item: SearchNode; pos: number }
  | { type: 'compare'; field: string; fieldPos: number; op: CompareOp; value: SearchValue; pos: number }
  | { type: 'in'; field: string; fieldPos: number; values: SearchValue[]; pos: number }
  | { type: 'text'; value: SearchValue; pos: number }
  | { type: 'all'; pos: number };

/** An expression of `where`, `eval` and function arguments. */
export type Expr =
  | { type: 'field'; name: string; pos: number }
  | { type: 'string'; value: string; pos: number }
  | { type: 'number'; value: number; text: string; pos: number }
  | { type: 'bool'; value: boolean; pos: number }
  | { type: 'null'; pos: number }
  | { type: 'unary'; op: 'not' | '-'; arg: Expr; pos: number }
  | { type: 'binary'; op: 'and' | 'or' | CompareOp | '+' | '-' | '*' | '/' | '%'; left: Expr; right: Expr; pos: number }
  | { type: 'in'; arg: Expr; values: Expr[]; negated: boolean; pos: number }
  | { type: 'call'; name: string; args: Expr[]; pos: number };

/** An aggregate of `stats` / `timechart`: `p95(duration_ms) as p95`. */
export interface AggCall {
  fn: string;
  field: string | null;
  fieldPos: number;
  alias: string | null;
  pos: number;
  /** The call as written, used as the default output name (`count` for `count()`). */
  label: string;
}

/** A field reference in a pipe argument (`by http.route`). */
export interface FieldRef {
  name: string;
  pos: number;
}

/** A sort key: `-count` sorts descending. */
export interface SortKey {
  field: string;
  desc: boolean;
  pos: number;
}

/** One pipe command. */
export type Command =
  | { type: 'search'; search: SearchNode; pos: number }
  | { type: 'where'; expr: Expr; pos: number }
  | { type: 'eval'; assignments: { name: string; namePos: number; expr: Expr }[]; pos: number }
  | { type: 'stats'; aggs: AggCall[]; by: FieldRef[]; pos: number }
  | { type: 'timechart'; spanSeconds: number | null; aggs: AggCall[]; by: FieldRef[]; pos: number }
  | { type: 'top' | 'rare'; limit: number; field: FieldRef; by: FieldRef[]; pos: number }
  | { type: 'sort'; keys: SortKey[]; pos: number }
  | { type: 'head' | 'tail'; count: number; pos: number }
  | { type: 'fields'; fields: FieldRef[]; pos: number };

/** A whole query: dataset, leading search and pipes. */
export interface Query {
  dataset: Dataset;
  search: SearchNode;
  commands: Command[];
}
