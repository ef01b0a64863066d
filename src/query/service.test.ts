import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTelemetryBackend, type TelemetryBackend } from './backend.ts';
import { QueryBusyError, QueryGate } from './executor.ts';
import { compileQuery } from './index.ts';
import { QueryService } from './service.ts';
import { StoreTimeoutError } from '../store/telemetry/store.ts';

// A statement that runs for seconds unless interrupted.
const SLOW = { sql: 'SELECT count(*) AS n FROM range(20000000000) a', params: [] };

let backend: TelemetryBackend;
beforeAll(async () => {
  backend = await openTelemetryBackend(':memory:');
});
afterAll(async () => {
  await backend.store.close();
});

describe('QueryService', () => {
  it('answers the query language, compiled plans and view SQL through the store and its dialect', async () => {
    const q = new QueryService(backend.store, backend.dialect, new QueryGate(2, 2), 5000);
    const search = await q.search('from logs | stats count() as n', { fromNs: 0n, toNs: 1n });
    expect(search.rows).toEqual([{ n: 0 }]);
    const compiled = compileQuery('from spans | stats count() as n', { from: 0n, to: 1n, dialect: q.dialect });
    expect((await q.execute(compiled)).rows).toEqual([{ n: 0 }]);
    expect(await q.rows({ sql: 'SELECT 1 + $1::INTEGER AS two', params: [1] })).toEqual([{ two: 2 }]);
  });

  it('holds every kind of read to one gate: past its slots and queue, reads are refused', async () => {
    const q = new QueryService(backend.store, backend.dialect, new QueryGate(1, 0), 1500);
    const slow = q.rows(SLOW).catch((err: unknown) => err);
    await expect(q.search('from logs', { fromNs: 0n, toNs: 1n })).rejects.toBeInstanceOf(QueryBusyError);
    await expect(q.rows({ sql: 'SELECT 1', params: [] })).rejects.toBeInstanceOf(QueryBusyError);
    expect(await slow).toBeInstanceOf(StoreTimeoutError);
  });

  it('interrupts a read at its time-out, and the next read runs', async () => {
    const q = new QueryService(backend.store, backend.dialect, new QueryGate(1, 1), 200);
    const started = Date.now();
    await expect(q.rows(SLOW)).rejects.toBeInstanceOf(StoreTimeoutError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await q.rows({ sql: 'SELECT 42 AS x', params: [] })).toEqual([{ x: 42 }]);
  });

  it('refuses a telemetry location it has no store for, without echoing credentials', async () => {
    await expect(openTelemetryBackend('clickhouse://user:secret@db:8123/otel')).rejects.toThrow(/clickhouse:\/\/\*\*\*@db.*only an embedded DuckDB/);
  });
});
