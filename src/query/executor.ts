/**
 * Runs compiled queries with the guards the plan cannot enforce by itself: a time-out (interrupting
 * the engine), a concurrency gate, truncation detection, and JSON-safe result values.
 * The engine is passed in as a `run` function so this module stays testable without a database.
 */
import type { CompiledColumn, CompiledQuery, SqlParam } from './dialect/dialect.ts';
import type { QueryWarning } from './errors.ts';

/** Runs SQL with bind parameters and returns rows keyed by column name. */
export type RunFn = (sql: string, params: SqlParam[]) => Promise<Record<string, unknown>[]>;

/** A JSON-safe value of a result cell. */
export type ResultValue = string | number | boolean | null | ResultValue[] | { [key: string]: ResultValue };

/** Rows of an executed query. */
export interface QueryResult {
  kind: 'events' | 'aggregate';
  columns: CompiledColumn[];
  rows: Record<string, ResultValue>[];
  /** True when more rows matched than the limit allowed. */
  truncated: boolean;
  elapsedMs: number;
  /** What the answer leaves out or changed (cut values, a widened span). */
  warnings: QueryWarning[];
}

/** Appended to a text value that was cut to the answer's per-cell bound. */
export const CUT_MARKER = '… [cut]';

/** Options of {@link executeQuery}. */
export interface ExecuteOptions {
  /** Abort after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Called on time-out to stop the engine (DuckDB: `connection.interrupt()`). */
  interrupt?: () => void;
  /** Turns an engine error the query caused into a user error (the dialect's `engineError`). */
  engineError?: (err: unknown) => Error | null;
}

/** Thrown when a query runs longer than its time-out. */
export class QueryTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`query timed out after ${timeoutMs} ms; narrow the time range or add filters`);
    this.name = 'QueryTimeoutError';
  }
}

/** Thrown when too many queries are already running and waiting. */
export class QueryBusyError extends Error {
  constructor() {
    super('too many queries are running; try again shortly');
    this.name = 'QueryBusyError';
  }
}

/** Executes a compiled query under a time-out and shapes its rows. */
export async function executeQuery(compiled: CompiledQuery, run: RunFn, options: ExecuteOptions = {}): Promise<QueryResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      options.interrupt?.();
      reject(new QueryTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    let raw: Record<string, unknown>[];
    try {
      raw = await Promise.race([run(compiled.sql, compiled.params), timeout]);
    } catch (err) {
      throw options.engineError?.(err) ?? err;
    }
    // The SQL fetches limit + 1 rows so that "there is more" is known without a second count query.
    const truncated = raw.length > compiled.limit;
    let cut = false;
    const rows = raw.slice(0, compiled.limit).map((r) => {
      const out: Record<string, ResultValue> = {};
      for (const c of compiled.columns) {
        const v = r[c.name];
        // The engine returned at most one character more than the bound: that one says it was cut.
        if (typeof v === 'string' && v.length > compiled.cellChars) {
          cut = true;
          out[c.name] = v.slice(0, compiled.cellChars) + CUT_MARKER;
        } else out[c.name] = toResultValue(v, c.type === 'json');
      }
      return out;
    });
    const warnings = [...compiled.warnings];
    if (cut) warnings.push({ message: `values longer than ${compiled.cellChars} characters were cut (marked "${CUT_MARKER}"); ask for fewer rows or fields to see more of them` });
    return { kind: compiled.kind, columns: compiled.columns, rows, truncated, elapsedMs: performance.now() - started, warnings };
  } finally {
    clearTimeout(timer);
  }
}

const NS_PER_MS = 1_000_000n;

function isoFromNanos(ns: bigint): string {
  const ms = ns / NS_PER_MS;
  const rest = ns - ms * NS_PER_MS;
  const base = new Date(Number(ms)).toISOString(); // 2024-01-01T00:00:00.123Z
  return rest === 0n ? base : `${base.slice(0, -1)}${rest.toString().padStart(6, '0')}Z`;
}

/** Converts an engine value to JSON: safe bigints to numbers, timestamps to ISO-8601 text, JSON text parsed. */
export function toResultValue(v: unknown, json = false): ResultValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string') {
    if (json) {
      try {
        return JSON.parse(v) as ResultValue;
      } catch {
        return v;
      }
    }
    return v;
  }
  if (typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => toResultValue(x));
  if (typeof v === 'object') {
    const o = v as { nanos?: unknown; micros?: unknown; millis?: unknown };
    if (typeof o.nanos === 'bigint') return isoFromNanos(o.nanos);
    if (typeof o.micros === 'bigint') return isoFromNanos(o.micros * 1000n);
    if (typeof o.millis === 'bigint') return isoFromNanos(o.millis * NS_PER_MS);
    return String(v);
  }
  return String(v);
}

/**
 * Limits how many queries run at once; extra callers wait in a bounded queue and beyond that are
 * refused with {@link QueryBusyError}, so one dashboard cannot starve ingest of CPU.
 */
export class QueryGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly maxConcurrent = 4,
    private readonly maxQueued = 32,
  ) {}

  /** Runs `fn` when a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueued) throw new QueryBusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; otherwise free it.
      if (next) next();
      else this.running--;
    }
  }
}
