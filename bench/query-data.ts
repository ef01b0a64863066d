/**
 * Generated telemetry for `npm run bench:query`: log records and spans spread evenly over a time range
 * with realistic cardinalities — 10 services on 20 hosts, 50 routes, unique random trace ids, log
 * bodies of 150-200 bytes drawn from templates, SQL statements with and without inline literals,
 * exceptions on failed requests. Deterministic for a seed (except the random ids).
 */
import { randomBytes } from 'node:crypto';
import type { Attributes, LogRow, ResourceInfo, SpanEvent, SpanRow } from '../src/model/telemetry.ts';

/** A small, fast seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Route {
  method: string;
  route: string;
  medianMs: number;
  errorRate: number;
}

interface Service {
  name: string;
  namespace: string;
  routes: Route[];
  /** Services or hosts this one calls. */
  calls: string[];
  db: string;
}

const r = (method: string, route: string, medianMs: number, errorRate = 0.01): Route => ({ method, route, medianMs, errorRate });

/** Ten services with five routes each. */
export const SERVICES: Service[] = [
  { name: 'rms-api', namespace: 'rms', db: 'postgresql', calls: ['royalty-calc', 'payment-gateway'], routes: [r('GET', '/api/royalties', 40), r('POST', '/api/royalties/calculate', 320, 0.03), r('GET', '/api/statements/:id', 60), r('GET', '/api/works', 25), r('POST', '/api/usage/import', 450, 0.02)] },
  { name: 'rms-worker', namespace: 'rms', db: 'postgresql', calls: ['reporting'], routes: [r('POST', '/jobs/usage-ingest', 900, 0.02), r('POST', '/jobs/statement-run', 1500, 0.03), r('POST', '/jobs/reconcile', 700), r('POST', '/jobs/cleanup', 120), r('POST', '/jobs/fx-rates', 80)] },
  { name: 'payment-gateway', namespace: 'rms', db: 'postgresql', calls: ['api.payments.example'], routes: [r('POST', '/payments', 250, 0.04), r('POST', '/payments/batch', 800, 0.05), r('GET', '/payments/:id', 30), r('POST', '/refunds', 200, 0.02), r('GET', '/health', 2, 0)] },
  { name: 'royalty-calc', namespace: 'rms', db: 'postgresql', calls: [], routes: [r('POST', '/calculate', 180, 0.02), r('POST', '/calculate/bulk', 1200, 0.03), r('GET', '/rates/:territory', 15), r('POST', '/simulate', 400), r('GET', '/health', 2, 0)] },
  { name: 'reporting', namespace: 'rms', db: 'clickhouse', calls: [], routes: [r('GET', '/reports/:id', 350), r('POST', '/reports', 900, 0.02), r('GET', '/dashboards/:id', 200), r('GET', '/exports/:id', 600), r('GET', '/health', 2, 0)] },
  { name: 'lms-api', namespace: 'lms', db: 'mysql', calls: ['auth-service', 'course-catalog', 'notification-service'], routes: [r('POST', '/api/login', 90, 0.02), r('POST', '/api/courses/:id/register', 140, 0.03), r('GET', '/api/courses', 45), r('GET', '/api/courses/:id', 35), r('GET', '/api/me', 20)] },
  { name: 'lms-web', namespace: 'lms', db: 'redis', calls: ['lms-api'], routes: [r('GET', '/', 60), r('GET', '/courses', 80), r('GET', '/courses/:id', 70), r('GET', '/login', 30), r('GET', '/static/*', 5, 0)] },
  { name: 'auth-service', namespace: 'lms', db: 'postgresql', calls: [], routes: [r('POST', '/verify', 70, 0.01), r('POST', '/token', 40), r('POST', '/refresh', 25), r('GET', '/jwks', 3, 0), r('POST', '/logout', 10)] },
  { name: 'course-catalog', namespace: 'lms', db: 'mysql', calls: [], routes: [r('GET', '/catalog', 55), r('GET', '/catalog/:id', 25), r('GET', '/search', 150, 0.01), r('POST', '/catalog/:id/seats', 60, 0.02), r('GET', '/health', 2, 0)] },
  { name: 'notification-service', namespace: 'lms', db: 'redis', calls: ['smtp.mail.example'], routes: [r('POST', '/notify', 120, 0.02), r('POST', '/notify/bulk', 500, 0.03), r('GET', '/templates', 10), r('POST', '/webhooks', 80), r('GET', '/health', 2, 0)] },
];

const serviceByName = new Map(SERVICES.map((s) => [s.name, s]));

/** Two hosts per service: 20 hosts. Resources are shared objects so the store serialises each once. */
const RESOURCES = new Map<string, ResourceInfo[]>(
  SERVICES.map((s, i) => [
    s.name,
    [0, 1].map((h) => {
      const host = `host-${String(i * 2 + h).padStart(2, '0')}`;
      const version = i % 3 === 0 ? '2.4.1' : '1.9.0';
      return {
        serviceName: s.name,
        serviceNamespace: s.namespace,
        serviceVersion: version,
        hostName: host,
        attributes: { 'service.name': s.name, 'service.namespace': s.namespace, 'service.version': version, 'host.name': host, 'deployment.environment': 'prod' },
      };
    }),
  ]),
);

const SCOPE = { name: 'bench', version: '1.0.0' };

/** Statement templates; some inline literals (ORMs that do), some use placeholders. */
const STATEMENTS: ((n: () => number) => string)[] = [
  (n) => `SELECT * FROM users WHERE id = ${n()}`,
  (n) => `SELECT id, email, name FROM users WHERE email = 'user${n()}@example.com'`,
  (n) => `SELECT amount, currency FROM royalty_ledger WHERE work_id = ${n()} AND period = '2024-${(n() % 12) + 1}'`,
  () => `SELECT sum(amount) FROM usage WHERE work_id = $1 AND period = $2`,
  (n) => `INSERT INTO audit_log (user_id, action, at) VALUES (${n()}, 'login', now())`,
  (n) => `SELECT * FROM courses WHERE id IN (${Array.from({ length: (n() % 6) + 1 }, () => n()).join(', ')})`,
  () => `SELECT c.id, c.title FROM courses c JOIN enrolments e ON e.course_id = c.id WHERE e.user_id = ?`,
  (n) => `UPDATE seats SET taken = taken + 1 WHERE course_id = ${n()} AND taken < capacity`,
  (n) => `SELECT * FROM statements WHERE id = ${n()} FOR UPDATE`,
  () => `INSERT INTO payments (id, amount, status) VALUES (?, ?, ?)`,
  (n) => `UPDATE payments SET status = 'settled' WHERE id = ${n()}`,
  () => `SELECT rate FROM fx_rates WHERE currency = ? AND day = ?`,
  (n) => `DELETE FROM sessions WHERE expires_at < ${1_700_000_000 + n()}`,
  () => `SELECT count(*) FROM usage_events WHERE processed = false`,
  (n) => `SELECT * FROM works WHERE isrc = 'US${n()}' LIMIT 1`,
];

const EXCEPTIONS = [
  { type: 'TimeoutError', message: (n: number) => `request to upstream timed out after ${n % 5000} ms`, frame: 'at HttpClient.send (/app/src/http/client.ts:88:13)' },
  { type: 'DeadlockError', message: (n: number) => `deadlock detected on royalty_ledger row ${n}`, frame: 'at Pool.query (/app/node_modules/pg/lib/pool.ts:45:11)' },
  { type: 'ValidationError', message: (n: number) => `invalid course id "${n}"`, frame: 'at validateCourse (/app/src/courses/validate.ts:21:9)' },
  { type: 'PaymentDeclined', message: (n: number) => `card declined for payment ${n.toString(16)}a1b2c3d4`, frame: 'at Gateway.charge (/app/src/payments/gateway.ts:140:17)' },
  { type: 'TypeError', message: () => `Cannot read properties of undefined (reading 'rate')`, frame: 'at computeRoyalty (/app/src/calc/royalty.ts:63:29)' },
];

/** Hex ids from one random buffer per batch (random ids, as real traces have). */
class Ids {
  private hex = '';
  private at = 0;
  next(chars: number): string {
    if (this.at + chars > this.hex.length) {
      this.hex = randomBytes(1 << 20).toString('hex');
      this.at = 0;
    }
    const s = this.hex.slice(this.at, this.at + chars);
    this.at += chars;
    return s;
  }
}

/** Log-normal around a median (sigma 0.6: a realistic long tail). */
function lognormal(rand: () => number, median: number): number {
  const u = Math.max(1e-12, rand());
  const v = rand();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(0.6 * z);
}

/** Generates spans trace by trace over [fromNs, toNs); call `batch(n)` until `done`. */
export class SpanGenerator {
  private readonly rand: () => number;
  private readonly ids = new Ids();
  private produced = 0;
  private readonly stepNs: number;

  constructor(
    private readonly total: number,
    private readonly fromNs: bigint,
    toNs: bigint,
    seed = 1,
  ) {
    this.rand = prng(seed);
    // About three spans per trace: traces start evenly over the range.
    this.stepNs = (Number(toNs - fromNs) / total) * 3;
  }

  get done(): boolean {
    return this.produced >= this.total;
  }

  private traces = 0;

  /** The next spans, at least `n` (whole traces) unless the total is reached. */
  batch(n: number): SpanRow[] {
    const out: SpanRow[] = [];
    while (out.length < n && this.produced + out.length < this.total) this.trace(out);
    this.produced += out.length;
    return out;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private trace(out: SpanRow[]): void {
    const rand = this.rand;
    const start = this.fromNs + BigInt(Math.floor(this.traces++ * this.stepNs + rand() * this.stepNs));
    const traceId = this.ids.next(32);
    const svc = this.pick(SERVICES);
    this.server(out, traceId, '', svc, this.pick(svc.routes), start, 0);
  }

  private server(out: SpanRow[], traceId: string, parent: string, svc: Service, route: Route, start: bigint, depth: number): { end: bigint; failed: boolean } {
    const rand = this.rand;
    const spanId = this.ids.next(16);
    const durMs = lognormal(rand, route.medianMs);
    const durNs = BigInt(Math.max(100_000, Math.round(durMs * 1e6)));
    const failed = rand() < route.errorRate;
    const resource = this.pick(RESOURCES.get(svc.name)!);
    const userId = `u${Math.floor(rand() * 50_000)}`;
    const events: SpanEvent[] = [];
    if (failed) {
      const ex = this.pick(EXCEPTIONS);
      events.push({
        timeNs: start + durNs - 1000n,
        name: 'exception',
        attributes: { 'exception.type': ex.type, 'exception.message': ex.message(Math.floor(rand() * 100_000)), 'exception.stacktrace': `${ex.type}: boom\n    ${ex.frame}\n    at process (/app/src/server.ts:12:3)` },
      });
    }
    const span: SpanRow = {
      startTimeNs: start,
      durationNs: durNs,
      traceId,
      spanId,
      parentSpanId: parent,
      traceState: '',
      name: `${route.method} ${route.route}`,
      kind: 'Server',
      statusCode: failed ? 'Error' : 'Unset',
      statusMessage: failed ? 'internal error' : '',
      resource,
      scope: SCOPE,
      attributes: { 'http.request.method': route.method, 'http.route': route.route, 'http.response.status_code': failed ? 500 : 200, 'user.id': userId },
      events,
      links: [],
    };
    out.push(span);
    // Children fit inside the parent: database calls, then maybe one downstream call.
    let t = start + BigInt(Math.floor(Number(durNs) * 0.05));
    const dbCalls = Math.floor(rand() * 4);
    for (let i = 0; i < dbCalls; i++) {
      const d = BigInt(Math.max(50_000, Math.floor(Number(durNs) * 0.15 * rand())));
      const n = () => Math.floor(rand() * 100_000);
      out.push(this.client(traceId, spanId, resource, start > t ? start : t, d, `${svc.db} query`, { 'db.system': svc.db, 'db.statement': this.pick(STATEMENTS)(n) }, false));
      t += d;
    }
    if (depth === 0 && svc.calls.length > 0 && rand() < 0.25) {
      const target = this.pick(svc.calls);
      const d = BigInt(Math.max(100_000, Math.floor(Number(durNs) * 0.4)));
      const downstream = serviceByName.get(target);
      const clientId = this.ids.next(16);
      const attrs: Attributes = downstream ? { 'peer.service': target, 'http.request.method': 'POST' } : { 'server.address': target, 'http.request.method': 'POST' };
      const callFailed = downstream ? false : rand() < 0.03;
      const client: SpanRow = { ...this.client(traceId, spanId, resource, t, d, `POST ${target}`, attrs, callFailed), spanId: clientId };
      out.push(client);
      if (downstream) this.server(out, traceId, clientId, downstream, this.pick(downstream.routes.filter((x) => x.route !== '/health')), t + 50_000n, depth + 1);
    }
    return { end: start + durNs, failed };
  }

  private client(traceId: string, parent: string, resource: ResourceInfo, start: bigint, durNs: bigint, name: string, attributes: Attributes, failed: boolean): SpanRow {
    return {
      startTimeNs: start,
      durationNs: durNs,
      traceId,
      spanId: this.ids.next(16),
      parentSpanId: parent,
      traceState: '',
      name,
      kind: 'Client',
      statusCode: failed ? 'Error' : 'Unset',
      statusMessage: '',
      resource,
      scope: SCOPE,
      attributes,
      events: [],
      links: [],
    };
  }
}

/** Body templates of 150-200 bytes once filled; `deadlock` is rare on purpose (free-text probe). */
const BODIES: ((n: () => number, route: string) => string)[] = [
  (n, route) => `request completed method=GET route=${route} status=200 duration_ms=${n() % 900} user_id=u${n()} request_id=req-${n()}-${n()} bytes_out=${n() % 50_000} cache=miss`,
  (n, route) => `handled ${route} for tenant t${n() % 300} in ${n() % 700} ms: ${n() % 40} rows returned, ${n() % 4} retries, upstream latency ${n() % 200} ms, pool in use ${n() % 20}/20`,
  (n) => `royalty calculation finished for work ${n()} period 2024-${(n() % 12) + 1}: ${n() % 5000} usage lines, total ${(n() % 100_000) / 100} EUR, rate card rc-${n() % 90}, took ${n() % 2000} ms`,
  (n) => `user u${n()} logged in from 10.${n() % 255}.${n() % 255}.${n() % 255} using password flow; session s-${n()} expires in 3600 s, mfa=${n() % 2 ? 'totp' : 'none'}, client=web`,
  (n) => `course c-${n() % 2000} registration accepted for user u${n()}: seat ${n() % 300} of 300 reserved, waitlist ${n() % 12}, confirmation email queued as job j-${n()}`,
  (n) => `payment p-${n()} authorised amount=${(n() % 100_000) / 100} currency=EUR gateway=psp-${n() % 3} latency_ms=${n() % 800} risk_score=${n() % 100} attempt=${(n() % 3) + 1}`,
  (n) => `cache refresh of course catalogue segment ${n() % 64} finished: ${n() % 9000} entries, ${n() % 300} evicted, hit ratio 0.${n() % 100}, next refresh in ${n() % 600} s`,
  (n) => `slow query detected (${n() % 5000} ms) on statements table for statement st-${n()}; plan used index statements_period_idx, rows examined ${n() % 1_000_000}, consider batching`,
  (n) => `upstream call to auth-service /verify returned 200 in ${n() % 300} ms for request req-${n()}; token audience lms-api, scopes read write, clock skew ${n() % 5} s tolerated`,
  (n) => `usage import batch b-${n()} from DSP feed spotify-${n() % 40}: parsed ${n() % 100_000} lines, ${n() % 50} rejected (unknown ISRC), ${n() % 10} duplicates skipped, file 2024-${(n() % 12) + 1}.tsv`,
];
const WARN_BODIES: ((n: () => number) => string)[] = [
  (n) => `retrying request to payment provider after ${n() % 3000} ms backoff (attempt ${(n() % 4) + 1}/5); previous error: connection reset by peer while reading response headers`,
  (n) => `connection pool nearly exhausted: ${18 + (n() % 3)}/20 connections in use, ${n() % 40} waiters, oldest wait ${n() % 2000} ms; consider raising pool size or shortening transactions`,
];
const ERROR_BODIES: ((n: () => number) => string)[] = [
  (n) => `failed to settle payment p-${n()}: provider answered 502 Bad Gateway after ${n() % 10_000} ms; payment left pending and scheduled for reconciliation run r-${n() % 500}`,
  (n) => `unhandled exception while registering user u${n()} for course c-${n() % 2000}: seat counter update conflicted with a concurrent registration, transaction rolled back`,
];
const RARE = (n: () => number) => `deadlock detected while updating royalty_ledger rows for work ${n()}; transaction tx-${n()} was chosen as victim and rolled back after ${n() % 5000} ms, will retry`;

/** Generates log records evenly over [fromNs, toNs). */
export class LogGenerator {
  private readonly rand: () => number;
  private readonly ids = new Ids();
  private produced = 0;
  private readonly stepNs: number;

  constructor(
    private readonly total: number,
    private readonly fromNs: bigint,
    toNs: bigint,
    seed = 2,
  ) {
    this.rand = prng(seed);
    this.stepNs = Number(toNs - fromNs) / total;
  }

  get done(): boolean {
    return this.produced >= this.total;
  }

  /** The next `n` records (fewer at the end). */
  batch(n: number): LogRow[] {
    const rand = this.rand;
    const num = () => Math.floor(rand() * 1_000_000);
    const count = Math.min(n, this.total - this.produced);
    const out = new Array<LogRow>(count);
    for (let i = 0; i < count; i++) {
      const idx = this.produced + i;
      const t = this.fromNs + BigInt(Math.floor(idx * this.stepNs + rand() * this.stepNs));
      const svc = SERVICES[Math.floor(rand() * SERVICES.length)]!;
      const route = svc.routes[Math.floor(rand() * svc.routes.length)]!;
      const resource = RESOURCES.get(svc.name)![Math.floor(rand() * 2)]!;
      const roll = rand();
      let severity = 9;
      let body: string;
      const attributes: Attributes = { 'http.route': route.route, 'user.id': `u${num() % 50_000}` };
      if (roll < 0.0005) {
        severity = 17;
        body = RARE(num);
      } else if (roll < 0.04) {
        severity = 17;
        body = ERROR_BODIES[Math.floor(rand() * ERROR_BODIES.length)]!(num);
        if (roll < 0.01) {
          attributes['exception.type'] = 'PaymentSettlementError';
          attributes['exception.message'] = `provider answered 502 for payment p-${num()}`;
        }
      } else if (roll < 0.14) {
        severity = 13;
        body = WARN_BODIES[Math.floor(rand() * WARN_BODIES.length)]!(num);
      } else {
        severity = roll < 0.15 ? 5 : 9;
        body = BODIES[Math.floor(rand() * BODIES.length)]!(num, route.route);
      }
      // Common context suffix: brings bodies to the 150-200 bytes of typical service logs.
      body = `${body} env=prod region=eu-west-1 pod=${svc.name}-${num() % 40}`;
      const traced = rand() < 0.6;
      out[i] = {
        timeNs: t,
        observedTimeNs: t + 1_000_000n,
        traceId: traced ? this.ids.next(32) : '',
        spanId: traced ? this.ids.next(16) : '',
        traceFlags: traced ? 1 : 0,
        severityText: severity === 17 ? 'ERROR' : severity === 13 ? 'WARN' : severity === 5 ? 'DEBUG' : 'INFO',
        severityNumber: severity,
        body,
        resource,
        scope: SCOPE,
        attributes,
      };
    }
    this.produced += count;
    return out;
  }
}
