/**
 * Public entry points of the query language: parse → plan → compile. The HTTP layer, alert rules and
 * dashboards call {@link compileQuery}; code that builds plans itself calls a dialect directly.
 */
import { duckdbDialect } from './dialect/duckdb.ts';
import type { CompileOptions, CompiledQuery, Dialect } from './dialect/dialect.ts';
import { buildPlan, type PlanOptions } from './planner.ts';

export { QueryError, QueryRejectedError, QueryResourceError, type QueryWarning } from './errors.ts';
export { parseQuery } from './parser.ts';
export { buildPlan, planQuery, type PlanOptions } from './planner.ts';
export { DEFAULT_LIMITS, type LogicalPlan, type PlanLimits } from './plan.ts';
export { runQuery, type RunQueryOptions } from './run.ts';
export { duckdbDialect } from './dialect/duckdb.ts';
export type { CompileOptions, CompiledQuery, CompiledColumn, Dialect, SqlParam } from './dialect/dialect.ts';

/** Options of {@link compileQuery}: the time range and limit, plus planning guards and the dialect. */
export interface CompileQueryOptions extends CompileOptions, PlanOptions {
  /** Defaults to DuckDB. */
  dialect?: Dialect;
}

/** Parses, plans and compiles a query for one time range; throws QueryError for bad queries. */
export function compileQuery(text: string, options: CompileQueryOptions): CompiledQuery {
  const plan = buildPlan(text, { limits: options.limits });
  return (options.dialect ?? duckdbDialect).compile(plan, options);
}
export { executeQuery, QueryGate, QueryTimeoutError, QueryBusyError, type RunFn, type QueryResult, type ResultValue, type ExecuteOptions } from './executor.ts';
