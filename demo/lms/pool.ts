/**
 * A fixed-size connection pool over SQLite connections, shaped like generic-pool/pg-pool: acquire with a timeout,
 * release, and pool gauges (`db.client.connection.count` by state, `.max`, `.pending_requests`). The connection-failure
 * fault makes the registration path lose connections, which is how pools really get exhausted.
 */
import type { Meter, Tracer } from '@opentelemetry/api';
import { openDb, type Db } from '../db.ts';

/** A pool of `size` connections to one SQLite file. */
export class ConnectionPool {
  private idle: Db[] = [];
  private used = new Set<Db>();
  private waiters: { resolve: (db: Db) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private all: Db[] = [];
  readonly name: string;

  private constructor(
    private readonly file: string,
    readonly size: number,
    private readonly acquireTimeoutMs: number,
    private readonly tracer: Tracer,
    private readonly meter: Meter,
  ) {
    this.name = `lms-db`;
  }

  /** Opens `size` connections and registers the pool gauges. */
  static async open(file: string, size: number, acquireTimeoutMs: number, tracer: Tracer, meter: Meter): Promise<ConnectionPool> {
    const pool = new ConnectionPool(file, size, acquireTimeoutMs, tracer, meter);
    await pool.fill();
    const attrs = { 'db.client.connection.pool.name': pool.name };
    meter.createObservableGauge('db.client.connection.count', { unit: '{connection}', description: 'Connections in the pool by state' }).addCallback((r) => {
      r.observe(pool.used.size, { ...attrs, 'db.client.connection.state': 'used' });
      r.observe(pool.idle.length, { ...attrs, 'db.client.connection.state': 'idle' });
    });
    meter.createObservableGauge('db.client.connection.max', { unit: '{connection}' }).addCallback((r) => r.observe(pool.size, attrs));
    meter.createObservableGauge('db.client.connection.pending_requests', { unit: '{request}' }).addCallback((r) => r.observe(pool.waiters.length, attrs));
    return pool;
  }

  private async fill(): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      const db = await openDb({ file: this.file, schema: 'lms', tracer: this.tracer, meter: this.meter });
      this.all.push(db);
      this.idle.push(db);
    }
  }

  /** Waits up to the acquire timeout for a connection. */
  acquire(): Promise<Db> {
    const db = this.idle.pop();
    if (db) {
      this.used.add(db);
      return Promise.resolve(db);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(
          Object.assign(new Error(`TimeoutError: ResourceRequest timed out: no connection available in pool ${this.name} (max ${this.size}) after ${this.acquireTimeoutMs} ms`), {
            name: 'TimeoutError',
            code: 'POOL_EXHAUSTED',
          }),
        );
      }, this.acquireTimeoutMs);
      this.waiters.push({ resolve, reject, timer });
    });
  }

  /** Returns a connection; hands it straight to the oldest waiter if any. */
  release(db: Db): void {
    if (!this.used.has(db)) return;
    const w = this.waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve(db);
      return;
    }
    this.used.delete(db);
    this.idle.push(db);
  }

  /** Runs `fn` with a connection; `leak` keeps it checked out (the bug the fault injects). */
  async with<T>(fn: (db: Db) => Promise<T>, leak = false): Promise<T> {
    const db = await this.acquire();
    try {
      return await fn(db);
    } finally {
      if (!leak) this.release(db);
    }
  }

  /** Connections checked out and never returned. */
  leaked(): number {
    return this.used.size;
  }

  /** Gives back every checked-out connection (the leak stops being a leak). */
  releaseAll(): void {
    for (const db of [...this.used]) this.release(db);
  }

  /** Closes every connection and opens fresh ones: what a pool reset or restart does. */
  async reset(): Promise<void> {
    const old = this.all;
    this.all = [];
    this.idle = [];
    this.used = new Set();
    await this.fill();
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      void this.acquire().then(w.resolve, w.reject);
    }
    await Promise.all(old.map((db) => db.close().catch(() => undefined)));
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((db) => db.close().catch(() => undefined)));
  }
}
