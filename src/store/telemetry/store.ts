import type { Signal, TelemetryBatch } from '../../model/telemetry.ts';

/** A row of a query result, keyed by column name. */
export type ResultRow = Record<string, unknown>;

/** Options of a read. */
export interface QueryOptions {
  /** Interrupt the statement after this many milliseconds (default: no limit). */
  timeoutMs?: number;
}

/** A read that ran past its time-out and was interrupted. */
export class StoreTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`query timed out after ${timeoutMs} ms; narrow the time range or add filters`);
  }
}

/** Sizes the store reports for self-observability. */
export interface StoreStats {
  /** Bytes on disk (database file plus write-ahead log). */
  bytes: number;
  /** Rows per table. */
  rows: Record<string, number>;
}

/**
 * The telemetry store (DESIGN.md §3): append-heavy and analytical. Only its implementation module
 * imports a database driver; everything else sees this interface.
 */
export interface TelemetryStore {
  /** Appends the batches and commits them; resolves only once every row is durable. */
  write(batches: readonly TelemetryBatch[]): Promise<void>;
  /** Runs a read-only SQL statement with positional parameters; interrupted after `timeoutMs`. */
  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<ResultRow[]>;
  /** Deletes the signal's rows older than the cutoff (Unix ns); returns how many were deleted. */
  deleteOlderThan(signal: Signal, cutoffNs: bigint): Promise<number>;
  /** Reclaims space freed by deletes. */
  compact(): Promise<void>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
