/**
 * Shared OpenTelemetry setup for every demo service: tracer, meter and logger providers exporting OTLP/HTTP protobuf
 * to Vigil, plus small helpers that wrap work in spans. Manual instrumentation on purpose: under ESM the
 * auto-instrumentations need loader hooks, and a handful of explicit spans is lighter and easier to read.
 */
import os from 'node:os';
import {
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Meter,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { logs, SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';

/** Identity of one demo service, as it appears in the resource attributes. */
export interface ServiceIdentity {
  name: string;
  namespace: 'rms' | 'lms';
  version: string;
}

/** Handles a service uses to emit telemetry. */
export interface Telemetry {
  tracer: Tracer;
  meter: Meter;
  logger: Logger;
  shutdown(): Promise<void>;
}

/** Export interval (ms): a few seconds keeps the demo light while dashboards still feel live. */
const EXPORT_INTERVAL_MS = Number(process.env.DEMO_EXPORT_INTERVAL_MS ?? 3000);

/** Sets up global tracer/meter/logger providers for `service`, exporting to `VIGIL_OTLP_URL` with `VIGIL_TOKEN`. */
export function setupTelemetry(service: ServiceIdentity): Telemetry {
  const base = (process.env.VIGIL_OTLP_URL ?? 'http://127.0.0.1:4318').replace(/\/+$/, '');
  const token = process.env.VIGIL_TOKEN ?? '';
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const resource = resourceFromAttributes({
    'service.name': service.name,
    'service.namespace': service.namespace,
    'service.version': service.version,
    'service.instance.id': `${os.hostname()}-${process.pid}`,
    'host.name': os.hostname(),
    'deployment.environment': 'demo',
    'deployment.environment.name': 'demo',
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
  });

  const tracerProvider = new NodeTracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces`, headers }), {
        scheduledDelayMillis: EXPORT_INTERVAL_MS,
        maxQueueSize: 4096,
        maxExportBatchSize: 1024,
      }),
    ],
  });
  // register() installs the AsyncLocalStorage context manager and the W3C trace-context propagator.
  tracerProvider.register();

  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics`, headers }),
        exportIntervalMillis: Math.max(EXPORT_INTERVAL_MS, 1000),
        exportTimeoutMillis: Math.max(EXPORT_INTERVAL_MS - 100, 900),
      }),
    ],
  });
  metrics.setGlobalMeterProvider(meterProvider);

  const loggerProvider = new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `${base}/v1/logs`, headers }),
        scheduledDelayMillis: EXPORT_INTERVAL_MS,
        maxQueueSize: 4096,
        maxExportBatchSize: 1024,
      }),
    ],
  });
  logs.setGlobalLoggerProvider(loggerProvider);

  const tracer = trace.getTracer(`vigil-demo/${service.name}`, service.version);
  const meter = metrics.getMeter(`vigil-demo/${service.name}`, service.version);
  const logger = logs.getLogger(`vigil-demo/${service.name}`, service.version);
  registerProcessMetrics(meter);

  return {
    tracer,
    meter,
    logger,
    async shutdown() {
      // Flush everything so the last seconds before a restart or stop are not lost.
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
    },
  };
}

/** Process gauges every service reports: resident memory, heap and CPU utilization (share of one core). */
function registerProcessMetrics(meter: Meter): void {
  let lastCpu = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  meter.createObservableGauge('process.memory.usage', { unit: 'By', description: 'Resident set size' }).addCallback((r) => {
    r.observe(process.memoryUsage.rss());
  });
  meter.createObservableGauge('process.runtime.nodejs.memory.heap.used', { unit: 'By' }).addCallback((r) => {
    r.observe(process.memoryUsage().heapUsed);
  });
  meter.createObservableGauge('process.cpu.utilization', { unit: '1', description: 'CPU time / wall time, one core = 1' }).addCallback((r) => {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(lastCpu);
    const wallUs = Number(now - lastAt) / 1000;
    lastCpu = process.cpuUsage();
    lastAt = now;
    if (wallUs > 0) r.observe((cpu.user + cpu.system) / wallUs);
  });
}

/** Severity helpers so call sites read like ordinary logging; records are emitted in the active span's context. */
export interface DemoLog {
  debug(body: string, attributes?: Attributes): void;
  info(body: string, attributes?: Attributes): void;
  warn(body: string, attributes?: Attributes): void;
  error(body: string, attributes?: Attributes): void;
}

/** Wraps an OTel logger; `context.active()` carries trace_id/span_id into every record. */
export function demoLog(logger: Logger): DemoLog {
  const emit = (severityNumber: SeverityNumber, severityText: string) => (body: string, attributes?: Attributes) => {
    logger.emit({ severityNumber, severityText, body, attributes, context: context.active() });
  };
  return {
    debug: emit(SeverityNumber.DEBUG, 'DEBUG'),
    info: emit(SeverityNumber.INFO, 'INFO'),
    warn: emit(SeverityNumber.WARN, 'WARN'),
    error: emit(SeverityNumber.ERROR, 'ERROR'),
  };
}

/** Marks `span` as failed with an exception event, the way semconv asks. */
export function recordFailure(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
  span.setAttribute('error.type', (e as NodeJS.ErrnoException).code ?? e.name);
}

/** Runs `fn` in a new active span; exceptions are recorded, the span is ended either way. */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  opts: { kind?: SpanKind; attributes?: Attributes },
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      recordFailure(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Error carrying an HTTP status, thrown by handlers and by the client helper. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Options of one outgoing call to another demo service. */
export interface CallOptions {
  method?: string;
  body?: unknown;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** Result of an outgoing call: status plus parsed JSON body (or null). */
export interface CallResult<T> {
  status: number;
  body: T;
}

/**
 * Calls another demo service with a CLIENT span named after the route template, injecting W3C `traceparent` so the
 * callee continues the same trace. Network failures and timeouts throw; HTTP error statuses are returned.
 */
export function makeClient(tracer: Tracer, meter: Meter, peerService: string, baseUrl: () => string) {
  const duration = meter.createHistogram('http.client.request.duration', {
    unit: 's',
    description: 'Duration of HTTP client requests',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
  });
  return async function call<T>(route: string, path: string, opts: CallOptions = {}): Promise<CallResult<T>> {
    const url = new URL(path, baseUrl());
    const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST');
    const attributes: Attributes = {
      'http.request.method': method,
      'server.address': url.hostname,
      'server.port': Number(url.port),
      'url.full': url.toString(),
      'url.template': route,
      'peer.service': peerService,
    };
    const started = performance.now();
    return inSpan(tracer, `${method} ${route}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      propagation.inject(context.active(), headers);
      let status = 0;
      try {
        const res = await fetch(url, {
          method,
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
        });
        status = res.status;
        span.setAttribute('http.response.status_code', status);
        const text = await res.text();
        if (status >= 400) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
          span.setAttribute('error.type', String(status));
        }
        return { status, body: (text ? JSON.parse(text) : null) as T };
      } catch (err) {
        // A timeout surfaces as an AbortError/TimeoutError: name it plainly for people reading the trace.
        if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
          throw Object.assign(new Error(`${peerService} did not answer within ${opts.timeoutMs ?? 5000} ms (${method} ${route})`), {
            name: 'TimeoutError',
            code: 'ETIMEDOUT',
          });
        }
        const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
        if (cause?.code) throw Object.assign(new Error(`${peerService} unreachable: ${cause.message}`), { code: cause.code });
        throw err;
      } finally {
        const attrs: Attributes = {
          'http.request.method': method,
          'server.address': url.hostname,
          'server.port': Number(url.port),
          'peer.service': peerService,
        };
        if (status) attrs['http.response.status_code'] = status;
        else attrs['error.type'] = 'connection';
        duration.record((performance.now() - started) / 1000, attrs);
      }
    });
  };
}

export { SpanKind, SpanStatusCode, context, trace };
