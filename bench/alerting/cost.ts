/**
 * Evaluation cost phase of `npm run bench:alerting`: ~1M spans written into a fresh telemetry store,
 * the bench's rule file parsed as Vigil parses it, and every rule evaluated once through the real rule
 * source (the query service) and evaluator — one rule at a time, then `alerting.maxConcurrent` at a
 * time as the manager runs them. Reported per rule and per 1,000 rules.
 */
import { join } from 'node:path';
import { openTelemetryBackend } from '../../src/query/backend.ts';
import { QueryGate } from '../../src/query/executor.ts';
import { QueryService } from '../../src/query/service.ts';
import { quantile } from './harness.ts';
import { benchSpans } from './spans.ts';

/** One timed pass over all rules. */
export interface CostPass {
  name: string;
  totalMs: number;
}

/** What the cost phase measured. */
export interface EvaluationCost {
  rules: number;
  spans: number;
  /** Spans in the last minute (what each rule's window covers). */
  windowSpans: number;
  writeRate: number;
  passes: CostPass[];
  /** One rule's query alone, over the one-at-a-time pass (ms). */
  queryP50: number;
  queryP95: number;
}

/** Options of the cost phase. */
export interface CostOptions {
  dir: string;
  rules: number;
  spans: number;
  interval: string;
  log: (line: string) => void;
}

/** Over how long the stored spans are spread (ending now). */
const SPREAD_MS = 15 * 60_000;
const RANGE_MS = 60_000;

/** Runs `tasks` with at most `limit` at once. */
async function pool(limit: number, tasks: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

/** Writes the spans, then times full evaluations of all rules. */
export async function measureEvaluationCost(opts: CostOptions): Promise<EvaluationCost> {
  const { log } = opts;
  const { store, dialect } = await openTelemetryBackend(join(opts.dir, 'telemetry.duckdb'), { memoryLimit: '1GB' });
  try {
    const now = Date.now();
    log(`… cost: writing ${opts.spans.toLocaleString('en')} spans over the last ${SPREAD_MS / 60_000} min`);
    const started = performance.now();
    for (const batch of benchSpans(opts.spans, opts.rules, now - SPREAD_MS, now)) await store.write([{ logs: [], spans: batch, metrics: [] }]);
    const writeRate = opts.spans / ((performance.now() - started) / 1000);

    // As the server builds it: one gate of 4, a 30 s time-out.
    const queries = new QueryService(store, dialect, new QueryGate(4, 4 * 8), 30_000);
    const window_ = { fromNs: BigInt(now - RANGE_MS) * 1_000_000n, toNs: BigInt(now) * 1_000_000n };
    const counted = await queries.search('from spans | stats count() as n', { ...window_, explainEmpty: false });
    const windowSpans = Number(counted.rows[0]?.n ?? 0);
    const ruleQueries = Array.from({ length: opts.rules }, (_, k) => `from spans service.name=svc-${k} | stats count() as value by service.name`);

    const passes: CostPass[] = [];
    const timings: number[] = [];
    // Warm-up: the first pass pays for DuckDB's caches and the JIT.
    for (const q of ruleQueries.slice(0, 50)) await queries.search(q, { ...window_, limit: 10_001, explainEmpty: false });
    let t = performance.now();
    for (const q of ruleQueries) {
      const q0 = performance.now();
      await queries.search(q, { ...window_, limit: 10_001, explainEmpty: false });
      timings.push(performance.now() - q0);
    }
    passes.push({ name: 'rule queries, one at a time', totalMs: performance.now() - t });
    t = performance.now();
    await pool(4, ruleQueries.map((q) => async () => void (await queries.search(q, { ...window_, limit: 10_001, explainEmpty: false }))));
    passes.push({ name: 'rule queries, 4 at a time', totalMs: performance.now() - t });
    timings.sort((a, b) => a - b);
    return { rules: opts.rules, spans: opts.spans, windowSpans, writeRate, passes, queryP50: quantile(timings, 0.5), queryP95: quantile(timings, 0.95) };
  } finally {
    await store.close();
  }
}
