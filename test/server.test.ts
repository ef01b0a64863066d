/**
 * Self-observability (/healthz, /readyz, /metrics) and retention on a real server and store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';
import { countRows, startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
beforeAll(async () => {
  v = await startTestVigil();
});
afterAll(async () => {
  await v?.stop();
});

const DAY_NS = 86_400_000_000_000n;

async function sendLogs(records: { ageDays: number; body: string }[]): Promise<void> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const T = otlpTypes().logs.request;
  const body = T.encode(
    T.fromObject({
      resourceLogs: [{ scopeLogs: [{ logRecords: records.map((r) => ({ timeUnixNano: String(now - BigInt(r.ageDays) * DAY_NS), body: { stringValue: r.body } })) }] }],
    }),
  ).finish();
  const res = await fetch(`${v.server.urls.otlp}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${v.ingestToken}` } });
  expect(res.status).toBe(200);
}

async function sendGauge(ageDays: number, name: string): Promise<void> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const T = otlpTypes().metrics.request;
  const body = T.encode(
    T.fromObject({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name, gauge: { dataPoints: [{ timeUnixNano: String(now - BigInt(ageDays) * DAY_NS), asDouble: 1 }] } }] }] }] }),
  ).finish();
  const res = await fetch(`${v.server.urls.otlp}/v1/metrics`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${v.ingestToken}` } });
  expect(res.status).toBe(200);
}

describe('health and metrics', () => {
  it('/healthz and /readyz answer without a token', async () => {
    expect(await (await fetch(`${v.server.urls.api}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${v.server.urls.api}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('/metrics needs a read token and reports ingest counters, queue, commit latency and store size', async () => {
    await sendLogs([{ ageDays: 0, body: 'metrics-check' }]);
    expect((await fetch(`${v.server.urls.api}/metrics`)).status).toBe(401);
    const ingestOnly = await fetch(`${v.server.urls.api}/metrics`, { headers: { authorization: `Bearer ${v.ingestToken}` } });
    expect(ingestOnly.status).toBe(403);
    const read = await v.server.tokens.create('prom', 'read');
    const res = await fetch(`${v.server.urls.api}/metrics`, { headers: { authorization: `Bearer ${read}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/vigil_ingest_records_accepted_total\{signal="logs",receiver="otlp"\} [1-9]/);
    expect(text).toContain('vigil_ingest_queue_rows 0');
    expect(text).toMatch(/vigil_store_commit_seconds_bucket\{le="\+Inf"\} [1-9]/);
    expect(text).toMatch(/vigil_store_rows\{table="otel_logs"\} [1-9]/);
    expect(text).toMatch(/vigil_store_bytes \d+/);
  });

  it('counts rejected requests by reason', async () => {
    await fetch(`${v.server.urls.otlp}/v1/logs`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain', authorization: `Bearer ${v.ingestToken}` } });
    const text = await (await fetch(`${v.server.urls.api}/metrics`, { headers: { authorization: `Bearer ${v.adminToken}` } })).text();
    expect(text).toMatch(/vigil_ingest_records_rejected_total\{signal="logs",receiver="otlp",reason="content_type"\} 1/);
  });
});

describe('retention', () => {
  it('deletes logs past 7 days and metrics past 30 days, keeps the rest, and counts deletions', async () => {
    // Ingest refuses records older than retention, so time passes instead: retention runs 6 days from now.
    await sendLogs([
      { ageDays: 3, body: 'retention-old' },
      { ageDays: 0, body: 'retention-recent' },
    ]);
    await sendGauge(25, 'retention.gauge.old');
    await sendGauge(0, 'retention.gauge.recent');
    const deleted = await v.server.runRetention(new Date(Date.now() + 6 * 86_400_000));
    expect(deleted.logs).toBe(1);
    expect(deleted.metrics).toBe(1);
    expect(await countRows(v.server, 'otel_logs', `Body = 'retention-old'`)).toBe(0);
    expect(await countRows(v.server, 'otel_logs', `Body = 'retention-recent'`)).toBe(1);
    expect(await countRows(v.server, 'otel_metrics_gauge', `MetricName = 'retention.gauge.old'`)).toBe(0);
    expect(await countRows(v.server, 'otel_metrics_gauge', `MetricName = 'retention.gauge.recent'`)).toBe(1);
    const text = await (await fetch(`${v.server.urls.api}/metrics`, { headers: { authorization: `Bearer ${v.adminToken}` } })).text();
    expect(text).toMatch(/vigil_retention_deleted_rows_total\{signal="logs"\} 1/);
  });
});
