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

/** The write side of the telemetry store: what the ingest pipeline and retention need. */
export interface TelemetryWriter {
  /**
   * Appends the batches and commits them all or none; resolves only once every row is durable. Throws
   * {@link RecordsRefusedError} when a record cannot be stored, anything else when the store failed.
   */
  write(batches: readonly TelemetryBatch[]): Promise<void>;
  /** Deletes the signal's rows dated before `oldestNs` or after `newestNs` (Unix ns); returns how many. */
  deleteOutside(signal: Signal, oldestNs: bigint, newestNs: bigint): Promise<number>;
  /** Reclaims space freed by deletes. */
  compact(): Promise<void>;
}

/** The read side: only the query service (src/query/service.ts) and self-observability call it. */
export interface TelemetryReader {
  /** Runs a read-only SQL statement with positional parameters; interrupted after `timeoutMs`. */
  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<ResultRow[]>;
  stats(): Promise<StoreStats>;
}

/**
 * The telemetry store (DESIGN.md §3): append-heavy and analytical. Only its implementation module
 * imports a database driver; everything else sees one of its two sides.
 */
export interface TelemetryStore extends TelemetryWriter, TelemetryReader {
  close(): Promise<void>;
}
