/**
 * APM API under `/api/v1/apm/`: service overview, operations (and the slowest ones), database
 * statements, external calls, error groups, metric queries and key workflows. Read-scoped, each over
 * a time range (`since` or `from`/`to`, default the last hour), through the query gate with a time-out.
 * The SQL lives in src/query/views; this module only validates parameters and shapes answers.
 */
import type { DatabaseResponse, ErrorGroupsResponse, ExternalResponse, GroupedOverviewResponse, MetricAnswer, MetricNamesResponse, OperationsResponse, ServiceOverviewResponse } from '../../api/contract.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseDuration } from '../../config/config.ts';
import { QueryBusyError, QueryError, QueryTimeoutError } from '../../query/index.ts';
import { ParamError, parseTimeRange, type TimeRange } from '../../query/time-range.ts';
import {
  bucketNsFor,
  DATABASE_SORTS,
  databaseQuery,
  externalQuery,
  OPERATION_SORTS,
  operationsQuery,
  overviewQuery,
  shapeDatabase,
  shapeExternal,
  shapeOperations,
  shapeOverview,
  type DatabaseSort,
  type OperationSort,
  type RateWindow,
} from '../../query/views/apm.ts';
import { errorGroupsQuery, shapeErrorGroups } from '../../query/views/errors.ts';
import { metricAnswer } from '../../query/views/metric-answer.ts';
import { ATTRIBUTE_KEY, metricAttributesQuery, metricKey, metricNamesQuery, shapeMetricAttributes, type AttributeFilter, type MetricType } from '../../query/views/metrics.ts';
import type { SqlQuery } from '../../query/views/traces.ts';
import { MAX_STEPS, parseSteps, shapeWorkflow, workflowQuery, type WorkflowKey } from '../../query/views/workflow.ts';
import { StoreTimeoutError } from '../../store/telemetry/store.ts';
import type { QueryRouteContext } from './query.ts';

/** Query-string parameters as Fastify parses them (repeated keys become arrays). */
type Params = Record<string, string | string[] | undefined>;

/** Answers a failed request with a status and a message users can act on (as the search routes do). */
function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof QueryError) return reply.code(400).send({ error: err.message });
  if (err instanceof ParamError || err instanceof RangeError) return reply.code(400).send({ error: err.message });
  if (err instanceof QueryBusyError) return reply.code(429).header('retry-after', '1').send({ error: err.message });
  if (err instanceof QueryTimeoutError || err instanceof StoreTimeoutError) return reply.code(503).send({ error: err.message });
  throw err;
}

/** The single value of a parameter; repeated parameters are refused rather than silently merged. */
function one(p: Params, name: string): string | undefined {
  const v = p[name];
  if (Array.isArray(v)) throw new ParamError(`${name}: give it once`);
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function positive(p: Params, name: string, fallback: number, max: number): number {
  const v = one(p, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new ParamError(`${name}: expected a number above 0 and at most ${max}`);
  return n;
}

function integer(p: Params, name: string, fallback: number, max: number): number {
  const n = positive(p, name, fallback, max);
  if (!Number.isInteger(n)) throw new ParamError(`${name}: expected a whole number`);
  return n;
}

function choice<T extends string>(p: Params, name: string, allowed: readonly T[], fallback: T): T {
  const v = one(p, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new ParamError(`${name}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

function durationNs(p: Params, name: string, fallback: string, maxMs: number): bigint {
  const v = one(p, name) ?? fallback;
  let msValue: number;
  try {
    msValue = parseDuration(v);
  } catch {
    throw new ParamError(`${name}: "${v.slice(0, 40)}" is not a duration such as 30s, 5m or 1h`);
  }
  if (msValue <= 0 || msValue > maxMs) throw new ParamError(`${name}: must be above 0 and at most ${maxMs / 60_000} minutes`);
  return BigInt(msValue) * 1_000_000n;
}

/** Bucket width: `bucket=5m` if given (at most 2,000 buckets), else a round size for ~60-120 points. */
function bucketNs(p: Params, range: TimeRange): bigint {
  if (one(p, 'bucket') === undefined) return bucketNsFor(range);
  const ns = durationNs(p, 'bucket', '1m', 7 * 86_400_000);
  if ((range.toNs - range.fromNs) / ns > 2000n) throw new ParamError('bucket: too small for the range (more than 2000 buckets)');
  return ns;
}

function iso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** `attr.key=value` parameters as attribute filters. */
function attributeFilters(p: Params): AttributeFilter[] {
  const filters: AttributeFilter[] = [];
  for (const [name, v] of Object.entries(p)) {
    if (!name.startsWith('attr.') || v === undefined) continue;
    const key = name.slice(5);
    if (!ATTRIBUTE_KEY.test(key)) throw new ParamError(`${name.slice(0, 60)}: attribute keys use A-Z a-z 0-9 _ . - : @ /`);
    for (const value of Array.isArray(v) ? v : [v]) filters.push({ key, value });
  }
  if (filters.length > 20) throw new ParamError('attr.*: at most 20 attribute filters');
  return filters;
}

function quantileList(p: Params): number[] {
  const text = one(p, 'quantiles') ?? one(p, 'quantile') ?? '0.5,0.95,0.99';
  const qs = text.split(',').map((s) => Number(s.trim()));
  if (qs.length > 10 || qs.some((q) => !(q > 0 && q < 1))) throw new ParamError('quantiles: expected up to 10 numbers between 0 and 1, e.g. 0.5,0.95,0.99');
  return qs;
}

/** Registers the APM routes. */
export function registerApmRoutes(app: FastifyInstance, ctx: QueryRouteContext): void {
  const now = ctx.now ?? (() => new Date());
  const run = (q: SqlQuery) => ctx.queries.rows(q);
  const route = (path: string, handler: (p: Params) => Promise<unknown>) =>
    app.get(path, { config: { access: 'read' } }, async (req, reply) => {
      try {
        return await handler((req.query ?? {}) as Params);
      } catch (err) {
        return sendError(reply, err);
      }
    });
  const rangeOf = (p: Params) => parseTimeRange({ since: one(p, 'since'), from: one(p, 'from'), to: one(p, 'to') }, now(), '1h');
  // Rates divide by the covered time, which ends at the server's now (docs/apm.md, Throughput).
  const window = (p: Params, range: TimeRange): RateWindow => ({ ...range, bucketNs: bucketNs(p, range), nowNs: BigInt(now().getTime()) * 1_000_000n });

  route('/api/v1/apm/overview', async (p): Promise<ServiceOverviewResponse | GroupedOverviewResponse> => {
    const range = rangeOf(p);
    const groupBy = one(p, 'group_by');
    if (groupBy !== undefined && !ATTRIBUTE_KEY.test(groupBy)) throw new ParamError('group_by: attribute keys use A-Z a-z 0-9 _ . - : @ /');
    const o = { ...window(p, range), service: one(p, 'service'), operation: one(p, 'operation'), groupBy, apdexTMs: positive(p, 'apdex_t', 500, 600_000) };
    const groups = shapeOverview(await run(overviewQuery(ctx.queries.dialect, o)), o);
    const head = { from: iso(range.fromNs), to: iso(range.toNs), service: o.service ?? null, operation: o.operation ?? null, apdex_t_ms: o.apdexTMs, bucket_seconds: Number(o.bucketNs) / 1e9 };
    if (groupBy !== undefined) return { ...head, group_by: groupBy, groups };
    const [only] = groups;
    return { ...head, summary: only!.summary, series: only!.series };
  });

  const operations = async (p: Params, defaults: { sort: OperationSort; minRequests: number }): Promise<OperationsResponse> => {
    const range = rangeOf(p);
    const o = {
      ...range,
      service: one(p, 'service'),
      apdexTMs: positive(p, 'apdex_t', 500, 600_000),
      sort: choice(p, 'sort', Object.keys(OPERATION_SORTS) as OperationSort[], defaults.sort),
      limit: integer(p, 'limit', 100, 1000),
      minRequests: integer(p, 'min_requests', defaults.minRequests, 1_000_000_000),
    };
    const rows = shapeOperations(await run(operationsQuery(ctx.queries.dialect, o)), window(p, range));
    return { from: iso(range.fromNs), to: iso(range.toNs), service: o.service ?? null, apdex_t_ms: o.apdexTMs, sort: o.sort, operations: rows };
  };
  route('/api/v1/apm/operations', (p) => operations(p, { sort: 'requests', minRequests: 1 }));
  route('/api/v1/apm/operations/slowest', (p) => operations({ ...p, sort: one(p, 'sort') ?? 'p95', limit: one(p, 'limit') ?? '10' }, { sort: 'p95', minRequests: 5 }));

  route('/api/v1/apm/database', async (p): Promise<DatabaseResponse> => {
    const range = rangeOf(p);
    const o = {
      ...range,
      service: one(p, 'service'),
      dbSystem: one(p, 'db_system'),
      sort: choice(p, 'sort', Object.keys(DATABASE_SORTS) as DatabaseSort[], 'total_time'),
      limit: integer(p, 'limit', 50, 1000),
    };
    return { from: iso(range.fromNs), to: iso(range.toNs), service: o.service ?? null, sort: o.sort, statements: shapeDatabase(await run(databaseQuery(ctx.queries.dialect, o))) };
  });

  route('/api/v1/apm/external', async (p): Promise<ExternalResponse> => {
    const range = rangeOf(p);
    const o = { ...range, service: one(p, 'service'), limit: integer(p, 'limit', 100, 1000) };
    return { from: iso(range.fromNs), to: iso(range.toNs), service: o.service ?? null, calls: shapeExternal(await run(externalQuery(ctx.queries.dialect, o))) };
  });

  route('/api/v1/apm/errors', async (p): Promise<ErrorGroupsResponse> => {
    const range = rangeOf(p);
    const o = { ...range, service: one(p, 'service'), limit: integer(p, 'limit', 50, 1000) };
    return { from: iso(range.fromNs), to: iso(range.toNs), service: o.service ?? null, groups: shapeErrorGroups(await run(errorGroupsQuery(ctx.queries.dialect, o))) };
  });

  route('/api/v1/apm/metrics/names', async (p): Promise<MetricNamesResponse> => {
    const range = rangeOf(p);
    const service = one(p, 'service');
    const [rows, attributeRows] = await Promise.all([run(metricNamesQuery(ctx.queries.dialect, range, service)), run(metricAttributesQuery(ctx.queries.dialect, range, service))]);
    const attributes = shapeMetricAttributes(attributeRows);
    return {
      from: iso(range.fromNs),
      to: iso(range.toNs),
      metrics: rows.map((r) => ({
        name: String(r.name),
        type: String(r.type),
        unit: String(r.unit ?? ''),
        points: Number(r.points),
        services: Array.isArray(r.services) ? r.services.map(String) : [],
        attributes: attributes.get(metricKey(String(r.name), String(r.type))) ?? [],
      })),
    };
  });

  route('/api/v1/apm/metrics', async (p): Promise<MetricAnswer> => {
    const name = one(p, 'name');
    if (name === undefined) throw new ParamError('name: give a metric name, e.g. name=http.server.request.duration');
    const range = rangeOf(p);
    const groupBy = one(p, 'group_by');
    if (groupBy !== undefined && !ATTRIBUTE_KEY.test(groupBy)) throw new ParamError('group_by: attribute keys use A-Z a-z 0-9 _ . - : @ /');
    const type = one(p, 'type');
    if (type !== undefined && !['gauge', 'sum', 'histogram'].includes(type)) throw new ParamError('type: expected gauge, sum or histogram');
    // The body is shared with metric alert rules (src/query/views/metric-answer.ts).
    return metricAnswer(ctx.queries, {
      ...range,
      name,
      service: one(p, 'service'),
      filters: attributeFilters(p),
      groupBy,
      bucketNs: bucketNs(p, range),
      type: type as MetricType | undefined,
      agg: one(p, 'agg'),
      quantiles: quantileList(p),
    });
  });

  route('/api/v1/apm/workflow', async (p) => {
    const raw = p.steps ?? p.step;
    if (raw === undefined) throw new ParamError('steps: give service:operation pairs, e.g. steps=web:POST /login,web:POST /cart/checkout');
    const steps = parseSteps(raw);
    if (steps.length < 2 || steps.length > MAX_STEPS) throw new ParamError(`steps: give 2 to ${MAX_STEPS} steps`);
    const range = rangeOf(p);
    const o = {
      ...range,
      steps,
      by: choice<WorkflowKey>(p, 'by', ['user', 'trace'], 'user'),
      withinNs: durationNs(p, 'within', '30m', 86_400_000),
      bucketNs: bucketNs(p, range),
    };
    const shaped = shapeWorkflow(await run(workflowQuery(ctx.queries.dialect, o)), o);
    return { from: iso(range.fromNs), to: iso(range.toNs), by: o.by, within_seconds: Number(o.withinNs) / 1e9, bucket_seconds: Number(o.bucketNs) / 1e9, ...shaped };
  });
}
