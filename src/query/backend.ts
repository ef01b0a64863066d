/**
 * The telemetry backend: a store paired with the dialect that speaks its SQL, chosen in one place by
 * where the telemetry lives. Today a DuckDB file; a `clickhouse://` URL will select the ClickHouse store
 * and dialect (issue: scale-out) without any caller changing.
 */
import { duckdbDialect } from './dialect/duckdb.ts';
import type { Dialect } from './dialect/dialect.ts';
import { openDuckDBStore, type DuckDBOptions } from '../store/telemetry/duckdb.ts';
import type { TelemetryStore } from '../store/telemetry/store.ts';

/** A telemetry store and its dialect. */
export interface TelemetryBackend {
  store: TelemetryStore;
  dialect: Dialect;
}

/** Opens the telemetry backend at `location`: a DuckDB file path (or `:memory:`). */
export async function openTelemetryBackend(location: string, options: DuckDBOptions = {}): Promise<TelemetryBackend> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new Error(`telemetry store "${location.replace(/\/\/[^@/]*@/, '//***@')}": only an embedded DuckDB file is supported so far`);
  }
  return { store: await openDuckDBStore(location, options), dialect: duckdbDialect };
}
