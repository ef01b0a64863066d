/**
 * A small database adapter for the demo services: SQLite (better-sqlite3) by default, PostgreSQL (pg) when a URL is
 * given. SQL is written once with `?` placeholders; each call becomes a CLIENT span following the database semconv
 * (`db.system`, `db.query.text`, `db.statement`, `db.operation.name`, `db.collection.name`).
 */
import path from 'node:path';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SpanKind, type Attributes, type Meter, type Tracer } from '@opentelemetry/api';
import { inSpan } from './telemetry.ts';

/** Parameters bound to `?` placeholders. */
export type Param = string | number | bigint | null | boolean;
/** A result row as the driver returns it. */
export type Row = Record<string, unknown>;

/** The adapter every demo service talks to. */
export interface Db {
  readonly system: 'sqlite' | 'postgresql';
  all<T = Row>(sql: string, params?: Param[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: Param[]): Promise<T | undefined>;
  run(sql: string, params?: Param[]): Promise<{ changes: number }>;
  /** Runs DDL (several statements allowed); `{{id}}` and `{{float}}` expand per dialect. */
  exec(sql: string): Promise<void>;
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Fast untraced bulk insert for seeding: one transaction, prepared/multi-row statements. */
  bulkInsert(table: string, columns: string[], rows: Param[][]): Promise<void>;
  close(): Promise<void>;
}

/** Where a service's database lives. */
export interface DbOptions {
  /** SQLite file path (used when `url` is empty). */
  file: string;
  /** PostgreSQL URL; the service gets its own schema in it. */
  url?: string;
  schema: string;
  tracer: Tracer;
  meter: Meter;
}

const OPERATION = /^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WITH|BEGIN|COMMIT|ROLLBACK|PRAGMA|ANALYZE)\b/i;
const COLLECTION = /\b(?:FROM|INTO|UPDATE|TABLE|ON)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)/i;

/** `SELECT usage_records` etc., plus the semconv attributes for one statement. */
export function describeQuery(system: Db['system'], namespace: string, sql: string): { name: string; attributes: Attributes } {
  const op = (OPERATION.exec(sql)?.[1] ?? 'QUERY').toUpperCase();
  const collection = COLLECTION.exec(sql)?.[1];
  const text = sql.replace(/\s+/g, ' ').trim();
  const attributes: Attributes = {
    'db.system': system,
    'db.system.name': system,
    'db.namespace': namespace,
    'db.query.text': text,
    'db.statement': text,
    'db.operation.name': op,
  };
  if (collection) attributes['db.collection.name'] = collection;
  return { name: collection ? `${op} ${collection}` : op, attributes };
}

function expandDdl(sql: string, system: Db['system']): string {
  return sql
    .replaceAll('{{id}}', system === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'BIGSERIAL PRIMARY KEY')
    .replaceAll('{{float}}', system === 'sqlite' ? 'REAL' : 'DOUBLE PRECISION');
}

/** Opens the database the options point to. */
export async function openDb(opts: DbOptions): Promise<Db> {
  const duration = opts.meter.createHistogram('db.client.operation.duration', {
    unit: 's',
    description: 'Duration of database client operations',
    advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] },
  });
  if (opts.url) return PgDb.open(opts, duration);
  fs.mkdirSync(path.dirname(opts.file), { recursive: true });
  return new SqliteDb(opts, duration);
}

type Histogram = ReturnType<Meter['createHistogram']>;

async function traced<T>(tracer: Tracer, duration: Histogram, system: Db['system'], ns: string, extra: Attributes, sql: string, fn: () => Promise<T> | T): Promise<T> {
  const { name, attributes } = describeQuery(system, ns, sql);
  const started = performance.now();
  let failed = '';
  try {
    return await inSpan(tracer, name, { kind: SpanKind.CLIENT, attributes: { ...attributes, ...extra } }, async (span) => {
      const out = await fn();
      if (Array.isArray(out)) span.setAttribute('db.response.returned_rows', out.length);
      return out;
    });
  } catch (err) {
    failed = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
    throw err;
  } finally {
    const attrs: Attributes = { 'db.system': system, 'db.system.name': system, 'db.operation.name': String(attributes['db.operation.name']), 'db.namespace': ns };
    if (attributes['db.collection.name']) attrs['db.collection.name'] = attributes['db.collection.name'];
    if (failed) attrs['error.type'] = failed;
    duration.record((performance.now() - started) / 1000, attrs);
  }
}

class SqliteDb implements Db {
  readonly system = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly ns: string;

  constructor(
    private readonly opts: DbOptions,
    private readonly duration: Histogram,
  ) {
    this.db = new Database(opts.file);
    // WAL + NORMAL sync: the usual production setting for SQLite behind a web service.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 2000');
    this.ns = path.basename(opts.file);
  }

  private prepare(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private trace<T>(sql: string, fn: () => T): Promise<T> {
    return traced(this.opts.tracer, this.duration, 'sqlite', this.ns, {}, sql, fn);
  }

  all<T = Row>(sql: string, params: Param[] = []): Promise<T[]> {
    return this.trace(sql, () => this.prepare(sql).all(...params) as T[]);
  }

  get<T = Row>(sql: string, params: Param[] = []): Promise<T | undefined> {
    return this.trace(sql, () => this.prepare(sql).get(...params) as T | undefined);
  }

  run(sql: string, params: Param[] = []): Promise<{ changes: number }> {
    return this.trace(sql, () => ({ changes: this.prepare(sql).run(...params).changes }));
  }

  exec(sql: string): Promise<void> {
    const text = expandDdl(sql, 'sqlite');
    // Schema changes invalidate prepared statements that depended on a dropped index.
    this.statements.clear();
    return this.trace(text, () => void this.db.exec(text));
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    // One connection: statements issued while awaiting join this transaction, acceptable for the demo's workloads.
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = await fn(this);
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  async bulkInsert(table: string, columns: string[], rows: Param[][]): Promise<void> {
    const st = this.db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    this.db.transaction(() => {
      for (const r of rows) st.run(...r);
    })();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

class PgDb implements Db {
  readonly system = 'postgresql' as const;
  private constructor(
    private readonly opts: DbOptions,
    private readonly duration: Histogram,
    private readonly pool: pg.Pool,
    private readonly client: pg.PoolClient | null,
    private readonly extra: Attributes,
    private readonly ns: string,
  ) {}

  static async open(opts: DbOptions, duration: Histogram): Promise<PgDb> {
    const url = new URL(opts.url ?? '');
    // COUNT/SUM/BIGSERIAL come back as strings by default; the demo's values fit in a double, so answer like SQLite.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    pg.types.setTypeParser(1700, (v: string) => Number(v));
    const bootstrap = new pg.Client({ connectionString: opts.url });
    await bootstrap.connect();
    await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    await bootstrap.end();
    const pool = new pg.Pool({ connectionString: opts.url, max: 8, options: `-c search_path=${opts.schema}` });
    // An idle client losing its connection must not crash the service.
    pool.on('error', () => undefined);
    const extra: Attributes = { 'server.address': url.hostname, 'server.port': Number(url.port || 5432) };
    const gauge = opts.meter.createObservableGauge('db.client.connection.count', { unit: '{connection}', description: 'Connections in the pool by state' });
    gauge.addCallback((r) => {
      const poolName = `${url.hostname}:${url.port || 5432}/${url.pathname.slice(1)}`;
      r.observe(pool.totalCount - pool.idleCount, { 'db.client.connection.state': 'used', 'db.client.connection.pool.name': poolName });
      r.observe(pool.idleCount, { 'db.client.connection.state': 'idle', 'db.client.connection.pool.name': poolName });
    });
    opts.meter.createObservableGauge('db.client.connection.max', { unit: '{connection}' }).addCallback((r) => r.observe(8));
    return new PgDb(opts, duration, pool, null, extra, `${url.pathname.slice(1)}.${opts.schema}`);
  }

  private q(sql: string, params: Param[]): Promise<pg.QueryResult> {
    let i = 0;
    const text = sql.replace(/\?/g, () => `$${++i}`);
    const values = params.map((p) => (typeof p === 'bigint' ? p.toString() : p));
    return (this.client ?? this.pool).query(text, values);
  }

  private trace<T>(sql: string, fn: () => Promise<T>): Promise<T> {
    return traced(this.opts.tracer, this.duration, 'postgresql', this.ns, this.extra, sql, fn);
  }

  all<T = Row>(sql: string, params: Param[] = []): Promise<T[]> {
    return this.trace(sql, async () => (await this.q(sql, params)).rows as T[]);
  }

  get<T = Row>(sql: string, params: Param[] = []): Promise<T | undefined> {
    return this.trace(sql, async () => (await this.q(sql, params)).rows[0] as T | undefined);
  }

  run(sql: string, params: Param[] = []): Promise<{ changes: number }> {
    return this.trace(sql, async () => ({ changes: (await this.q(sql, params)).rowCount ?? 0 }));
  }

  exec(sql: string): Promise<void> {
    const text = expandDdl(sql, 'postgresql');
    return this.trace(text, async () => void (await (this.client ?? this.pool).query(text)));
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.client) return fn(this);
    const client = await this.pool.connect();
    const tx = new PgDb(this.opts, this.duration, this.pool, client, this.extra, this.ns);
    try {
      await client.query('BEGIN');
      const out = await fn(tx);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async bulkInsert(table: string, columns: string[], rows: Param[][]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Multi-row inserts keep well under PostgreSQL's 65535 bound parameters.
      const per = Math.max(1, Math.floor(30000 / columns.length));
      for (let off = 0; off < rows.length; off += per) {
        const chunk = rows.slice(off, off + per);
        const values: Param[] = [];
        const tuples = chunk.map((r) => `(${r.map((v) => (values.push(v), `$${values.length}`)).join(', ')})`);
        await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, values);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
