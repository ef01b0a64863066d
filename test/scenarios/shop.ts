/**
 * The shop's request traffic (see `world.ts`): one trace per user request through web-frontend, orders,
 * inventory, billing, the database and ledger-svc, with the faults of a scenario applied from its start.
 * Handlers compute their children first, so each span's end follows from what it waited for; a caller
 * that gives up (time-out) ends its client span at the time-out while the callee answers later.
 */
import type { Batch, Attrs } from './otlp.ts';
import { Rng } from './random.ts';
import type { Timeline } from './player.ts';
import { DB, INSTANCES, LEDGER, NAMESPACE, ORDERS_VERSION, SQL, type Faults, type Instance } from './world.ts';

/** How a call ended. `status` 0: no answer (time-out, refused). */
interface Outcome {
  end: number;
  status: number;
  errorType?: string;
  message?: string;
  exceptionType?: string;
}

interface Req {
  batch: Batch;
  traceId: string;
}

const VERSIONS: Record<string, string> = { 'web-frontend': '5.12.3', orders: ORDERS_VERSION, inventory: '1.8.0', billing: '3.3.1' };
const SKUS = Array.from({ length: 120 }, (_, i) => `SKU-${String(1000 + i * 7)}`);

/** The shop's services over the time line, with a scenario's faults. */
export class Shop {
  private readonly rng: Rng;

  constructor(
    private readonly tl: Timeline,
    private readonly faults: Faults,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }

  /** Whether the fault is on at `t`. */
  on(t: number): boolean {
    return t >= this.tl.faultAt;
  }

  private deployed(t: number): boolean {
    const d = this.faults.ordersDeploy;
    return !!d && t >= this.tl.faultAt - d.leadMs;
  }

  /** The running instances at `t` (a deploy replaces orders' pods; a stopped service has none). */
  instancesAt(t: number): Instance[] {
    const list: Instance[] = [INSTANCES.frontend, this.orders('a', t), this.orders('b', t), INSTANCES.billing];
    if (!(this.faults.inventoryStopped && this.on(t))) list.push(INSTANCES.inventory);
    return list;
  }

  private orders(which: 'a' | 'b', t: number): Instance {
    const base = which === 'a' ? INSTANCES.ordersA : INSTANCES.ordersB;
    return this.deployed(t) ? { ...base, id: base.id.replace('7b4f1', '9e1d3') } : base;
  }

  /** The OTel resource of an instance at `t`. */
  resource(inst: Instance, t: number): Attrs {
    const version = inst.service === 'orders' && this.deployed(t) ? (this.faults.ordersDeploy?.version as string) : (VERSIONS[inst.service] as string);
    return {
      'service.name': inst.service,
      'service.namespace': NAMESPACE,
      'service.version': version,
      'service.instance.id': inst.id,
      'host.name': inst.host,
      'deployment.environment.name': 'production',
      'telemetry.sdk.language': 'nodejs',
    };
  }

  /** Generates the user requests that start in `[from, to)` (one every 3 s on average). */
  traffic(batch: Batch, from: number, to: number): void {
    const drop = this.tl.faultAt - 40_000;
    if (this.faults.indexDropped?.dropStatementSpan && drop >= from && drop < to) this.dropIndexSpan(batch, drop);
    for (let t = from + this.rng.next() * 3000; t < to; t += 1500 + this.rng.next() * 3000) {
      const req: Req = { batch, traceId: this.rng.hex(16) };
      const r = this.rng.next();
      if (r < 0.35) this.frontend(req, t, 'GET', '/products/{id}', `/products/${this.rng.int(1, 400)}`, (id, s) => this.callInventoryStock(req, id, s));
      else if (r < 0.6) this.frontend(req, t, 'GET', '/orders/{id}', `/orders/${this.rng.int(10_000, 99_999)}`, (id, s) => this.callOrders(req, id, s, 'GET', '/orders/{id}', 3000, (oid, os, inst) => this.getOrder(req, oid, os, inst)));
      else if (r < 0.75) this.frontend(req, t, 'GET', '/account/orders', '/account/orders', (id, s) => this.callOrders(req, id, s, 'GET', '/customers/{id}/orders', 3000, (oid, os, inst) => this.history(req, oid, os, inst)));
      else this.frontend(req, t, 'POST', '/checkout', '/checkout', (id, s) => this.callOrders(req, id, s, 'POST', '/orders', 4000, (oid, os, inst) => this.createOrder(req, oid, os, inst)));
    }
  }

  // ---- web-frontend ----

  private frontend(req: Req, t: number, method: string, route: string, path: string, downstream: (spanId: string, t: number) => Outcome): void {
    this.server(req, INSTANCES.frontend, method, route, path, t, undefined, (spanId, s) => {
      const o = downstream(spanId, s + this.rng.lat(1.5));
      const end = o.end + this.rng.lat(2.5);
      if (o.status === 0 || o.status >= 500) return { end, status: o.status === 0 || o.status === 503 ? 503 : 502, errorType: o.errorType ?? String(o.status), message: `upstream failed: ${o.message ?? o.status}` };
      return { end, status: o.status, message: o.status >= 400 ? o.message : undefined };
    });
  }

  private callInventoryStock(req: Req, parent: string, t: number): Outcome {
    const sku = this.rng.pick(SKUS);
    return this.http(req, INSTANCES.frontend, parent, 'GET', '/stock/{sku}', 'inventory', t, 2000, this.inventoryDown(t) ? 'refused' : (id, s) =>
      this.server(req, INSTANCES.inventory, 'GET', '/stock/{sku}', `/stock/${sku}`, s, id, (sid, ss) => {
        const end = this.db(req, INSTANCES.inventory, sid, ss + this.rng.lat(0.4), SQL.stock, 'SELECT', 'stock', this.rng.lat(1.6));
        const missing = this.rng.chance(0.02);
        return { end: end + this.rng.lat(0.8), status: missing ? 404 : 200, message: missing ? `unknown sku ${sku}` : undefined };
      }),
    );
  }

  private callOrders(req: Req, parent: string, t: number, method: string, route: string, timeoutMs: number, handler: (spanId: string, t: number, inst: Instance) => Outcome): Outcome {
    const inst = this.orders(this.rng.chance(0.5) ? 'a' : 'b', t);
    return this.http(req, INSTANCES.frontend, parent, method, route, 'orders', t, timeoutMs, (id, s) => {
      const path = route.replace('{id}', String(this.rng.int(100, 9_999)));
      return this.server(req, inst, method, route, path, s, id, (sid, ss) => {
        const wait = this.poolWait(ss);
        if (wait.gaveUp) return { end: ss + wait.ms, status: 500, errorType: 'TimeoutError', exceptionType: 'TimeoutError', message: `timeout acquiring a connection from pool ${DB.pool} after 5000 ms (${DB.poolMax} of ${DB.poolMax} in use)` };
        return handler(sid, ss + wait.ms, inst);
      });
    });
  }

  // ---- orders ----

  /** orders' own CPU work: a saturated host stretches it. */
  private work(inst: Instance, t: number, median: number): number {
    const starved = (this.faults.cpuSaturated || this.faults.processCpuHog) && this.on(t) && inst.host === 'node-a';
    return starved ? this.rng.lat(median * 30, 0.6) : this.rng.lat(median, 0.4);
  }

  private poolWait(t: number): { ms: number; gaveUp: boolean } {
    if (!(this.faults.poolExhausted && this.on(t))) return { ms: 0.2, gaveUp: false };
    if (this.rng.chance(0.35)) return { ms: 5000, gaveUp: true };
    return { ms: Math.min(4900, this.rng.lat(1600, 0.5)), gaveUp: false };
  }

  private getOrder(req: Req, spanId: string, t: number, inst: Instance): Outcome {
    let at = this.db(req, inst, spanId, t + this.work(inst, t, 1.5), SQL.orderById, 'SELECT', 'orders', this.rng.lat(1.2));
    const nPlusOne = this.faults.ordersDeploy?.nPlusOne && this.deployed(t);
    if (nPlusOne) {
      // The new version loads each line on its own: one query per order line.
      const lines = this.rng.int(12, 40);
      for (let i = 0; i < lines; i++) at = this.db(req, inst, spanId, at + 0.3, SQL.orderItemByLine, 'SELECT', 'order_items', this.rng.lat(1.4));
    } else {
      at = this.db(req, inst, spanId, at + 0.2, SQL.orderItems, 'SELECT', 'order_items', this.rng.lat(2.4));
    }
    const end = at + this.work(inst, t, 2);
    this.info(req, inst, spanId, end, `loaded order ${this.rng.int(10_000, 99_999)} with ${this.rng.int(1, 9)} items`);
    return { end, status: 200 };
  }

  private history(req: Req, spanId: string, t: number, inst: Instance): Outcome {
    const slow = this.faults.indexDropped && this.on(t);
    const end = this.db(req, inst, spanId, t + this.work(inst, t, 1), SQL.history, 'SELECT', 'orders', slow ? this.rng.lat(1100, 0.3) : this.rng.lat(3.5));
    return { end: end + this.work(inst, t, 2), status: 200 };
  }

  private createOrder(req: Req, spanId: string, t: number, inst: Instance): Outcome {
    const amount = Math.round((20 + this.rng.next() * 200) * 100) / 100;
    const sku = this.rng.pick(SKUS);
    let at = t + this.work(inst, t, 2);
    const reserve = this.http(req, inst, spanId, 'POST', '/reservations', 'inventory', at, 1500, this.inventoryDown(at) ? 'refused' : (id, s) => this.reserve(req, id, s, sku));
    if (reserve.status === 0 || reserve.status >= 400) {
      const status = reserve.status === 409 ? 409 : 502;
      return { end: reserve.end + 1, status, errorType: reserve.errorType ?? String(reserve.status), message: `reservation of ${sku} failed: ${reserve.message ?? reserve.status}` };
    }
    const charge = this.http(req, inst, spanId, 'POST', '/charges', 'billing', reserve.end + 0.5, 3000, (id, s) => this.charge(req, id, s, amount));
    if (charge.status === 422) return { end: charge.end + 1, status: 422, message: charge.message };
    if (charge.status === 0 || charge.status >= 400) return { end: charge.end + 1, status: charge.status === 0 ? 504 : 502, errorType: charge.errorType ?? String(charge.status), exceptionType: 'UpstreamError', message: `billing failed: ${charge.message ?? charge.status}` };
    at = this.db(req, inst, spanId, charge.end + 0.5, SQL.insertOrder, 'INSERT', 'orders', this.rng.lat(3));
    if (this.rng.chance(0.003)) return { end: at + 1, status: 500, errorType: 'DatabaseError', exceptionType: 'DatabaseError', message: 'deadlock detected' };
    const end = at + this.work(inst, t, 2);
    this.info(req, inst, spanId, end, `order ${this.rng.int(100_000, 999_999)} created for customer ${this.rng.int(1, 5000)} total ${amount.toFixed(2)} EUR`);
    return { end, status: 201 };
  }

  // ---- inventory ----

  private inventoryDown(t: number): boolean {
    return !!this.faults.inventoryStopped && this.on(t);
  }

  private reserve(req: Req, parent: string, t: number, sku: string): Outcome {
    return this.server(req, INSTANCES.inventory, 'POST', '/reservations', '/reservations', t, parent, (id, s) => {
      const at = this.db(req, INSTANCES.inventory, id, s + this.rng.lat(0.5), SQL.reserve, 'UPDATE', 'stock', this.rng.lat(2.5));
      if (this.faults.diskFilling && this.on(t) && this.rng.chance(0.9)) {
        const file = `/var/lib/inventory/journal/${String(this.rng.int(400, 480)).padStart(6, '0')}.log`;
        return { end: at + this.rng.lat(0.6), status: 500, errorType: 'Error', exceptionType: 'Error', message: `ENOSPC: no space left on device, write '${file}'` };
      }
      if (this.rng.chance(0.01)) return { end: at + 0.5, status: 409, message: `not enough stock for ${sku}` };
      this.info(req, INSTANCES.inventory, id, at + 0.5, `reserved ${this.rng.int(1, 4)} of ${sku}`);
      return { end: at + this.rng.lat(1), status: 201 };
    });
  }

  // ---- billing ----

  private charge(req: Req, parent: string, t: number, amount: number): Outcome {
    const b = INSTANCES.billing;
    return this.server(req, b, 'POST', '/charges', '/charges', t, parent, (id, s) => {
      const limit = this.faults.billingLimit;
      if (limit && this.on(t) && amount > 120) {
        return { end: s + this.rng.lat(1.2), status: 422, message: `charge of ${amount.toFixed(2)} EUR refused: above ${limit.key} (120.00)` };
      }
      // A leaking heap: garbage collection pauses stall every request.
      const gc = this.faults.memoryLeak && this.on(t) ? this.rng.lat(450, 0.5) : this.rng.lat(1);
      const ledger = this.http(req, b, id, 'POST', '/entries', LEDGER.peer, s + gc, 5000, () => this.ledgerAnswer(s + gc + 1));
      if (ledger.status === 0) return { end: ledger.end + 0.5, status: 504, errorType: 'timeout', exceptionType: 'TimeoutError', message: `ledger request timed out after 5000 ms` };
      if (ledger.status >= 500) return { end: ledger.end + 0.5, status: 502, errorType: String(ledger.status), exceptionType: 'UpstreamError', message: `ledger answered ${ledger.status} Service Unavailable` };
      this.info(req, b, id, ledger.end, `charge ch_${this.rng.hex(6)} accepted amount ${amount.toFixed(2)} EUR`);
      return { end: ledger.end + this.rng.lat(1.5), status: 201 };
    });
  }

  /** ledger-svc reports nothing itself: only its answer, as billing's client span sees it. */
  private ledgerAnswer(t: number): Outcome {
    if (this.faults.ledgerFailing && this.on(t)) {
      const r = this.rng.next();
      if (r < 0.3) return { end: t + this.rng.lat(25), status: 503, message: 'Service Unavailable' };
      if (r < 0.7) return { end: t + this.rng.lat(9000, 0.2), status: 200 };
      return { end: t + this.rng.lat(90), status: 201 };
    }
    if (this.faults.ledgerSlow && this.on(t)) return { end: t + this.rng.lat(1200, 0.3), status: 201 };
    return { end: t + this.rng.lat(18), status: this.rng.chance(0.002) ? 503 : 201, message: 'Service Unavailable' };
  }

  // ---- span helpers ----

  private server(req: Req, inst: Instance, method: string, route: string, path: string, start: number, parent: string | undefined, handle: (spanId: string, t: number) => Outcome): Outcome {
    const spanId = this.rng.hex(8);
    const o = handle(spanId, start + this.rng.lat(0.2));
    const end = o.end + this.rng.lat(0.2);
    const failed = o.status >= 500;
    req.batch.span(this.resource(inst, start), {
      traceId: req.traceId,
      spanId,
      parentSpanId: parent,
      name: `${method} ${route}`,
      kind: 'server',
      startMs: start,
      endMs: end,
      attributes: {
        'http.request.method': method,
        'http.route': route,
        'url.path': path,
        'url.scheme': 'http',
        'http.response.status_code': o.status,
        'server.address': inst.service,
        'server.port': 8080,
        ...(failed ? { 'error.type': o.errorType ?? String(o.status) } : {}),
      },
      error: failed ? { message: o.message ?? `HTTP ${o.status}`, exceptionType: o.exceptionType } : undefined,
    });
    if (failed) this.log(req, inst, spanId, end, 'ERROR', `${method} ${path} failed: ${o.message ?? o.status}`);
    else if (o.status >= 400 && o.message) this.log(req, inst, spanId, end, 'WARN', `${method} ${path} refused (${o.status}): ${o.message}`);
    return { ...o, end };
  }

  private http(req: Req, from: Instance, parent: string, method: string, template: string, peer: string, start: number, timeoutMs: number, call: 'refused' | ((spanId: string, t: number) => Outcome)): Outcome {
    const spanId = this.rng.hex(8);
    const address = peer === LEDGER.peer ? LEDGER.address : peer;
    const port = peer === LEDGER.peer ? LEDGER.port : 8080;
    let o: Outcome;
    if (call === 'refused') {
      o = { end: start + this.rng.lat(1.5), status: 0, errorType: 'ECONNREFUSED', exceptionType: 'Error', message: `connect ECONNREFUSED ${address}:${port}` };
    } else {
      o = call(spanId, start + this.rng.lat(0.4));
      o = { ...o, end: o.end + this.rng.lat(0.4) };
      if (o.end - start > timeoutMs) o = { end: start + timeoutMs, status: 0, errorType: 'timeout', exceptionType: 'TimeoutError', message: `${peer} did not answer within ${timeoutMs} ms` };
    }
    const failed = o.status === 0 || o.status >= 400;
    req.batch.span(this.resource(from, start), {
      traceId: req.traceId,
      spanId,
      parentSpanId: parent,
      name: `${method} ${template}`,
      kind: 'client',
      startMs: start,
      endMs: o.end,
      attributes: {
        'http.request.method': method,
        'url.template': template,
        'url.full': `${peer === LEDGER.peer ? 'https' : 'http'}://${address}:${port}${template}`,
        'server.address': address,
        'server.port': port,
        'peer.service': peer,
        ...(o.status ? { 'http.response.status_code': o.status } : {}),
        ...(failed ? { 'error.type': o.errorType ?? String(o.status) } : {}),
      },
      error: failed ? { message: o.message ?? `HTTP ${o.status}`, exceptionType: o.status === 0 ? o.exceptionType : undefined } : undefined,
    });
    if (o.status === 0) this.log(req, from, spanId, o.end, 'ERROR', `call to ${peer} ${method} ${template} failed: ${o.message}`);
    return o;
  }

  /** A database client span; returns when it ended. */
  private db(req: Req, inst: Instance, parent: string, start: number, sql: string, op: string, table: string, durMs: number): number {
    const end = start + durMs;
    req.batch.span(this.resource(inst, start), {
      traceId: req.traceId,
      spanId: this.rng.hex(8),
      parentSpanId: parent,
      name: `${op} ${table}`,
      kind: 'client',
      startMs: start,
      endMs: end,
      attributes: { 'db.system.name': DB.system, 'db.namespace': DB.namespace, 'db.query.text': sql, 'db.operation.name': op, 'db.collection.name': table, 'server.address': DB.address, 'server.port': DB.port },
    });
    return end;
  }

  private info(req: Req, inst: Instance, spanId: string, t: number, body: string): void {
    if (this.rng.chance(0.3)) this.log(req, inst, spanId, t, 'INFO', body);
  }

  private log(req: Req, inst: Instance, spanId: string, t: number, severity: 'INFO' | 'WARN' | 'ERROR', body: string): void {
    req.batch.log(this.resource(inst, t), { timeMs: t, severity, body, traceId: req.traceId, spanId });
  }

  /** The out-of-band `DROP INDEX`: a root database span of orders, outside any request. */
  dropIndexSpan(batch: Batch, t: number): void {
    const inst = this.orders('a', t);
    batch.span(this.resource(inst, t), {
      traceId: this.rng.hex(16),
      spanId: this.rng.hex(8),
      name: 'DROP INDEX orders',
      kind: 'client',
      startMs: t,
      endMs: t + 180,
      attributes: { 'db.system.name': DB.system, 'db.namespace': DB.namespace, 'db.query.text': SQL.dropIndex, 'db.operation.name': 'DROP INDEX', 'db.collection.name': 'orders', 'server.address': DB.address, 'server.port': DB.port },
    });
  }
}
