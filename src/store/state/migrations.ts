/**
 * Versioned migrations of the state store, applied in name order by Kysely's Migrator, on SQLite and
 * on PostgreSQL. Never edit what a shipped migration does on SQLite (databases in the field were made
 * by it): add the next migration. Column types come from `columnTypes`, the one place where the two
 * dialects differ; on SQLite it yields exactly the types the migrations always used.
 *
 * Time convention: epoch milliseconds in a 64-bit integer (`bigint` on PostgreSQL) for every new
 * column. The shipped ISO-8601 text columns (`created_at`…) stay text on both dialects: their values
 * are always `Date.toISOString()`, fixed width in UTC, so they compare and sort as time.
 */
import { sql, type ColumnDataType, type ColumnDefinitionBuilder, type CreateTableBuilder, type Expression, type Kysely, type Migration } from 'kysely';

// Kysely's own name for this union is not exported.
type DataTypeExpression = ColumnDataType | Expression<unknown>;

/** The SQL dialects the state store runs on. */
export type StateDialect = 'sqlite' | 'postgres';

interface ColumnTypes {
  /** Text that compares byte by byte, as SQLite does, whatever the database's collation. */
  text: DataTypeExpression;
  /** Epoch milliseconds (beyond 32 bits). */
  epochMs: DataTypeExpression;
  /** An 8-byte float (PostgreSQL's `real` has 4 bytes). */
  double: DataTypeExpression;
  /** A reference to an `id` column. */
  idRef: DataTypeExpression;
  /** Adds the table's generated integer primary key `id`. */
  id<T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C | 'id'>;
}

function columnTypes(dialect: StateDialect): ColumnTypes {
  if (dialect === 'sqlite') {
    return {
      text: 'text',
      epochMs: 'integer',
      double: 'real',
      idRef: 'integer',
      id: (table) => table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement()),
    };
  }
  return {
    // COLLATE "C": ordering, `<` on ISO times and the audit log's prefix range behave as on SQLite
    // instead of following the server's locale.
    text: sql`text collate "C"`,
    epochMs: 'bigint',
    double: 'double precision',
    idRef: 'bigint',
    id: (table) => table.addColumn('id', 'bigint', (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity()),
  };
}

/** The state store's migrations for one dialect. */
export function stateMigrations(dialect: StateDialect): Record<string, Migration> {
  const { text, epochMs, double, idRef, id } = columnTypes(dialect);
  return {
    '0001_api_tokens': {
      async up(db: Kysely<unknown>) {
        await id(db.schema.createTable('api_tokens'))
          .addColumn('name', text, (c) => c.notNull().unique())
          .addColumn('scope', text, (c) => c.notNull())
          .addColumn('token_hash', text, (c) => c.notNull().unique())
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('last_used_at', text)
          .addColumn('revoked_at', text)
          .execute();
      },
    },
    '0002_monitors': {
      // Monitors (from files and the API), their current state, state-change history, hourly and daily
      // rollups (90 days of 1,000 monitors stays in the tens of MB) and status pages.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('monitors')
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('name', text, (c) => c.notNull())
          .addColumn('system', text, (c) => c.notNull())
          .addColumn('type', text, (c) => c.notNull())
          .addColumn('source', text, (c) => c.notNull())
          .addColumn('file', text)
          .addColumn('spec', text, (c) => c.notNull())
          .addColumn('push_token', text, (c) => c.unique())
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('updated_at', text, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('monitor_status')
          .addColumn('monitor_id', text, (c) => c.primaryKey())
          .addColumn('state', text, (c) => c.notNull())
          .addColumn('failures', 'integer', (c) => c.notNull())
          .addColumn('since', epochMs, (c) => c.notNull())
          .addColumn('last_check_at', epochMs)
          .addColumn('last_result', text)
          .addColumn('last_push_at', epochMs)
          .addColumn('last_push_status', text)
          .addColumn('last_push_message', text)
          .execute();
        await id(db.schema.createTable('monitor_state_changes'))
          .addColumn('monitor_id', text, (c) => c.notNull())
          .addColumn('at', epochMs, (c) => c.notNull())
          .addColumn('from_state', text, (c) => c.notNull())
          .addColumn('to_state', text, (c) => c.notNull())
          .addColumn('error', text)
          .execute();
        await db.schema.createIndex('monitor_state_changes_monitor_at').on('monitor_state_changes').columns(['monitor_id', 'at']).execute();
        await db.schema
          .createTable('monitor_rollups')
          .addColumn('monitor_id', text, (c) => c.notNull())
          .addColumn('bucket', text, (c) => c.notNull())
          .addColumn('start', epochMs, (c) => c.notNull())
          .addColumn('checks', 'integer', (c) => c.notNull())
          .addColumn('up', 'integer', (c) => c.notNull())
          .addColumn('down', 'integer', (c) => c.notNull())
          .addColumn('degraded', 'integer', (c) => c.notNull())
          .addColumn('latency_sum', double, (c) => c.notNull())
          .addColumn('latency_max', double, (c) => c.notNull())
          .addPrimaryKeyConstraint('monitor_rollups_pk', ['monitor_id', 'bucket', 'start'])
          .execute();
        await db.schema
          .createTable('status_pages')
          .addColumn('slug', text, (c) => c.primaryKey())
          .addColumn('title', text, (c) => c.notNull())
          .addColumn('description', text, (c) => c.notNull())
          .addColumn('components', text, (c) => c.notNull())
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('updated_at', text, (c) => c.notNull())
          .execute();
      },
    },
    '0003_users_sessions_audit': {
      async up(db: Kysely<unknown>) {
        await id(db.schema.createTable('users'))
          .addColumn('username', text, (c) => c.notNull().unique())
          .addColumn('role', text, (c) => c.notNull())
          .addColumn('password_hash', text, (c) => c.notNull())
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('password_changed_at', text, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('sessions')
          .addColumn('id_hash', text, (c) => c.primaryKey())
          .addColumn('user_id', idRef, (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('csrf_token', text, (c) => c.notNull())
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('last_seen_at', text, (c) => c.notNull())
          .addColumn('ip', text)
          .addColumn('user_agent', text)
          .execute();
        await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
        await id(db.schema.createTable('login_failures'))
          .addColumn('username', text, (c) => c.notNull())
          .addColumn('ip', text, (c) => c.notNull())
          .addColumn('at', text, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('login_failures_username').on('login_failures').columns(['username', 'at']).execute();
        await db.schema.createIndex('login_failures_ip').on('login_failures').columns(['ip', 'at']).execute();
        await id(db.schema.createTable('audit_log'))
          .addColumn('at', text, (c) => c.notNull())
          .addColumn('actor', text, (c) => c.notNull())
          .addColumn('action', text, (c) => c.notNull())
          .addColumn('target', text)
          .addColumn('ip', text)
          .addColumn('details', text)
          .execute();
        await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
        // Per-token ingest limit in records per second; null means the configured default.
        await db.schema.alterTable('api_tokens').addColumn('rate_limit', 'integer').execute();
      },
    },
    '0004_dashboards': {
      async up(db: Kysely<unknown>) {
        await id(db.schema.createTable('dashboards'))
          .addColumn('uid', text, (c) => c.notNull().unique())
          .addColumn('title', text, (c) => c.notNull())
          .addColumn('description', text, (c) => c.notNull())
          .addColumn('spec', text, (c) => c.notNull())
          .addColumn('owner', text, (c) => c.notNull())
          .addColumn('builtin_key', text, (c) => c.unique())
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('updated_at', text, (c) => c.notNull())
          .addColumn('deleted_at', text)
          .execute();
        await id(db.schema.createTable('saved_searches'))
          .addColumn('owner', text, (c) => c.notNull())
          .addColumn('name', text, (c) => c.notNull())
          .addColumn('query', text, (c) => c.notNull())
          .addColumn('range', text)
          .addColumn('created_at', text, (c) => c.notNull())
          .addUniqueConstraint('saved_searches_owner_name', ['owner', 'name'])
          .execute();
      },
    },
    '0005_alerting': {
      // Alert instances (the evaluator's persisted state: a restart neither loses a firing alert nor its
      // resolved notification), their transitions (history, chart markers, flap counts), rule health,
      // silences, the notification log (what each receiver was last sent per group: no duplicate after
      // a restart) and the delivery log.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('alert_instances')
          .addColumn('rule_id', text, (c) => c.notNull())
          .addColumn('fingerprint', text, (c) => c.notNull())
          .addColumn('labels', text, (c) => c.notNull())
          .addColumn('annotations', text, (c) => c.notNull())
          .addColumn('state', text, (c) => c.notNull())
          .addColumn('value', double)
          .addColumn('active_at', epochMs, (c) => c.notNull())
          .addColumn('fired_at', epochMs)
          .addColumn('resolved_at', epochMs)
          .addColumn('last_seen_at', epochMs, (c) => c.notNull())
          .addColumn('last_eval_at', epochMs, (c) => c.notNull())
          .addColumn('flap', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('alert_instances_pk', ['rule_id', 'fingerprint'])
          .execute();
        await id(db.schema.createTable('alert_transitions'))
          .addColumn('rule_id', text, (c) => c.notNull())
          .addColumn('fingerprint', text, (c) => c.notNull())
          .addColumn('labels', text, (c) => c.notNull())
          .addColumn('from_state', text, (c) => c.notNull())
          .addColumn('to_state', text, (c) => c.notNull())
          .addColumn('at', epochMs, (c) => c.notNull())
          .addColumn('value', double)
          .execute();
        await db.schema.createIndex('alert_transitions_at').on('alert_transitions').column('at').execute();
        await db.schema.createIndex('alert_transitions_rule_at').on('alert_transitions').columns(['rule_id', 'at']).execute();
        await db.schema
          .createTable('rule_health')
          .addColumn('rule_id', text, (c) => c.primaryKey())
          .addColumn('health', text, (c) => c.notNull())
          .addColumn('last_error', text)
          .addColumn('last_eval_at', epochMs)
          .addColumn('eval_ms', double)
          .execute();
        await db.schema
          .createTable('silences')
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('matchers', text, (c) => c.notNull())
          .addColumn('starts_at', epochMs, (c) => c.notNull())
          .addColumn('ends_at', epochMs, (c) => c.notNull())
          .addColumn('created_by', text, (c) => c.notNull())
          .addColumn('comment', text, (c) => c.notNull())
          .addColumn('updated_at', epochMs, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('notification_log')
          .addColumn('receiver', text, (c) => c.notNull())
          .addColumn('group_key', text, (c) => c.notNull())
          .addColumn('firing', text, (c) => c.notNull())
          .addColumn('resolved', text, (c) => c.notNull())
          .addColumn('sent_at', epochMs, (c) => c.notNull())
          .addColumn('expires_at', epochMs, (c) => c.notNull())
          .addPrimaryKeyConstraint('notification_log_pk', ['receiver', 'group_key'])
          .execute();
        await id(db.schema.createTable('deliveries'))
          .addColumn('at', epochMs, (c) => c.notNull())
          .addColumn('receiver', text, (c) => c.notNull())
          .addColumn('integration', text, (c) => c.notNull())
          .addColumn('group_key', text, (c) => c.notNull())
          .addColumn('idempotency_key', text, (c) => c.notNull())
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('firing', 'integer', (c) => c.notNull())
          .addColumn('resolved', 'integer', (c) => c.notNull())
          .addColumn('http_status', 'integer')
          .addColumn('error', text)
          .addColumn('duration_ms', double, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('deliveries_at').on('deliveries').column('at').execute();
      },
    },
    '0006_changes': {
      // Changes (deploys, configuration, feature flags, infrastructure) posted by pipelines and people or
      // detected from telemetry: chart markers and the "what changed?" of root-cause analysis.
      async up(db: Kysely<unknown>) {
        await id(db.schema.createTable('changes'))
          .addColumn('at', epochMs, (c) => c.notNull())
          .addColumn('service', text, (c) => c.notNull())
          .addColumn('namespace', text, (c) => c.notNull())
          .addColumn('kind', text, (c) => c.notNull())
          .addColumn('version', text)
          .addColumn('previous_version', text)
          .addColumn('description', text, (c) => c.notNull())
          .addColumn('author', text)
          .addColumn('commit_sha', text)
          .addColumn('source', text, (c) => c.notNull())
          .addColumn('attributes', text, (c) => c.notNull())
          .addColumn('created_at', epochMs, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('changes_at').on('changes').column('at').execute();
        await db.schema.createIndex('changes_service_at').on('changes').columns(['service', 'at']).execute();
      },
    },
    '0007_incidents': {
      // Incidents (issue 14): the timeline (`incident_events`) is the source of truth; `incidents` holds
      // its folded view (src/incidents/reducer.ts) so lists filter and sort in SQL; `incident_alerts`
      // links alert instances for correlation. Lists (assignees, services, systems) and labels are JSON.
      async up(db: Kysely<unknown>) {
        await id(db.schema.createTable('incidents'))
          .addColumn('title', text, (c) => c.notNull())
          .addColumn('severity', text, (c) => c.notNull())
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('commander', text)
          .addColumn('assignees', text, (c) => c.notNull())
          .addColumn('services', text, (c) => c.notNull())
          .addColumn('systems', text, (c) => c.notNull())
          .addColumn('description', text, (c) => c.notNull())
          .addColumn('opened_at', epochMs, (c) => c.notNull())
          .addColumn('acknowledged_at', epochMs)
          .addColumn('resolved_at', epochMs)
          .addColumn('closed_at', epochMs)
          .addColumn('correlation_key', text)
          .addColumn('source', text, (c) => c.notNull())
          .addColumn('updated_at', epochMs, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('incidents_status_opened').on('incidents').columns(['status', 'opened_at']).execute();
        await db.schema.createIndex('incidents_opened').on('incidents').column('opened_at').execute();
        await db.schema.createIndex('incidents_correlation').on('incidents').column('correlation_key').execute();
        await id(db.schema.createTable('incident_events'))
          .addColumn('incident_id', idRef, (c) => c.notNull().references('incidents.id').onDelete('cascade'))
          .addColumn('at', epochMs, (c) => c.notNull())
          .addColumn('kind', text, (c) => c.notNull())
          .addColumn('actor', text, (c) => c.notNull())
          .addColumn('data', text, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('incident_events_incident').on('incident_events').columns(['incident_id', 'id']).execute();
        await db.schema
          .createTable('incident_alerts')
          .addColumn('incident_id', idRef, (c) => c.notNull().references('incidents.id').onDelete('cascade'))
          .addColumn('rule_id', text, (c) => c.notNull())
          .addColumn('fingerprint', text, (c) => c.notNull())
          .addColumn('labels', text, (c) => c.notNull())
          .addColumn('linked_at', epochMs, (c) => c.notNull())
          .addPrimaryKeyConstraint('incident_alerts_pk', ['incident_id', 'rule_id', 'fingerprint'])
          .execute();
        await db.schema.createIndex('incident_alerts_alert').on('incident_alerts').columns(['rule_id', 'fingerprint']).execute();
      },
    },
    '0008_diagnosis_remediation': {
      // Diagnosis reports (src/diagnosis): one row per run, the report as JSON; the latest per incident is shown.
      // Runbooks (Markdown per service, alert rule or general) and remediation actions (templated HTTP calls;
      // `headers` JSON with secret values sealed). Runs of actions go on the incident timeline and the audit log.
      async up(db: Kysely<unknown>) {
        await id(db.schema.createTable('diagnosis_reports'))
          .addColumn('incident_id', idRef, (c) => c.notNull().references('incidents.id').onDelete('cascade'))
          .addColumn('state', text, (c) => c.notNull())
          .addColumn('trigger', text, (c) => c.notNull())
          .addColumn('started_at', epochMs, (c) => c.notNull())
          .addColumn('finished_at', epochMs)
          .addColumn('report', text, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('diagnosis_reports_incident').on('diagnosis_reports').columns(['incident_id', 'id']).execute();
        await id(db.schema.createTable('runbooks'))
          .addColumn('title', text, (c) => c.notNull())
          .addColumn('scope_kind', text, (c) => c.notNull())
          .addColumn('scope_value', text, (c) => c.notNull())
          .addColumn('body', text, (c) => c.notNull())
          .addColumn('actions', text, (c) => c.notNull())
          .addColumn('updated_at', epochMs, (c) => c.notNull())
          .addColumn('updated_by', text, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('runbooks_scope').on('runbooks').columns(['scope_kind', 'scope_value']).execute();
        await id(db.schema.createTable('remediation_actions'))
          .addColumn('name', text, (c) => c.notNull().unique())
          .addColumn('description', text, (c) => c.notNull())
          .addColumn('method', text, (c) => c.notNull())
          .addColumn('url', text, (c) => c.notNull())
          .addColumn('headers', text, (c) => c.notNull())
          .addColumn('body', text, (c) => c.notNull())
          .addColumn('inputs', text, (c) => c.notNull())
          .addColumn('services', text, (c) => c.notNull())
          .addColumn('timeout_ms', epochMs, (c) => c.notNull())
          .addColumn('updated_at', epochMs, (c) => c.notNull())
          .addColumn('updated_by', text, (c) => c.notNull())
          .execute();
      },
    },
  };
}
