/**
 * A flood beyond capacity: many senders at once with large bodies. Vigil must refuse part of it with
 * 429 and Retry-After rather than buffer it, keep its resident memory under a bound, and store every
 * request it acknowledged.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';
import { openDuckDBStore } from '../src/store/telemetry/duckdb.ts';
import { runVigil, spawnVigil, tempDir } from './helpers/vigil.ts';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

function peakRssMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

function body(id: string, records: number): Uint8Array {
  const T = otlpTypes().logs.request;
  const pad = 'x'.repeat(400);
  return T.encode(
    T.fromObject({
      resourceLogs: [{ scopeLogs: [{ logRecords: Array.from({ length: records }, (_, i) => ({ body: { stringValue: `${id} ${i} ${pad}` }, attributes: [{ key: 'req', value: { stringValue: id } }] })) }] }],
    }),
  ).finish();
}

describe('backpressure', () => {
  it('answers a flood with 429 + Retry-After, keeps RSS bounded, and stores every acknowledged request', async () => {
    const token = (await runVigil(['token', 'create', '--name', 'flood', '--scope', 'ingest', '--data-dir', dir])).stdout.trim().split('\n').pop()!;
    const vigil = await spawnVigil(['start', '--data-dir', dir, '--port', '0', '--otlp-port', '0', '--hec-port', '0'], {
      VIGIL_INGEST__MAX_INFLIGHT_BYTES: String(24 * 1024 * 1024),
      VIGIL_INGEST__MAX_QUEUED_ROWS: '20000',
    });
    const payload = body('template', 8000); // about 3.6 MB per request
    const acked: string[] = [];
    let refused = 0;
    let retryAfter: string | null = null;
    const deadline = Date.now() + 6000;
    try {
      await Promise.all(
        Array.from({ length: 24 }, async (_, s) => {
          for (let n = 0; Date.now() < deadline; n++) {
            const id = `s${s}n${n}`;
            const res = await fetch(`${vigil.urls.otlp}/v1/logs`, {
              method: 'POST',
              // Same size every time; the id goes in a tiny second request-specific body part.
              body: n % 2 === 0 ? payload : body(id, 8000),
              headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` },
            });
            await res.arrayBuffer();
            if (res.status === 200 && n % 2 === 1) acked.push(id);
            else if (res.status === 429) {
              refused++;
              retryAfter = res.headers.get('retry-after');
            } else if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
          }
        }),
      );
      const rss = peakRssMb(vigil.proc.pid!);
      expect(refused).toBeGreaterThan(0);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      // Measured here: about 600-700 MB at the peak of this flood (JS heap of decoded batches, DuckDB
      // buffers); without the bounds it grows with every sender.
      expect(rss, `peak RSS ${rss.toFixed(0)} MB`).toBeLessThan(1024);
    } finally {
      vigil.proc.kill('SIGTERM');
      await vigil.exited;
    }
    const store = await openDuckDBStore(`${dir}/telemetry.duckdb`);
    try {
      const rows = await store.query(`SELECT json_extract_string(LogAttributes, '$.req') AS r, count(*) AS n FROM otel_logs WHERE json_extract_string(LogAttributes, '$.req') <> 'template' GROUP BY r`);
      const counts = new Map(rows.map((r) => [String(r.r), Number(r.n)]));
      expect(acked.length).toBeGreaterThan(0);
      expect(acked.filter((id) => counts.get(id) !== 8000)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
