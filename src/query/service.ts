/**
 * The query service: the one way anything reads telemetry (DESIGN.md §9). It owns the store's read
 * side, the store's dialect, the query gate and the time-out, as Prometheus rules receive one
 * `QueryFunc`: routes, monitors and — later — alert rules, detectors and reports ask it for a
 * query-language answer, a compiled plan's answer, or a view's rows, and never see the store.
 *
 * Time-out: the store interrupts the engine at `timeoutMs` (StoreTimeoutError). The executor's own
 * timer, a second later, is only a backstop for an engine that does not stop.
 */
import type { CompiledQuery, Dialect, SqlParam } from './dialect/dialect.ts';
import { executeQuery, type QueryGate, type QueryResult, type RunFn } from './executor.ts';
import { runQuery } from './run.ts';
import type { ResultRow, TelemetryReader } from '../store/telemetry/store.ts';

/** SQL a view built for this service's dialect, with its bind parameters. */
export interface ViewQuery {
  sql: string;
  params: readonly unknown[];
}

/** Options of a query-language run. */
export interface SearchOptions {
  fromNs: bigint;
  toNs: bigint;
  limit?: number;
  /** Whether an empty-looking answer is explained with one extra query (default true). */
  explainEmpty?: boolean;
}

// How long after the store's own time-out the executor gives up on an engine that did not stop.
const BACKSTOP_MS = 1000;

/** Reads telemetry through one gate, one time-out and one dialect. */
export class QueryService {
  private readonly run: RunFn;

  constructor(
    private readonly reader: TelemetryReader,
    /** The dialect of the reader's engine: views build their SQL with it. */
    readonly dialect: Dialect,
    private readonly gate: QueryGate,
    /** Time-out of one query, in milliseconds. */
    readonly timeoutMs: number,
  ) {
    this.run = (sql: string, params: SqlParam[]) => this.reader.query(sql, params, { timeoutMs: this.timeoutMs });
  }

  /** Runs a query-language text over a time range (search, live tail, dashboards, alert rules). */
  search(text: string, options: SearchOptions): Promise<QueryResult> {
    return runQuery(text, {
      from: options.fromNs,
      to: options.toNs,
      limit: options.limit,
      explainEmpty: options.explainEmpty,
      dialect: this.dialect,
      gate: this.gate,
      timeoutMs: this.timeoutMs + BACKSTOP_MS,
      run: this.run,
    });
  }

  /** Runs a query compiled from a plan by this service's dialect, with the answer shaped and bounded. */
  execute(compiled: CompiledQuery): Promise<QueryResult> {
    return this.gate.run(() =>
      executeQuery(compiled, this.run, { timeoutMs: this.timeoutMs + BACKSTOP_MS, engineError: (err) => this.dialect.engineError(err) }),
    );
  }

  /** Runs a view's SQL and returns its raw rows, for the view's own shaper. */
  rows(q: ViewQuery): Promise<ResultRow[]> {
    return this.gate.run(() => this.reader.query(q.sql, q.params, { timeoutMs: this.timeoutMs }));
  }
}
