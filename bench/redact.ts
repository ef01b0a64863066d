/**
 * `node --import tsx bench/redact.ts`: the redaction processor alone, on about 100k realistic rows
 * (log lines from the ordinary-lines corpus with a few secrets mixed in, HTTP and DB spans with
 * events, metric points), so a change to the rules can be compared with the ingest hot path's budget.
 * Environment: BENCH_ROWS (default 100000), BENCH_RUNS (7; the median is reported), BENCH_REDACTOR (path
 * of another redact.ts to compare, e.g. the previous version from `git show`). Reports CPU time, which
 * other processes on a shared machine disturb less than wall time.
 */
import { readFileSync } from 'node:fs';
import type { LogRow, MetricRow, ResourceInfo, SpanRow, TelemetryBatch } from '../src/model/telemetry.ts';
import * as current from '../src/ingest/redact.ts';
import { SECRET_SAMPLES } from '../src/ingest/testdata/secrets.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const lines = readFileSync(new URL('../src/ingest/testdata/ordinary-lines.txt', import.meta.url), 'utf8').split('\n').filter(Boolean);
const routes = ['/api/royalties/calculate', '/api/payments/batch', '/api/courses', '/api/login', '/api/statements/:id'];

function resource(i: number): ResourceInfo {
  const service = ['rms-api', 'payment-gateway', 'lms-api', 'auth-service'][i % 4]!;
  return {
    serviceName: service,
    serviceNamespace: 'rms',
    serviceVersion: '1.4.2',
    hostName: `host-${i % 3}`,
    attributes: { 'service.name': service, 'service.namespace': 'rms', 'service.version': '1.4.2', 'host.name': `host-${i % 3}`, 'telemetry.sdk.language': 'nodejs', 'process.pid': 4242 + i },
  };
}

/** Fresh rows every run: the redactor changes them in place. A request's rows share a resource. */
function makeBatch(): TelemetryBatch {
  const logs: LogRow[] = [];
  const spans: SpanRow[] = [];
  const metrics: MetricRow[] = [];
  let res = resource(0);
  const scope = { name: '@opentelemetry/instrumentation-http', version: '0.53.0' };
  for (let i = 0; i < ROWS; i++) {
    if (i % 1000 === 0) res = resource(i / 1000);
    const route = routes[i % routes.length]!;
    // One line in 200 carries a secret, the rest are the ordinary corpus; every body is unique, as
    // real ones are (ids, times), so no cache can remember them.
    const body = `${i % 200 === 0 ? SECRET_SAMPLES[(i / 200) % SECRET_SAMPLES.length]!.text : lines[i % lines.length]!} #${i}`;
    const kind = i % 10;
    if (kind < 5) {
      logs.push({
        timeNs: 0n, observedTimeNs: 0n, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1,
        severityText: i % 50 === 0 ? 'ERROR' : 'INFO', severityNumber: 9, body, resource: res, scope,
        attributes: { 'http.route': route, 'user.id': `u${i % 5000}`, 'http.response.status_code': 200, 'code.filepath': '/srv/rms/src/royalties.ts' },
      });
    } else if (kind < 8) {
      const db = kind === 7;
      spans.push({
        startTimeNs: 0n, durationNs: 1_000_000n, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', parentSpanId: '', traceState: '',
        name: db ? 'SELECT usage' : `GET ${route}`, kind: db ? 'Client' : 'Server', statusCode: 'Unset', statusMessage: '', resource: res, scope,
        attributes: db
          ? { 'db.system': 'postgresql', 'db.query.text': 'SELECT sum(amount) FROM usage WHERE work_id = $1 AND period = $2', 'db.name': 'rms', 'server.address': 'db.internal' }
          : { 'http.request.method': 'GET', 'http.route': route, 'url.full': `https://rms.example.com${route}?page=${i % 7}`, 'http.response.status_code': 200, 'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64)' },
        events: i % 40 === 5 ? [{ timeNs: 0n, name: 'exception', attributes: { 'exception.type': 'Error', 'exception.message': body, 'exception.stacktrace': lines.slice(28, 32).join('\n') } }] : [],
        links: [],
      });
    } else {
      metrics.push({
        kind: 'sum', name: 'http.server.request.duration', description: 'Duration of HTTP server requests.', unit: 's', startTimeNs: 0n, timeNs: 0n, resource: res, scope,
        attributes: { 'http.route': route, 'http.request.method': 'GET', 'http.response.status_code': 200 }, flags: 0, value: i, temporality: 'cumulative', isMonotonic: true,
        count: 0, sum: null, min: null, max: null, bucketCounts: [], explicitBounds: [],
      });
    }
  }
  return { logs, spans, metrics };
}

const { buildRedactor } = (process.env.BENCH_REDACTOR ? await import(process.env.BENCH_REDACTOR) : current) as typeof current;
const redactor = buildRedactor({ defaults: true, rules: [] }, () => undefined);
const times: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const batch = makeBatch();
  const t0 = process.cpuUsage();
  redactor.batch(batch);
  const t = process.cpuUsage(t0);
  times.push((t.user + t.system) / 1000);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
process.stdout.write(`redactor: ${ROWS} rows in ${median.toFixed(1)} ms CPU (median of ${RUNS}) = ${Math.round(ROWS / (median / 1000)).toLocaleString('en')} rows/s\n`);
