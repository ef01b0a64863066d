/**
 * The state store (DESIGN.md §3): transactional state on SQLite through Kysely, which also speaks
 * PostgreSQL, so the scale-out adapter is a dialect change. The only module that imports the SQLite driver.
 */
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Generated } from 'kysely';
import { migrations } from './migrations.ts';

/** Tables of the state store. */
export interface StateTables {
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

/** Opens the SQLite state database at `path` and brings its schema up to date. */
export async function openStateDb(path: string): Promise<StateDb> {
  const sqlite = new Database(path);
  // WAL lets the CLI (token create/revoke) write while the server reads; busy_timeout rides out short locks.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<StateTables>({ dialect: new SqliteDialect({ database: sqlite }) });
  // Migrations of different features are independent; allow one added later with a lower number.
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    await db.destroy();
    throw new Error(`state store migration ${failed} failed: ${(error as Error).message}`);
  }
  return db;
}
