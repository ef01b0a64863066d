/**
 * The state store (DESIGN.md §3): transactional state through Kysely, on SQLite (the default, a file in
 * the data directory) or on PostgreSQL (`store.state: postgres://…`). The only module that imports the
 * database drivers; repositories beside it write dialect-neutral Kysely queries.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  Kysely,
  Migrator,
  OperationNodeTransformer,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Dialect,
  type Generated,
  type KyselyPlugin,
  type PrimitiveValueListNode,
  type ValueNode,
} from 'kysely';
import { stateMigrations, type StateDialect } from './migrations.ts';

/** Tables of the state store. */
export interface StateTables {
  alert_instances: {
    rule_id: string;
    fingerprint: string;
    labels: string;
    annotations: string;
    state: string;
    value: number | null;
    active_at: number;
    fired_at: number | null;
    resolved_at: number | null;
    last_seen_at: number;
    last_eval_at: number;
    flap: string;
  };
  alert_transitions: {
    id: Generated<number>;
    rule_id: string;
    fingerprint: string;
    labels: string;
    from_state: string;
    to_state: string;
    at: number;
    value: number | null;
  };
  rule_health: {
    rule_id: string;
    health: string;
    last_error: string | null;
    last_eval_at: number | null;
    eval_ms: number | null;
  };
  silences: {
    id: string;
    matchers: string;
    starts_at: number;
    ends_at: number;
    created_by: string;
    comment: string;
    updated_at: number;
  };
  notification_log: {
    receiver: string;
    group_key: string;
    firing: string;
    resolved: string;
    sent_at: number;
    expires_at: number;
  };
  deliveries: {
    id: Generated<number>;
    at: number;
    receiver: string;
    integration: string;
    group_key: string;
    idempotency_key: string;
    status: string;
    attempts: number;
    firing: number;
    resolved: number;
    http_status: number | null;
    error: string | null;
    duration_ms: number;
  };
  changes: {
    id: Generated<number>;
    at: number;
    service: string;
    namespace: string;
    kind: string;
    version: string | null;
    previous_version: string | null;
    description: string;
    author: string | null;
    commit_sha: string | null;
    source: string;
    attributes: string;
    created_at: number;
  };
  incidents: {
    id: Generated<number>;
    title: string;
    severity: string;
    status: string;
    commander: string | null;
    assignees: string;
    services: string;
    systems: string;
    description: string;
    opened_at: number;
    acknowledged_at: number | null;
    resolved_at: number | null;
    closed_at: number | null;
    correlation_key: string | null;
    source: string;
    updated_at: number;
  };
  incident_events: {
    id: Generated<number>;
    incident_id: number;
    at: number;
    kind: string;
    actor: string;
    data: string;
  };
  incident_alerts: {
    incident_id: number;
    rule_id: string;
    fingerprint: string;
    labels: string;
    linked_at: number;
  };
  diagnosis_reports: {
    id: Generated<number>;
    incident_id: number;
    state: string;
    trigger: string;
    started_at: number;
    finished_at: number | null;
    report: string;
  };
  runbooks: {
    id: Generated<number>;
    title: string;
    scope_kind: string;
    scope_value: string;
    body: string;
    actions: string;
    updated_at: number;
    updated_by: string;
  };
  remediation_actions: {
    id: Generated<number>;
    name: string;
    description: string;
    method: string;
    url: string;
    headers: string;
    body: string;
    inputs: string;
    services: string;
    timeout_ms: number;
    updated_at: number;
    updated_by: string;
  };
  monitors: {
    id: string;
    name: string;
    system: string;
    type: string;
    source: string;
    file: string | null;
    spec: string;
    push_token: string | null;
    created_at: string;
    updated_at: string;
  };
  monitor_status: {
    monitor_id: string;
    state: string;
    failures: number;
    since: number;
    last_check_at: number | null;
    last_result: string | null;
    last_push_at: number | null;
    last_push_status: string | null;
    last_push_message: string | null;
  };
  monitor_state_changes: {
    id: Generated<number>;
    monitor_id: string;
    at: number;
    from_state: string;
    to_state: string;
    error: string | null;
  };
  monitor_rollups: {
    monitor_id: string;
    bucket: string;
    start: number;
    checks: number;
    up: number;
    down: number;
    degraded: number;
    latency_sum: number;
    latency_max: number;
  };
  status_pages: {
    slug: string;
    title: string;
    description: string;
    components: string;
    created_at: string;
    updated_at: string;
  };
  api_tokens: {
    id: Generated<number>;
    name: string;
    scope: string;
    token_hash: string;
    created_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
    rate_limit: number | null;
  };
  users: {
    id: Generated<number>;
    username: string;
    role: string;
    password_hash: string;
    created_at: string;
    password_changed_at: string;
  };
  sessions: {
    id_hash: string;
    user_id: number;
    csrf_token: string;
    created_at: string;
    last_seen_at: string;
    ip: string | null;
    user_agent: string | null;
  };
  login_failures: {
    id: Generated<number>;
    username: string;
    ip: string;
    at: string;
  };
  audit_log: {
    id: Generated<number>;
    at: string;
    actor: string;
    action: string;
    target: string | null;
    ip: string | null;
    details: string | null;
  };
  dashboards: {
    id: Generated<number>;
    uid: string;
    title: string;
    description: string;
    spec: string;
    owner: string;
    builtin_key: string | null;
    created_at: string;
    updated_at: string;
    deleted_at: string | null;
  };
  saved_searches: {
    id: Generated<number>;
    owner: string;
    name: string;
    query: string;
    range: string | null;
    created_at: string;
  };
}

/** A handle on the state store. */
export type StateDb = Kysely<StateTables>;

/** Whether a `store.state` setting is a PostgreSQL connection URL (else the SQLite file is used). */
export function isPostgresUrl(setting: string): boolean {
  return /^postgres(ql)?:\/\//i.test(setting);
}

/** The location `openStateDb` takes for a `store.state` setting: the URL, or the data directory's SQLite file. */
export function stateLocation(setting: string, sqlitePath: string): string {
  return isPostgresUrl(setting) ? setting : sqlitePath;
}

/** Where the state store lives, for messages: a path, or the URL without its password. */
export function describeStateLocation(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

// int8 (count(*), identity ids, epoch milliseconds) arrives from pg as a string so as not to lose
// precision past 2^53; every such value here is far below that, and the repositories expect numbers.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

const clean = (v: unknown): unknown => (typeof v === 'string' && v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v);

/** Replaces NUL characters in every parameter, so that user text cannot make the store fail. */
class NulReplacer extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return { ...node, value: clean(node.value) };
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return { ...node, values: node.values.map(clean) };
  }
}

// PostgreSQL refuses text holding NUL ("invalid byte sequence"), which SQLite stores: a user name or
// dashboard title with one would be a 500 on one database only. Both dialects get U+FFFD instead,
// in writes and lookups alike, so they answer the same.
const nulReplacer = new NulReplacer();
const nulSafe: KyselyPlugin = {
  transformQuery: ({ node }) => nulReplacer.transformNode(node),
  transformResult: async ({ result }) => result,
};

function sqliteDialect(path: string): Dialect {
  const sqlite = new Database(path);
  // WAL lets the CLI (token create/revoke) write while the server reads; busy_timeout rides out short locks.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return new SqliteDialect({ database: sqlite });
}

function postgresDialect(url: string): Dialect {
  // A local pool (not pg's global type registry): the PostgreSQL monitor check uses pg too.
  const pool = new pg.Pool({ connectionString: url, types: pgTypes, max: 10 });
  // A connection dropped while idle (server restart) must not crash the process; the next query
  // takes a new connection and reports its own error.
  pool.on('error', () => undefined);
  return new PostgresDialect({ pool });
}

/**
 * Opens the state store — a SQLite file path or a `postgres://` URL — and brings its schema up to
 * date. Several processes may open the same PostgreSQL database at once: Kysely's Migrator holds an
 * advisory lock while it migrates, so each migration runs once.
 */
export async function openStateDb(location: string): Promise<StateDb> {
  const dialect: StateDialect = isPostgresUrl(location) ? 'postgres' : 'sqlite';
  const db = new Kysely<StateTables>({ dialect: dialect === 'postgres' ? postgresDialect(location) : sqliteDialect(location), plugins: [nulSafe] });
  let failed: string | undefined;
  try {
    // Kysely looks for its migration tables in every schema of the database; name ours (the first of
    // the search_path, where the tables are created) so that another schema's Vigil is not mistaken for it.
    const migrationTableSchema = dialect === 'postgres' ? await currentSchema(db) : undefined;
    const migrations = stateMigrations(dialect);
    // Migrations of different features are independent; allow one added later with a lower number.
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true, migrationTableSchema });
    const { error, results } = await migrator.migrateToLatest();
    failed = results?.find((r) => r.status === 'Error')?.migrationName;
    if (error) throw error;
    return db;
  } catch (err) {
    await db.destroy();
    const what = failed ? `migration ${failed} failed` : 'cannot be opened';
    throw new Error(`state store ${describeStateLocation(location)} ${what}: ${(err as Error).message}`);
  }
}

async function currentSchema(db: StateDb): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('no schema of the search_path exists (create it, or fix search_path)');
  return schema;
}

/** Resolves when the state store answers a trivial statement (readiness); throws when it does not. */
export async function pingStateDb(db: StateDb): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
