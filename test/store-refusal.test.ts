/**
 * The telemetry store under records it cannot hold: the write that carries them is refused alone, the
 * store stays open (an in-memory store would lose everything if it reopened), reads running meanwhile
 * are unaffected; DuckDB is locked down against file access; retention removes far-future rows.
 */
import { describe, expect, it } from 'vitest';
import type { LogRow, TelemetryBatch } from '../src/model/telemetry.ts';
import { resourceFromAttributes } from '../src/ingest/otlp/decode.ts';
import { openDuckDBStore } from '../src/store/telemetry/duckdb.ts';
import { RecordsRefusedError } from '../src/store/telemetry/store.ts';

const NOW = BigInt(Date.now()) * 1_000_000n;
const resource = resourceFromAttributes({ 'service.name': 'refusal' });
const log = (body: string, timeNs = NOW): LogRow => ({
  timeNs, observedTimeNs: NOW, traceId: '', spanId: '', traceFlags: 0, severityText: '', severityNumber: 9, body, resource, scope: { name: '', version: '' }, attributes: {},
});
const batch = (...logs: LogRow[]): TelemetryBatch => ({ logs, spans: [], metrics: [] });

describe('telemetry store', () => {
  it('refuses a write holding an unstorable value without reopening, while reads go on', async () => {
    const store = await openDuckDBStore(':memory:');
    try {
      await store.write([batch(log('kept-1'), log('kept-2'))]);
      let reading = true;
      let reads = 0;
      const readers = Array.from({ length: 3 }, async () => {
        while (reading) {
          await store.query('SELECT count(*) AS n FROM otel_logs');
          reads++;
        }
      });
      for (let i = 0; i < 5; i++) {
        await expect(store.write([batch(log('good-in-bad-write'), log('bad', 2n ** 64n - 1n))])).rejects.toBeInstanceOf(RecordsRefusedError);
      }
      await store.write([batch(log('kept-3'))]);
      reading = false;
      await Promise.all(readers);
      expect(reads).toBeGreaterThan(0);
      const rows = await store.query('SELECT Body FROM otel_logs ORDER BY Body');
      // All or nothing: none of a refused write's rows, every row of the others.
      expect(rows.map((r) => r.Body)).toEqual(['kept-1', 'kept-2', 'kept-3']);
    } finally {
      await store.close();
    }
  });

  it('runs no SQL that reads files, writes files, loads extensions or unlocks its settings', async () => {
    const store = await openDuckDBStore(':memory:');
    try {
      for (const sql of [`SELECT * FROM read_text('/etc/passwd')`, `SELECT * FROM read_csv('/etc/hostname')`, `COPY otel_logs TO '/tmp/vigil-exfil.csv'`, `ATTACH '/tmp/vigil-other.duckdb' AS o`, 'LOAD httpfs', 'SET enable_external_access = true']) {
        await expect(store.query(sql), sql).rejects.toThrow(/disabled|locked|Permission/i);
      }
    } finally {
      await store.close();
    }
  });

  it('retention deletes rows dated beyond the accepted clock skew as well as expired ones', async () => {
    const store = await openDuckDBStore(':memory:');
    try {
      const day = 86_400_000_000_000n;
      await store.write([batch(log('old', NOW - 10n * day), log('now'), log('year-2200', NOW + 170n * 365n * day))]);
      expect(await store.deleteOutside('logs', NOW - 7n * day, NOW + day / 24n)).toBe(2);
      expect((await store.query('SELECT Body FROM otel_logs')).map((r) => r.Body)).toEqual(['now']);
    } finally {
      await store.close();
    }
  });
});
