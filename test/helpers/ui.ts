/**
 * Browser-test harness: a built UI, a real Vigil with users, telemetry from the official OpenTelemetry
 * SDK shaped like the demo's RMS and LMS (spread over the last half hour), and Debian's chromium
 * driven by playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { TestVigil } from './vigil.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
export const CHROMIUM = '/usr/bin/chromium';
export const OUTPUT = `${ROOT}test-output`;

/** Builds dist/web when it is missing or older than web/src (as `npm start` does). */
export function ensureWebBuilt(): void {
  execFileSync(process.execPath, [`${ROOT}web/build-if-stale.mjs`], { cwd: ROOT, stdio: 'inherit' });
}

/** Launches headless chromium. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium package`);
  mkdirSync(OUTPUT, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Signs in through the login page. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Payloads that would run script if the UI ever rendered telemetry as HTML. */
export const XSS = {
  body: '<img src=x onerror="window.__xss=1;alert(1)">payment page',
  attr: '"><svg onload="window.__xss=2;alert(2)"><script>window.__xss=3</script>',
};

/** What {@link seedTelemetry} sent. */
export interface Seeded {
  traces: number;
  /** A trace of lms-api with an error log, an exception and a database call. */
  errorTraceId: string;
}

const rand = (n: number) => Math.floor(Math.random() * n);

/**
 * Sends RMS and LMS traces, logs and metrics spread over the last `minutes`: lms-api → auth-service
 * (logins), rms-api → payment-gateway (payouts), database calls, ~6% failures with exceptions and error
 * logs, and logs carrying XSS payloads.
 */
export async function seedTelemetry(v: TestVigil, opts: { traces?: number; minutes?: number } = {}): Promise<Seeded> {
  const traces = opts.traces ?? 300;
  const minutes = opts.minutes ?? 30;
  const headers = { Authorization: `Bearer ${v.ingestToken}` };
  const mk = (service: string, namespace: string, version: string) => {
    const resource = resourceFromAttributes({ 'service.name': service, 'service.namespace': namespace, 'service.version': version, 'host.name': `${namespace}-host-1` });
    const tracer = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${v.server.urls.otlp}/v1/traces`, headers }), { maxQueueSize: 100_000, maxExportBatchSize: 2000 })] });
    const logger = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${v.server.urls.otlp}/v1/logs`, headers }), maxQueueSize: 100_000, maxExportBatchSize: 2000 })] });
    return { tracer, logger, t: tracer.getTracer('seed'), l: logger.getLogger('seed') };
  };
  const svc = {
    lms: mk('lms-api', 'lms', '2.4.1'),
    auth: mk('auth-service', 'lms', '1.9.3'),
    rms: mk('rms-api', 'rms', '1.4.2'),
    pay: mk('payment-gateway', 'rms', '3.1.0'),
  };
  const now = Date.now();
  let errorTraceId = '';
  const at = (ms: number) => new Date(ms);

  for (let i = 0; i < traces; i++) {
    const start = now - minutes * 60_000 + (i / traces) * minutes * 60_000 + rand(2000);
    const lmsSide = i % 2 === 0;
    const fail = i % 17 === 5;
    const [front, back] = lmsSide ? [svc.lms, svc.auth] : [svc.rms, svc.pay];
    const route = lmsSide ? (i % 3 === 0 ? '/api/login' : '/api/courses/:id/register') : i % 3 === 0 ? '/api/royalties/calculate' : '/api/payouts';
    const method = 'POST';
    const dur = 20 + rand(80) + (i % 23 === 0 ? 900 : 0);
    const root: Span = front.t.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER, startTime: at(start), attributes: { 'http.route': route, 'http.request.method': method, 'http.response.status_code': fail ? 500 : 200, 'user.id': `u-${rand(50)}` } });
    const rootCtx = trace.setSpan(context.active(), root);
    const client = front.t.startSpan(`${method} ${lmsSide ? 'auth-service' : 'payment-gateway'}`, { kind: SpanKind.CLIENT, startTime: at(start + 2), attributes: { 'peer.service': lmsSide ? 'auth-service' : 'payment-gateway' } }, rootCtx);
    const clientCtx = trace.setSpan(context.active(), client);
    const server = back.t.startSpan(lmsSide ? 'POST /verify' : 'POST /pay', { kind: SpanKind.SERVER, startTime: at(start + 4), attributes: { 'http.route': lmsSide ? '/verify' : '/pay', 'http.request.method': 'POST', 'http.response.status_code': 200 } }, clientCtx);
    const serverCtx = trace.setSpan(context.active(), server);
    const db = back.t.startSpan(lmsSide ? 'SELECT users' : 'INSERT payouts', {
      kind: SpanKind.CLIENT,
      startTime: at(start + 6),
      attributes: { 'db.system': 'sqlite', 'db.statement': lmsSide ? `SELECT * FROM users WHERE id = ${rand(1000)}` : `INSERT INTO payouts (artist, amount) VALUES (${rand(100)}, ${rand(5000)})` },
    }, serverCtx);
    db.end(at(start + 6 + dur / 3));
    server.end(at(start + dur - 4));
    client.end(at(start + dur - 2));
    front.l.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: `${route} handled in ${dur} ms`, timestamp: at(start + dur - 1), context: rootCtx, attributes: { 'http.route': route } });
    if (fail) {
      const err = new Error(lmsSide ? `registration ${1000 + i} failed: seat table locked` : `payout ${1000 + i} rejected by bank`);
      err.name = lmsSide ? 'LockTimeoutError' : 'PayoutRejected';
      root.recordException(err, at(start + dur - 1));
      root.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      front.l.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: err.message, timestamp: at(start + dur - 1), context: rootCtx, attributes: { 'exception.type': err.name, 'exception.message': err.message } });
      if (lmsSide && !errorTraceId) errorTraceId = root.spanContext().traceId;
    }
    if (i % 9 === 0) back.l.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'slow password hash', timestamp: at(start + 10), context: serverCtx });
    root.end(at(start + dur));
  }
  // XSS payloads in a body and in attribute values.
  svc.rms.l.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: XSS.body, timestamp: at(now - 60_000), attributes: { 'xss.attr': XSS.attr, customer: XSS.body } });
  svc.lms.l.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: `login for ${XSS.attr}`, timestamp: at(now - 50_000), attributes: { 'user.name': XSS.attr } });

  for (const s of Object.values(svc)) {
    await s.tracer.forceFlush();
    await s.logger.forceFlush();
  }
  await sendGauges(v, minutes);
  for (const s of Object.values(svc)) {
    await s.tracer.shutdown();
    await s.logger.shutdown();
  }
  return { traces, errorTraceId };
}

/** Process CPU and memory gauges, one point every 30 s (OTLP/JSON with past timestamps). */
async function sendGauges(v: TestVigil, minutes: number): Promise<void> {
  const now = Date.now();
  const resourceMetrics = ['lms-api', 'auth-service', 'rms-api', 'payment-gateway'].map((service, k) => {
    const points = (scale: number, base: number) =>
      Array.from({ length: minutes * 2 }, (_, i) => ({ timeUnixNano: String(BigInt(now - (minutes * 60_000 - i * 30_000)) * 1_000_000n), asDouble: base + scale * (0.5 + 0.5 * Math.sin(i / 5 + k)) }));
    return {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: service } },
          { key: 'service.namespace', value: { stringValue: service.startsWith('lms') || service.startsWith('auth') ? 'lms' : 'rms' } },
          { key: 'host.name', value: { stringValue: `host-${k}` } },
        ],
      },
      scopeMetrics: [
        {
          scope: { name: 'seed' },
          metrics: [
            { name: 'process.cpu.utilization', unit: '1', gauge: { dataPoints: points(0.3, 0.05) } },
            { name: 'process.memory.usage', unit: 'By', gauge: { dataPoints: points(40e6, 80e6) } },
            { name: 'system.cpu.utilization', unit: '1', gauge: { dataPoints: points(0.5, 0.1) } },
          ],
        },
      ],
    };
  });
  const res = await fetch(`${v.server.urls.otlp}/v1/metrics`, { method: 'POST', headers: { authorization: `Bearer ${v.ingestToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ resourceMetrics }) });
  if (!res.ok) throw new Error(`metrics: ${res.status} ${await res.text()}`);
}

/** Waits until the store holds at least `n` spans (ingest commits asynchronously to the exporter). */
export async function waitForSpans(v: TestVigil, n: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const rows = await v.server.store.query('SELECT count(*) AS n FROM otel_traces');
    if (Number(rows[0]?.n ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`fewer than ${n} spans arrived`);
}
