/**
 * A failing store never yields a 200 for data it did not keep: a store that cannot commit (closed
 * underneath the server) and a genuinely full disk (a small tmpfs) both answer 503 with Retry-After.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';
import { startVigil } from '../src/server/app.ts';
import { startTestVigil } from './helpers/vigil.ts';

function logsBody(batch: string, n: number, pad = 0): Uint8Array {
  const T = otlpTypes().logs.request;
  const records = Array.from({ length: n }, (_, i) => ({
    body: { stringValue: `${batch} ${i} ${Math.random().toString(36).repeat(pad)}` },
    attributes: [{ key: 'batch', value: { stringValue: batch } }],
  }));
  return T.encode(T.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] })).finish();
}

describe('failing store', () => {
  it('answers 503 with Retry-After on OTLP and 503 code 9 on HEC when the store cannot commit', async () => {
    const v = await startTestVigil();
    try {
      await v.server.store.close();
      const otlp = await fetch(`${v.server.urls.otlp}/v1/logs`, {
        method: 'POST',
        body: logsBody('closed', 3),
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${v.ingestToken}` },
      });
      expect(otlp.status).toBe(503);
      expect(otlp.headers.get('retry-after')).toBeTruthy();
      const hec = await fetch(`${v.server.urls.hec}/services/collector/event`, { method: 'POST', body: '{"event":"x"}', headers: { authorization: `Splunk ${v.ingestToken}` } });
      expect(hec.status).toBe(503);
      expect(await hec.json()).toMatchObject({ text: 'Server is busy', code: 9 });
    } finally {
      await v.stop();
    }
  });

  describe('full disk', () => {
    const mount = mkdtempSync(join(tmpdir(), 'vigil-full-disk-'));
    afterAll(() => {
      try {
        execFileSync('umount', [mount]);
      } catch {
        // not mounted
      }
      rmSync(mount, { recursive: true, force: true });
    });

    it('answers 503 once the disk is full, and every batch answered 200 is stored', async () => {
      // A 24 MiB filesystem: the stores open, then ingest fills it.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount]);
      const server = await startVigil(loadConfig({ env: {}, flags: { dataDir: mount, port: 0, otlpPort: 0, hecPort: 0, logLevel: 'silent' } }));
      const token = await server.tokens.create('disk', 'ingest');
      const acked: string[] = [];
      let unavailable: Response | undefined;
      // Reads run throughout: the reopen after the disk fills must wait for them, never close a
      // connection under a running statement (which crashed the process).
      let reading = true;
      const readers = [
        (async () => {
          while (reading) await (await fetch(`${server.urls.api}/readyz`)).arrayBuffer();
        })(),
        (async () => {
          while (reading) await server.store.query('SELECT count(*) AS n, max(Body) AS b FROM otel_logs').catch(() => undefined);
        })(),
      ];
      try {
        for (let i = 0; i < 400 && !unavailable; i++) {
          const id = `fill-${i}`;
          const res = await fetch(`${server.urls.otlp}/v1/logs`, {
            method: 'POST',
            body: logsBody(id, 2000, 8),
            headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` },
          });
          if (res.status === 200) acked.push(id);
          else if (res.status === 503) unavailable = res;
          else throw new Error(`unexpected status ${res.status}: ${await res.text()}`);
        }
        expect(unavailable, 'the disk never filled').toBeDefined();
        expect(unavailable!.headers.get('retry-after')).toBeTruthy();
        expect(acked.length).toBeGreaterThan(0);
        // The operator frees space: the store reopens its file (replaying the WAL) and takes data again.
        execFileSync('mount', ['-o', 'remount,size=256m', mount]);
        const after = await fetch(`${server.urls.otlp}/v1/logs`, {
          method: 'POST',
          body: logsBody('after-space-freed', 10),
          headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` },
        });
        expect(after.status).toBe(200);
        acked.push('after-space-freed');
        // Every acknowledged batch is readable, whole.
        const rows = await server.store.query(`SELECT json_extract_string(LogAttributes, '$.batch') AS b, count(*) AS n FROM otel_logs GROUP BY b`);
        const counts = new Map(rows.map((r) => [String(r.b), Number(r.n)]));
        expect(acked.filter((id) => counts.get(id) !== (id === 'after-space-freed' ? 10 : 2000))).toEqual([]);
        reading = false;
        await Promise.all(readers);
      } finally {
        reading = false;
        await server.stop().catch(() => undefined);
      }
    });
  });
});
