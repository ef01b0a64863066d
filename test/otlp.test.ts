/**
 * The OTLP/HTTP receiver, driven by the official OpenTelemetry JS exporters (protobuf and JSON,
 * plain and gzip), then by hand-made bad requests, each of which must get its own error while
 * nothing accepted before is lost.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, trace, context } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as LogsHttp } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsHttp } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TracesHttp } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TracesProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';
import { countRows, startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
beforeAll(async () => {
  v = await startTestVigil();
});
afterAll(async () => {
  await v?.stop();
});

const resource = resourceFromAttributes({
  'service.name': 'rms-api',
  'service.namespace': 'rms',
  'service.version': '1.4.2',
  'host.name': 'rms-host-1',
  'deployment.environment': 'test',
});

interface Exporter<T> {
  export(items: T, done: (r: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

function exportWith<T>(exporter: Exporter<T>, items: T): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, resolve));
}

/** Real spans from the SDK: a server span with a child DB span carrying an exception event. */
async function makeSpans(tag: string): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('test', '1.0.0');
  const root = tracer.startSpan('GET /api/royalties', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'http.route': '/api/royalties', 'http.response.status_code': 500, tag },
  });
  const child = tracer.startSpan(
    'SELECT royalties',
    { kind: SpanKind.CLIENT, attributes: { 'db.system': 'sqlite', 'db.query.text': 'SELECT * FROM usage WHERE period = ?', tag } },
    trace.setSpan(context.active(), root),
  );
  child.recordException(new Error('disk I/O error'));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'disk I/O error' });
  child.end();
  root.setStatus({ code: SpanStatusCode.ERROR });
  root.end();
  await provider.forceFlush();
  return memory.getFinishedSpans();
}

async function makeLogs(tag: string): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger('test');
  logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: `payment failed ${tag}`, attributes: { tag, 'rights_holder.id': 42 } });
  logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: { event: 'statement.viewed', tag }, attributes: { tag } });
  await provider.forceFlush();
  return memory.getFinishedLogRecords();
}

async function makeMetrics(tag: string): Promise<ResourceMetrics> {
  const memory = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: memory, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('test');
  meter.createCounter('royalty.calculations').add(3, { tag });
  meter.createHistogram('http.server.request.duration', { unit: 's' }).record(0.25, { tag, 'http.route': '/api/pay' });
  meter.createGauge('db.pool.usage').record(7, { tag });
  await reader.forceFlush();
  const metrics = memory.getMetrics();
  await provider.shutdown();
  return metrics[metrics.length - 1]!;
}

const variants = [
  { name: 'protobuf', gzip: false },
  { name: 'protobuf', gzip: true },
  { name: 'json', gzip: false },
  { name: 'json', gzip: true },
] as const;

describe('official OpenTelemetry exporters', () => {
  for (const variant of variants) {
    const label = `${variant.name}${variant.gzip ? '+gzip' : ''}`;
    it(`stores traces, logs and metrics sent as ${label}`, async () => {
      const base = v.server.urls.otlp;
      const opts = (signal: string) => ({
        url: `${base}/v1/${signal}`,
        headers: { Authorization: `Bearer ${v.ingestToken}` },
        compression: variant.gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
      });
      const proto = variant.name === 'protobuf';
      const tag = label;

      const spans = await makeSpans(tag);
      const traceExporter = proto ? new TracesProto(opts('traces')) : new TracesHttp(opts('traces'));
      expect((await exportWith(traceExporter, spans)).code).toBe(ExportResultCode.SUCCESS);

      const logs = await makeLogs(tag);
      const logExporter = proto ? new LogsProto(opts('logs')) : new LogsHttp(opts('logs'));
      expect((await exportWith(logExporter, logs)).code).toBe(ExportResultCode.SUCCESS);

      const metrics = await makeMetrics(tag);
      const metricExporter = proto ? new MetricsProto(opts('metrics')) : new MetricsHttp(opts('metrics'));
      expect((await exportWith(metricExporter, metrics)).code).toBe(ExportResultCode.SUCCESS);
      await Promise.all([traceExporter.shutdown(), logExporter.shutdown(), metricExporter.shutdown()]);

      // Spans: ids, parentage, kind, status, promoted attributes, exception event.
      const stored = await v.server.store.query(
        `SELECT TraceId, SpanId, ParentSpanId, SpanName, SpanKind, StatusCode, ServiceName, ServiceNamespace, ServiceVersion, HostName,
                Duration, HttpRoute, HttpStatusCode, HttpMethod, DbSystem, DbStatement, Events, ResourceAttributes
         FROM otel_traces WHERE json_extract_string(SpanAttributes, '$.tag') = ? ORDER BY SpanName`,
        [tag],
      );
      expect(stored).toHaveLength(2);
      const [server, db] = [stored.find((s) => s.SpanKind === 'Server')!, stored.find((s) => s.SpanKind === 'Client')!];
      const sdkRoot = spans.find((s) => s.kind === SpanKind.SERVER)!;
      expect(server.TraceId).toBe(sdkRoot.spanContext().traceId);
      expect(server.SpanId).toBe(sdkRoot.spanContext().spanId);
      expect(db.ParentSpanId).toBe(server.SpanId);
      expect(db.TraceId).toBe(server.TraceId);
      expect(server).toMatchObject({ ServiceName: 'rms-api', ServiceNamespace: 'rms', ServiceVersion: '1.4.2', HostName: 'rms-host-1', HttpRoute: '/api/royalties', HttpStatusCode: 500, HttpMethod: 'GET', StatusCode: 'Error' });
      expect(db).toMatchObject({ DbSystem: 'sqlite', DbStatement: 'SELECT * FROM usage WHERE period = ?', StatusCode: 'Error' });
      expect(JSON.parse(String(db.Events))[0]).toMatchObject({ Name: 'exception', Attributes: { 'exception.message': 'disk I/O error' } });
      expect(JSON.parse(String(server.ResourceAttributes))['deployment.environment']).toBe('test');
      expect(Number(server.Duration)).toBeGreaterThanOrEqual(0);

      // Logs: severity, body (string and structured), attributes.
      const storedLogs = await v.server.store.query(
        `SELECT SeverityNumber, SeverityText, Body, ServiceName, LogAttributes FROM otel_logs WHERE json_extract_string(LogAttributes, '$.tag') = ? ORDER BY SeverityNumber DESC`,
        [tag],
      );
      expect(storedLogs).toHaveLength(2);
      expect(storedLogs[0]).toMatchObject({ SeverityNumber: 17, SeverityText: 'ERROR', Body: `payment failed ${tag}`, ServiceName: 'rms-api' });
      expect(JSON.parse(String(storedLogs[0]!.LogAttributes))['rights_holder.id']).toBe(42);
      expect(JSON.parse(String(storedLogs[1]!.Body))).toEqual({ event: 'statement.viewed', tag });

      // Metrics: a monotonic cumulative sum, a histogram with its buckets, a gauge.
      const sums = await v.server.store.query(`SELECT Value, AggregationTemporality, IsMonotonic FROM otel_metrics_sum WHERE MetricName = 'royalty.calculations' AND json_extract_string(Attributes, '$.tag') = ?`, [tag]);
      expect(sums).toEqual([{ Value: 3, AggregationTemporality: 'cumulative', IsMonotonic: true }]);
      const hist = await v.server.store.query(`SELECT Count, Sum, BucketCounts, ExplicitBounds, MetricUnit FROM otel_metrics_histogram WHERE json_extract_string(Attributes, '$.tag') = ?`, [tag]);
      expect(hist).toHaveLength(1);
      expect(Number(hist[0]!.Count)).toBe(1);
      expect(hist[0]!.Sum).toBe(0.25);
      expect(hist[0]!.MetricUnit).toBe('s');
      const bounds = hist[0]!.ExplicitBounds as number[];
      const counts = (hist[0]!.BucketCounts as bigint[]).map(Number);
      expect(counts.length).toBe(bounds.length + 1);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
      const gauges = await v.server.store.query(`SELECT Value FROM otel_metrics_gauge WHERE MetricName = 'db.pool.usage' AND json_extract_string(Attributes, '$.tag') = ?`, [tag]);
      expect(gauges).toEqual([{ Value: 7 }]);
    });
  }

  it('refuses an exporter with a wrong token (401) and stores nothing from it', async () => {
    const exporter = new TracesProto({ url: `${v.server.urls.otlp}/v1/traces`, headers: { Authorization: 'Bearer vgl_not-a-real-token' } });
    const result = await exportWith(exporter, await makeSpans('bad-token'));
    await exporter.shutdown();
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(await countRows(v.server, 'otel_traces', `json_extract_string(SpanAttributes, '$.tag') = 'bad-token'`)).toBe(0);
  });
});

// ---- raw requests ----

const logsType = () => otlpTypes().logs.request;
const statusType = () => otlpTypes().status;

function logsRequest(records: object[]): Record<string, unknown> {
  return { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'lms-api' } }] }, scopeLogs: [{ scope: { name: 's' }, logRecords: records }] }] };
}

async function post(path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${v.server.urls.otlp}${path}`, { method: 'POST', body, headers });
}

function auth(contentType: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${v.ingestToken}`, 'content-type': contentType, ...extra };
}

describe('OTLP request handling', () => {
  it('accepts JSON with integer or string enums, hex ids, unknown fields, and answers partial_success for bad items', async () => {
    // Whole seconds of a recent time: as nanoseconds they are exact in a JS number too.
    const ns = (Math.floor(Date.now() / 1000) - 600) * 1e9;
    const body = JSON.stringify({
      unknownTopLevel: true,
      ...logsRequest([
        { timeUnixNano: String(BigInt(ns)), severityNumber: 'SEVERITY_NUMBER_WARN', body: { stringValue: 'json-enum-a' }, traceId: '0102030405060708090A0B0C0D0E0F10', spanId: '0102030405060708', somethingNew: 1 },
        { timeUnixNano: ns, severityNumber: 13, body: { stringValue: 'json-enum-b' } },
        { body: { stringValue: 'json-enum-bad' }, traceId: 'xyz' },
      ]),
    });
    const res = await post('/v1/logs', body, auth('application/json'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const answer = (await res.json()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(answer.partialSuccess.rejectedLogRecords).toBe('1');
    expect(answer.partialSuccess.errorMessage).toContain('traceId');
    const rows = await v.server.store.query(`SELECT Body, SeverityNumber, TraceId, SpanId, epoch_ns(Timestamp) AS ns FROM otel_logs WHERE Body LIKE 'json-enum-%' ORDER BY Body`);
    expect(rows.map((r) => r.Body)).toEqual(['json-enum-a', 'json-enum-b']);
    expect(rows[0]).toMatchObject({ SeverityNumber: 13, TraceId: '0102030405060708090a0b0c0d0e0f10', SpanId: '0102030405060708', ns: BigInt(ns) });
  });

  it('answers partial_success in protobuf for a protobuf request', async () => {
    const T = logsType();
    const msg = T.fromObject(logsRequest([{ body: { stringValue: 'proto-partial-ok' } }, { body: { stringValue: 'proto-partial-bad' }, spanId: Buffer.from([1, 2, 3]) }]));
    const res = await post('/v1/logs', T.encode(msg).finish(), auth('application/x-protobuf'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-protobuf');
    const decoded = otlpTypes().logs.response.decode(new Uint8Array(await res.arrayBuffer())).toJSON();
    expect(decoded.partialSuccess.rejectedLogRecords).toBe('1');
    expect(await countRows(v.server, 'otel_logs', `Body = 'proto-partial-ok'`)).toBe(1);
    expect(await countRows(v.server, 'otel_logs', `Body = 'proto-partial-bad'`)).toBe(0);
  });

  describe('bad input gets its own error and loses nothing accepted before', () => {
    let before = 0;
    beforeAll(async () => {
      const T = logsType();
      const res = await post('/v1/logs', T.encode(T.fromObject(logsRequest([{ body: { stringValue: 'accepted-before-bad-input' } }]))).finish(), auth('application/x-protobuf'));
      expect(res.status).toBe(200);
      before = await countRows(v.server, 'otel_logs');
    });
    afterAll(async () => {
      expect(await countRows(v.server, 'otel_logs')).toBe(before);
      expect(await countRows(v.server, 'otel_logs', `Body = 'accepted-before-bad-input'`)).toBe(1);
    });

    async function statusOf(res: Response): Promise<{ code: number; message: string }> {
      const type = res.headers.get('content-type') ?? '';
      if (type.includes('json')) return (await res.json()) as { code: number; message: string };
      return statusType().decode(new Uint8Array(await res.arrayBuffer())).toJSON() as { code: number; message: string };
    }

    it('malformed protobuf → 400 with a Status body', async () => {
      const res = await post('/v1/logs', new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), auth('application/x-protobuf'));
      expect(res.status).toBe(400);
      const s = await statusOf(res);
      expect(s.code).toBe(3);
      expect(s.message).toMatch(/invalid protobuf logs request/);
    });

    it('invalid JSON → 400 naming the problem', async () => {
      const res = await post('/v1/traces', '{"resourceSpans": [', auth('application/json'));
      expect(res.status).toBe(400);
      expect((await statusOf(res)).message).toMatch(/invalid JSON traces request/);
    });

    it('wrong content type → 415', async () => {
      const res = await post('/v1/logs', 'hello', auth('text/plain'));
      expect(res.status).toBe(415);
      expect((await statusOf(res)).message).toMatch(/unsupported Content-Type "text\/plain"/);
    });

    it('empty body → 400', async () => {
      const res = await post('/v1/metrics', new Uint8Array(0), auth('application/x-protobuf'));
      expect(res.status).toBe(400);
      expect((await statusOf(res)).message).toBe('request body is empty');
    });

    it('body over the limit → 413', async () => {
      const big = new Uint8Array(21 * 1024 * 1024);
      const res = await post('/v1/logs', big, auth('application/x-protobuf'));
      expect(res.status).toBe(413);
      expect((await statusOf(res)).message).toMatch(/over the limit/);
    });

    it('gzip bomb → 413 without expanding in memory', async () => {
      // 1 GiB of zeros compresses to about 1 MiB; it must be cut off at the 20 MiB limit.
      const chunk = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
      const bomb = Buffer.concat(Array.from({ length: 16 }, () => chunk));
      const rssBefore = process.memoryUsage().rss;
      const res = await post('/v1/logs', bomb, auth('application/x-protobuf', { 'content-encoding': 'gzip' }));
      expect(res.status).toBe(413);
      expect((await statusOf(res)).message).toMatch(/after decompression/);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    });

    it('corrupt gzip → 400', async () => {
      const good = gzipSync(Buffer.from('{"resourceLogs":[]}'));
      good[good.length - 6] ^= 0xff;
      const res = await post('/v1/logs', Buffer.concat([good.subarray(0, 10), Buffer.from('garbage-not-deflate')]), auth('application/json', { 'content-encoding': 'gzip' }));
      expect(res.status).toBe(400);
      expect((await statusOf(res)).message).toMatch(/corrupt gzip body/);
    });

    it('unsupported content encoding → 415', async () => {
      const res = await post('/v1/logs', 'x', auth('application/json', { 'content-encoding': 'br' }));
      expect(res.status).toBe(415);
    });

    it('missing token → 401, invalid token → 401, wrong scheme → 401', async () => {
      const body = JSON.stringify(logsRequest([{ body: { stringValue: 'unauthenticated' } }]));
      const missing = await post('/v1/logs', body, { 'content-type': 'application/json' });
      expect(missing.status).toBe(401);
      expect((await statusOf(missing)).message).toMatch(/missing Authorization/);
      const invalid = await post('/v1/logs', body, { 'content-type': 'application/json', authorization: 'Bearer vgl_nope' });
      expect(invalid.status).toBe(401);
      expect((await statusOf(invalid)).message).toMatch(/invalid or revoked token/);
      const scheme = await post('/v1/logs', body, { 'content-type': 'application/json', authorization: `Basic ${v.ingestToken}` });
      expect(scheme.status).toBe(401);
    });

    it('a read-scoped token cannot ingest', async () => {
      const read = await v.server.tokens.create('reader-otlp', 'read');
      const res = await post('/v1/logs', JSON.stringify(logsRequest([{ body: { stringValue: 'read-scope' } }])), { 'content-type': 'application/json', authorization: `Bearer ${read}` });
      expect(res.status).toBe(401);
    });
  });
});
