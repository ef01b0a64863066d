/**
 * Key-workflow view: how often a named sequence of operations (e.g. sign in, then
 * check out) completes without error, and how long it takes end to end.
 *
 * Definition (docs/apm.md): every server span of step 1 starts an instance. Instances are correlated
 * by trace id (`by=trace`) or by the `user.id` / `enduser.id` span attribute (`by=user`). Step k+1 is
 * the first span of that step with the same key starting at or after step k; it counts when it starts
 * within `within` of step 1 and before the same key starts step 1 again. An instance is completed when
 * every step is reached and succeeded when, in addition, no step failed.
 */
import type { Dialect } from '../dialect/dialect.ts';
import { Binder, errorSql, operationSql, type NsRange } from './apm.ts';
import type { SqlQuery } from './traces.ts';

/** One step: a service and an operation (`METHOD route` or span name). */
export interface WorkflowStep {
  service: string;
  operation: string;
}

/** How instances are correlated. */
export type WorkflowKey = 'trace' | 'user';

/** Options of the workflow view. */
export interface WorkflowOptions extends NsRange {
  steps: WorkflowStep[];
  by: WorkflowKey;
  withinNs: bigint;
  bucketNs: bigint;
}

/** Most steps a workflow may have (each adds a join). */
export const MAX_STEPS = 10;

/** Parses `service:operation,service:operation` (the first colon splits; routes may contain colons). */
export function parseSteps(text: string | string[]): WorkflowStep[] {
  const parts = (Array.isArray(text) ? text : [text]).flatMap((t) => t.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  return parts.map((p) => {
    const i = p.indexOf(':');
    if (i <= 0 || i === p.length - 1) throw new RangeError(`steps: "${p.slice(0, 80)}" is not service:operation, e.g. web:POST /login`);
    return { service: p.slice(0, i).trim(), operation: p.slice(i + 1).trim() };
  });
}

/**
 * Instances with the step they reached, per bucket of their start and in total (the row with a null
 * bucket). Per step k: `reached_k`, `errors_k`, `p95_k` (ns). The SQL's shape depends only on the
 * number of steps; services, operations and times are parameters.
 */
export function workflowQuery(d: Dialect, o: WorkflowOptions): SqlQuery {
  const n = o.steps.length;
  if (n < 2 || n > MAX_STEPS) throw new RangeError(`steps: give 2 to ${MAX_STEPS} steps`);
  const b = new Binder(d);
  const v = b.sql;
  const values = v.valuesTable(o.steps.map((s, i) => [String(i + 1), b.add(s.service), b.add(s.operation)]), 'v', ['idx', 'service', 'operation']);
  const fromNs = b.big(o.fromNs);
  const toNs = b.big(o.toNs);
  const within = b.big(o.withinNs);
  const bucket = b.big(o.bucketNs);
  const key =
    o.by === 'trace'
      ? 't.TraceId'
      : `coalesce(${v.jsonText('t.SpanAttributes', ['user.id'])}, ${v.jsonText('t.SpanAttributes', ['enduser.id'])})`;
  const ctes: string[] = [
    `steps AS (SELECT * FROM ${values})`,
    `s AS (
      SELECT steps.idx, ${key} AS k, t.TraceId AS trace_id, ${v.epochNs('t.Timestamp')} AS ts, t.Duration AS dur, ${errorSql('t')} AS err
      FROM otel_traces t JOIN steps ON t.ServiceName = steps.service AND ${operationSql('t')} = steps.operation
      WHERE t.Timestamp >= ${v.timestampNs(fromNs)} AND t.Timestamp < ${v.timestampNs(`${toNs} + ${within}`)}
        AND t.SpanKind = 'Server' AND ${key} IS NOT NULL)`,
    // The next start of step 1 by the same key closes this instance: a retry is a new instance.
    `i1 AS (
      SELECT * FROM (
        SELECT k, trace_id, ts AS t1, dur AS d1, err AS e1, lead(ts) OVER (PARTITION BY k ORDER BY ts) AS next_start
        FROM s WHERE idx = 1)
      WHERE t1 < ${toNs})`,
  ];
  for (let i = 2; i <= n; i++) {
    // ASOF picks, per instance, the earliest span of step i at or after step i-1: greedy matching is optimal for a sequence.
    ctes.push(`i${i} AS (
      SELECT p.*, x.ts AS t${i}, x.dur AS d${i}, x.err AS e${i}
      FROM i${i - 1} p ASOF LEFT JOIN (SELECT k, ts, dur, err FROM s WHERE idx = ${i}) x ON p.k = x.k AND x.ts >= p.t${i - 1})`);
  }
  const reached: string[] = ['TRUE AS r1'];
  for (let i = 2; i <= n; i++) {
    reached.push(`(r${i - 1} AND t${i} IS NOT NULL AND t${i} < t1 + ${within} AND (next_start IS NULL OR t${i} < next_start)) AS r${i}`);
  }
  // Lateral aliases: each r_i refers to the previous one in the same SELECT.
  ctes.push(`g AS (SELECT *, ${reached.join(', ')} FROM i${n})`);
  const failed = Array.from({ length: n }, (_, i) => `(r${i + 1} AND e${i + 1})`).join(' OR ');
  ctes.push(`f AS (
      SELECT *, ${v.floorTo('t1', bucket)} AS bucket_ns, r${n} AS completed, r${n} AND NOT (${failed}) AS succeeded,
        CASE WHEN r${n} THEN t${n} + d${n} - t1 END AS latency_ns
      FROM g)`);
  const perStep = Array.from({ length: n }, (_, i) => {
    const k = i + 1;
    return `${v.countIf(`r${k}`)} AS reached_${k}, ${v.countIf(`r${k} AND e${k}`)} AS errors_${k},
      ${v.aggregateIf(v.quantile(`d${k}`, 0.95), `r${k}`)} AS p95_${k}`;
  }).join(',\n      ');
  const sql = `WITH ${ctes.join(',\n    ')}
    SELECT bucket_ns, count(*) AS instances, ${v.countIf('completed')} AS completed,
      ${v.countIf('succeeded')} AS succeeded, ${v.quantiles('latency_ns', [0.5, 0.95, 0.99])} AS q,
      ${perStep}
    FROM f ${v.groupingSets([['bucket_ns'], []])} ORDER BY bucket_ns NULLS FIRST`;
  return { sql, params: b.params };
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v !== '' ? Number(v) : 0;
}

function ms(v: unknown): number | null {
  return v === null || v === undefined ? null : Math.round(num(v) / 1e3) / 1e3;
}

function rate(a: number, n: number): number | null {
  return n > 0 ? Math.round((a / n) * 1e4) / 1e4 : null;
}

/** Shapes workflow rows: totals, a funnel per step and a gap-free series of success rates. */
export function shapeWorkflow(rows: Record<string, unknown>[], o: WorkflowOptions) {
  const total = rows.find((r) => r.bucket_ns === null || r.bucket_ns === undefined);
  const q = (r: Record<string, unknown> | undefined) => (Array.isArray(r?.q) ? r.q : []);
  const figures = (r: Record<string, unknown> | undefined) => {
    const instances = num(r?.instances);
    return {
      instances,
      completed: num(r?.completed),
      succeeded: num(r?.succeeded),
      completion_rate: rate(num(r?.completed), instances),
      success_rate: rate(num(r?.succeeded), instances),
    };
  };
  const byBucket = new Map<bigint, Record<string, unknown>>();
  for (const r of rows) if (r.bucket_ns !== null && r.bucket_ns !== undefined) byBucket.set(BigInt(String(r.bucket_ns)), r);
  const series = [];
  for (let t = (o.fromNs / o.bucketNs) * o.bucketNs; t < o.toNs; t += o.bucketNs) {
    const r = byBucket.get(t);
    series.push({ time: new Date(Number(t / 1_000_000n)).toISOString(), ...figures(r), p95_ms: ms(q(r)[1]) });
  }
  const started = num(total?.instances);
  return {
    summary: { ...figures(total), latency_p50_ms: ms(q(total)[0]), latency_p95_ms: ms(q(total)[1]), latency_p99_ms: ms(q(total)[2]) },
    steps: o.steps.map((s, i) => {
      const reached = num(total?.[`reached_${i + 1}`]);
      const errors = num(total?.[`errors_${i + 1}`]);
      return { step: i + 1, ...s, reached, reached_rate: rate(reached, started), errors, error_rate: rate(errors, reached), p95_ms: ms(total?.[`p95_${i + 1}`]) };
    }),
    series,
  };
}
