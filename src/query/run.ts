/**
 * One query from text to answer, as the search API and live tail run it: plan, then — holding a
 * slot of the query gate — compile, execute under the time-out, and explain an empty-looking answer
 * by checking which attribute names it read occur in the range at all.
 */
import { duckdbDialect } from './dialect/duckdb.ts';
import type { CompileOptions, Dialect } from './dialect/dialect.ts';
import type { QueryWarning } from './errors.ts';
import { executeQuery, type QueryGate, type QueryResult, type RunFn } from './executor.ts';
import { datasetDef } from './fields.ts';
import { DEFAULT_LIMITS, type AttributeUse, type LogicalPlan } from './plan.ts';
import { buildPlan, type PlanOptions } from './planner.ts';

/** Options of {@link runQuery}. */
export interface RunQueryOptions extends CompileOptions, PlanOptions {
  run: RunFn;
  gate: QueryGate;
  /** Time-out of the whole run, compile and explanation included. */
  timeoutMs: number;
  /** Called on time-out to stop the engine. */
  interrupt?: () => void;
  /** Defaults to DuckDB. */
  dialect?: Dialect;
  /** Whether an empty-looking answer is explained with one extra query (default true). */
  explainEmpty?: boolean;
}

/** Attribute names checked by the explanation query, so it stays one small scan. */
const MAX_EXPLAINED = 8;

/** Runs a query text; throws QueryError, QueryRejectedError, QueryResourceError or a time-out. */
export async function runQuery(text: string, options: RunQueryOptions): Promise<QueryResult> {
  const dialect = options.dialect ?? duckdbDialect;
  // Parsing and planning are linear in the (bounded) query text, so bad queries are refused before
  // waiting for a slot; compiling can expand a plan, so it runs inside the gate.
  const plan = buildPlan(text, { limits: options.limits });
  return options.gate.run(async () => {
    const started = performance.now();
    const compiled = dialect.compile(plan, options);
    const remaining = (): number => Math.max(1, options.timeoutMs - (performance.now() - started));
    const exec = { interrupt: options.interrupt, engineError: (err: unknown) => dialect.engineError(err) };
    const result = await executeQuery(compiled, options.run, { ...exec, timeoutMs: remaining() });
    if (options.explainEmpty !== false && plan.attributes.length > 0 && looksEmpty(result)) {
      try {
        result.warnings.push(...(await explainMissing(plan, dialect, options, (c) => executeQuery(c, options.run, { ...exec, timeoutMs: remaining() }))));
      } catch {
        // The explanation is a courtesy: the answer stands without it.
      }
    }
    return result;
  });
}

/** No rows, or a column with no value in any row (`avg(duration)` over a missing field). */
function looksEmpty(result: QueryResult): boolean {
  return result.rows.length === 0 || result.columns.some((c) => result.rows.every((r) => r[c.name] === null));
}

/** Warns about each attribute name the query read that no record of the range carries. */
async function explainMissing(
  plan: LogicalPlan,
  dialect: Dialect,
  range: CompileOptions,
  execute: (c: ReturnType<Dialect['compile']>) => Promise<QueryResult>,
): Promise<QueryWarning[]> {
  const uses = plan.attributes.slice(0, MAX_EXPLAINED);
  const sources = [...datasetDef(plan.dataset).attributeSources];
  const counts: LogicalPlan = {
    dataset: plan.dataset,
    kind: 'aggregate',
    root: {
      op: 'aggregate',
      input: { op: 'scan', dataset: plan.dataset },
      groupBy: [],
      aggregates: uses.map((u, i) => ({ id: `__p${i}`, expr: { kind: 'agg', fn: 'count', arg: { kind: 'attribute', key: u.name, sources } } })),
    },
    output: uses.map((u, i) => ({ name: `p${i}`, expr: { kind: 'ref', id: `__p${i}` }, type: 'number' })),
    order: [],
    bucketSeconds: null,
    timechart: false,
    limits: DEFAULT_LIMITS,
    attributes: [],
  };
  const row = (await execute(dialect.compile(counts, { from: range.from, to: range.to, limit: 1 }))).rows[0] ?? {};
  return uses.filter((_, i) => Number(row[`p${i}`] ?? 0) === 0).map((u) => ({ message: missingMessage(plan, u), position: u.position }));
}

function missingMessage(plan: LogicalPlan, u: AttributeUse): string {
  const parts = [`no ${plan.dataset} in this time range have the field '${u.name}'`];
  if (u.similar.length) parts.push(`did you mean ${u.similar.join(' or ')}?`);
  if (u.otherDataset) parts.push(`it is a field of ${u.otherDataset}: start the query with 'from ${u.otherDataset}'`);
  return parts.join('; ');
}
