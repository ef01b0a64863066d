/**
 * Bench data shared by the load process and the ceiling measurement: OTLP protobuf request bodies of
 * realistic log records and spans (about 200 bytes of payload each, a few attributes, real ids).
 */
import { randomBytes } from 'node:crypto';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';

const services = ['rms-api', 'payment-gateway', 'lms-api', 'auth-service', 'rms-worker'];
const routes = ['/api/royalties/calculate', '/api/payments/batch', '/api/courses', '/api/login', '/api/statements/:id'];
const kv = (key: string, v: string | number) => ({ key, value: typeof v === 'string' ? { stringValue: v } : { intValue: v } });

/** One request body of `batch` records, about 200 bytes of payload each, like real service logs. */
export function makeBody(signal: 'logs' | 'traces', batch: number, seed: number): Uint8Array {
  const service = services[seed % services.length]!;
  const resource = { attributes: [kv('service.name', service), kv('service.namespace', service.startsWith('rms') || service === 'payment-gateway' ? 'rms' : 'lms'), kv('service.version', '1.4.2'), kv('host.name', `host-${seed % 3}`)] };
  const now = BigInt(Date.now()) * 1_000_000n;
  if (signal === 'logs') {
    const T = otlpTypes().logs.request;
    const logRecords = Array.from({ length: batch }, (_, i) => {
      const sev = i % 50 === 0 ? 17 : i % 10 === 0 ? 13 : 9;
      return {
        timeUnixNano: String(now + BigInt(i)),
        observedTimeUnixNano: String(now + BigInt(i)),
        severityNumber: sev,
        severityText: sev === 17 ? 'ERROR' : sev === 13 ? 'WARN' : 'INFO',
        body: { stringValue: `request ${routes[i % routes.length]} completed for user u${(seed * batch + i) % 5000} in ${(i * 7) % 900} ms status=${sev === 17 ? 500 : 200}` },
        attributes: [kv('http.route', routes[i % routes.length]!), kv('user.id', `u${i % 5000}`), kv('http.response.status_code', sev === 17 ? 500 : 200)],
        traceId: randomBytes(16),
        spanId: randomBytes(8),
      };
    });
    return T.encode(T.fromObject({ resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'bench' }, logRecords }] }] })).finish();
  }
  const T = otlpTypes().traces.request;
  const spans = Array.from({ length: batch }, (_, i) => ({
    traceId: randomBytes(16),
    spanId: randomBytes(8),
    parentSpanId: i % 4 === 0 ? Buffer.alloc(0) : randomBytes(8),
    name: i % 4 === 3 ? 'SELECT usage' : `GET ${routes[i % routes.length]}`,
    kind: i % 4 === 0 ? 2 : 3,
    startTimeUnixNano: String(now + BigInt(i)),
    endTimeUnixNano: String(now + BigInt(i) + BigInt(1_000_000 + ((i * 7919) % 50_000_000))),
    attributes:
      i % 4 === 3
        ? [kv('db.system', 'sqlite'), kv('db.query.text', 'SELECT sum(amount) FROM usage WHERE work_id = ? AND period = ?')]
        : [kv('http.request.method', 'GET'), kv('http.route', routes[i % routes.length]!), kv('http.response.status_code', i % 50 === 0 ? 500 : 200)],
    status: { code: i % 50 === 0 ? 2 : 0 },
  }));
  return T.encode(T.fromObject({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] })).finish();
}

