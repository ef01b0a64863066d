/**
 * Durability: a request is acknowledged only after its rows are committed. The server is SIGKILLed
 * mid-stream, restarted, and every acknowledged record must be there; SIGTERM drains and flushes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';
import { openDuckDBStore } from '../src/store/telemetry/duckdb.ts';
import { runVigil, spawnVigil, tempDir, type ChildVigil } from './helpers/vigil.ts';

const BATCH = 500;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function batchBody(batch: string): Uint8Array {
  const T = otlpTypes().logs.request;
  const records = Array.from({ length: BATCH }, (_, i) => ({
    timeUnixNano: String(BigInt(Date.now()) * 1_000_000n + BigInt(i)),
    severityNumber: 9,
    body: { stringValue: `durability ${batch} record ${i}` },
    attributes: [{ key: 'batch', value: { stringValue: batch } }],
  }));
  return T.encode(T.fromObject({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'durability' } }] }, scopeLogs: [{ logRecords: records }] }] })).finish();
}

/** Sends batches from several concurrent senders until stopped; returns the acknowledged batch ids. */
function startSending(vigil: ChildVigil, token: string, senders = 4): { stop: () => Promise<string[]>; acked: string[] } {
  const acked: string[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: senders }, async (_, s) => {
    while (running) {
      const id = `s${s}-b${n++}`;
      try {
        const res = await fetch(`${vigil.urls.otlp}/v1/logs`, {
          method: 'POST',
          body: batchBody(id),
          headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` },
        });
        if (res.status === 200) acked.push(id);
        await res.arrayBuffer();
      } catch {
        // Connection refused or reset: the server is gone; that request was never acknowledged.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return acked;
    },
  };
}

async function countsByBatch(dataDir: string): Promise<Map<string, number>> {
  const store = await openDuckDBStore(`${dataDir}/telemetry.duckdb`);
  try {
    const rows = await store.query(`SELECT json_extract_string(LogAttributes, '$.batch') AS b, count(*) AS n FROM otel_logs GROUP BY b`);
    return new Map(rows.map((r) => [String(r.b), Number(r.n)]));
  } finally {
    await store.close();
  }
}

async function newToken(dataDir: string): Promise<string> {
  const res = await runVigil(['token', 'create', '--name', 'dur', '--scope', 'ingest', '--data-dir', dataDir]);
  expect(res.code).toBe(0);
  return res.stdout.trim().split('\n').pop()!;
}

const portArgs = ['--port', '0', '--otlp-port', '0', '--hec-port', '0'];

describe('durability', () => {
  it('keeps every acknowledged record across SIGKILL mid-stream', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const token = await newToken(dir);
    const first = await spawnVigil(['start', '--data-dir', dir, ...portArgs]);
    const sending = startSending(first, token);
    // Let a good number of batches through, then kill without warning.
    while (sending.acked.length < 40) await new Promise((r) => setTimeout(r, 20));
    first.proc.kill('SIGKILL');
    await first.exited;
    const acked = await sending.stop();
    expect(acked.length).toBeGreaterThanOrEqual(40);

    // Restart: the store replays its write-ahead log.
    const second = await spawnVigil(['start', '--data-dir', dir, ...portArgs]);
    const ready = await fetch(`${second.urls.api}/readyz`);
    expect(ready.status).toBe(200);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const counts = await countsByBatch(dir);
    const missing = acked.filter((id) => counts.get(id) !== BATCH);
    expect(missing).toEqual([]);
    // Nothing half-written: every batch present is whole.
    for (const [id, n] of counts) expect(n, id).toBe(BATCH);
  });

  it('SIGTERM drains the queue: every request answered 200 is stored, and the process exits 0', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const token = await newToken(dir);
    const vigil = await spawnVigil(['start', '--data-dir', dir, ...portArgs]);
    const sending = startSending(vigil, token, 6);
    while (sending.acked.length < 10) await new Promise((r) => setTimeout(r, 10));
    vigil.proc.kill('SIGTERM');
    expect(await vigil.exited).toBe(0);
    expect(vigil.output()).toContain('SIGTERM: draining');
    const acked = await sending.stop();
    const counts = await countsByBatch(dir);
    expect(acked.filter((id) => counts.get(id) !== BATCH)).toEqual([]);
  });
});
