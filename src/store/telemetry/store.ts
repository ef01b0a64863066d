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

/**
 * The store refused the records of a write (a value its columns cannot hold) and is itself healthy:
 * retrying the same records fails again, other records go through.
 */
export class RecordsRefusedError extends Error {}

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
  /**
   * Appends the batches and commits them all or none; resolves only once every row is durable. Throws
   * {@link RecordsRefusedError} when a record cannot be stored, anything else when the store failed.
   */
  write(batches: readonly TelemetryBatch[]): Promise<void>;
  /** Runs a read-only SQL statement with positional parameters; interrupted after `timeoutMs`. */
  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<ResultRow[]>;
  /** Deletes the signal's rows dated before `oldestNs` or after `newestNs` (Unix ns); returns how many. */
  deleteOutside(signal: Signal, oldestNs: bigint, newestNs: bigint): Promise<number>;
  /** Reclaims space freed by deletes. */
  compact(): Promise<void>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
