/**
 * The JSON API's response shapes, in one module that both the server and the web UI (`web/`) import,
 * so a field renamed on one side is a compile error on the other instead of a silent drift.
 *
 * Types only: no runtime imports, no node modules — Vite bundles nothing from here, and the server's
 * route handlers and view shapers declare their return types with these names.
 */

// ---- dashboards and saved searches (/api/v1/dashboards, /api/v1/saved-searches) -----------------

/** Kinds of dashboard panel. */
export type PanelType = 'timeseries' | 'stat' | 'bar' | 'table' | 'toplist';

/** One panel: a query (search language) or a metric, drawn one way, placed on a 12-column grid. */
export interface PanelSpec {
  id: string;
  title: string;
  type: PanelType;
  source: 'search' | 'metric';
  query?: string;
  metric?: { name: string; agg?: string; group_by?: string; service?: string };
  unit?: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A dashboard variable, used as `$name` in queries. */
export interface VariableSpec {
  name: string;
  label?: string;
  type: 'service' | 'namespace' | 'custom';
  options?: string[];
  default?: string;
}

/** The spec of a dashboard (validated by the server's zod schema, which must produce this shape). */
export interface DashboardSpec {
  time?: { since?: string; from?: string; to?: string };
  refresh?: string | null;
  variables?: VariableSpec[];
  panels: PanelSpec[];
}

/** A dashboard as listed by `GET /api/v1/dashboards`. */
export interface DashboardSummary {
  id: string;
  title: string;
  description: string;
  builtin: boolean;
  owner: string;
  updatedAt: string;
}

/** One dashboard with its spec (`GET /api/v1/dashboards/:id`). */
export interface Dashboard extends DashboardSummary {
  spec: DashboardSpec;
  createdAt: string;
}

/** A saved search of the caller (`GET /api/v1/saved-searches`). */
export interface SavedSearch {
  id: number;
  name: string;
  query: string;
  range: string | null;
  createdAt: string;
}

// ---- search (/api/v1/search) -----------------------------------------------------------------------

/** A value in a search row: JSON as the engine returns it. */
export type ResultValue = string | number | boolean | null | ResultValue[] | { [key: string]: ResultValue };

/** A row of a search answer. */
export type Row = Record<string, ResultValue>;

/** Something the user should know about an answer (an unknown field, a widened span, cut values). */
export interface QueryWarning {
  message: string;
}

/** The answer of `POST /api/v1/search`: events (logs/spans) or an aggregate table. */
export interface SearchResult {
  kind: 'events' | 'aggregate';
  columns: { name: string; type: string }[];
  rows: Row[];
  truncated: boolean;
  elapsedMs: number;
  warnings: QueryWarning[];
  from: string;
  to: string;
}

// ---- APM (/api/v1/apm/...) -------------------------------------------------------------------------

/** One point of a service overview series. */
export interface OverviewPoint {
  time: string;
  requests: number;
  /** Requests per second of the bucket's covered time; null for a bucket wholly after now. */
  throughput_rps: number | null;
  errors: number;
  error_rate: number | null;
  /** 4xx answers that did not fail (refusals), and their share of requests. */
  client_errors: number;
  client_error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  apdex: number | null;
}

/** Figures of an overview over the whole range. */
export type OverviewSummary = Omit<OverviewPoint, 'time'> & { avg_ms: number | null; first_seen: string | null };

/** One group (service, namespace…) of a grouped overview. */
export interface OverviewGroup {
  group: string;
  services: string[];
  summary: OverviewSummary;
  series: OverviewPoint[];
}

/** One operation (span name of server spans) of a service. */
export interface OperationRow extends Omit<OverviewSummary, 'first_seen'> {
  service: string;
  operation: string;
  /** The operation refuses (4xx) an unusual share of its requests. */
  client_error_alert: boolean;
  total_time_ms: number | null;
  /** Share of the service's request time. */
  time_share: number | null;
}

/** One normalized database statement. */
export interface DatabaseStatementRow {
  service: string;
  db_system: string;
  statement: string;
  calls: number;
  errors: number;
  total_time_ms: number | null;
  avg_ms: number | null;
  p95_ms: number | null;
  variants: number;
  example: string;
  db_time_share: number | null;
  service_time_share: number | null;
}

/** Calls from a service to one external target (peer service, host). */
export interface ExternalCallRow {
  service: string;
  target: string;
  target_kind: string;
  calls: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  total_time_ms: number | null;
}

/** One group of errors with the same fingerprint (type, normalized message, top frame). */
export interface ErrorGroupRow {
  fingerprint: string;
  type: string;
  normalized_message: string;
  top_frame: string;
  last_message: string | null;
  occurrences: number;
  span_events: number;
  logs: number;
  first_seen: string | null;
  last_seen: string | null;
  services: string[];
  versions: string[];
  sample_trace_id: string | null;
}

/** What every overview answer carries. */
interface OverviewHead {
  from: string;
  to: string;
  service: string | null;
  operation: string | null;
  apdex_t_ms: number;
  bucket_seconds: number;
}

/** `GET /api/v1/apm/overview` without `group_by`: one summary and series. */
export interface ServiceOverviewResponse extends OverviewHead {
  summary: OverviewSummary;
  series: OverviewPoint[];
}

/** `GET /api/v1/apm/overview?group_by=…`: one summary and series per group. */
export interface GroupedOverviewResponse extends OverviewHead {
  group_by: string;
  groups: OverviewGroup[];
}

/** One caller → callee edge of the service map (callee a service, a database or an external host). */
export interface ServiceMapEdge {
  source: string;
  target: string;
  target_kind: string;
  calls: number;
  errors: number;
  p95_ms: number | null;
}

/** What every APM list answer carries. */
interface ApmList {
  from: string;
  to: string;
  service: string | null;
}

/** `GET /api/v1/apm/operations`. */
export interface OperationsResponse extends ApmList {
  apdex_t_ms: number;
  sort: string;
  operations: OperationRow[];
}

/** `GET /api/v1/apm/database`. */
export interface DatabaseResponse extends ApmList {
  sort: string;
  statements: DatabaseStatementRow[];
}

/** `GET /api/v1/apm/external`. */
export interface ExternalResponse extends ApmList {
  calls: ExternalCallRow[];
}

/** `GET /api/v1/apm/errors`. */
export interface ErrorGroupsResponse extends ApmList {
  groups: ErrorGroupRow[];
}

// ---- users, tokens, auth ---------------------------------------------------------------------------

/** Roles of users who sign in. */
export type Role = 'admin' | 'responder' | 'viewer';

/** A user as the admin API lists it. */
export interface UserInfo {
  username: string;
  role: Role;
  createdAt: string;
  passwordChangedAt: string;
}

/** Scopes of API tokens. */
export type TokenScope = 'ingest' | 'read' | 'write' | 'admin';

/** An API token as listed: never its secret. */
export interface TokenInfo {
  name: string;
  scope: TokenScope;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** Ingest limit in records per second; null means the configured default. */
  rateLimit: number | null;
}

// ---- monitors and status pages ---------------------------------------------------------------------

/** A monitor definition as the API takes it (fields depend on `type`; see docs/monitors.md). */
export type MonitorSpecInput = { id: string; name: string; type: string } & Record<string, unknown>;

/** A monitor as the API returns it: its definition (secrets masked) plus where it is defined. */
export type MonitorInfo = MonitorSpecInput & { source: 'api' | 'file'; file: string | null };

/** What one check found (`POST /api/v1/monitors/test`). */
export interface CheckOutcome {
  ok: boolean;
  status: 'up' | 'down' | 'degraded';
  latencyMs: number;
  phases: Record<string, number | null>;
  error?: string;
  details: Record<string, unknown>;
}

/** A status page definition. */
export interface StatusPageDef {
  slug: string;
  title: string;
  description: string;
  components: { monitorId: string; name: string }[];
}

/** Overall state of a public status page or one of its components. */
export type PublicStatus = 'operational' | 'degraded' | 'outage' | 'unknown';

/** One day of a status page component: share of checks up, and how many checks (and down ones) there were. */
export interface DayBar {
  date: string;
  uptime: number | null;
  checks: number;
  down: number;
}

/** The public view of one status page component. */
export interface PublicComponent {
  name: string;
  status: PublicStatus;
  uptime90d: number | null;
  bars: DayBar[];
}

/** An incident as a status page shows it. */
export interface PublicIncident {
  title: string;
  status: string;
  startedAt: string;
  resolvedAt: string | null;
  updates: { at: string; message: string }[];
}

/** A status page as the public sees it (`GET /api/v1/public/status/:slug`). */
export interface PublicStatusPage {
  title: string;
  description: string;
  status: PublicStatus;
  components: PublicComponent[];
  incidents: { active: PublicIncident[]; past: PublicIncident[] };
  updatedAt: string;
}

/** State of a monitor. */
export type MonitorState = 'up' | 'down' | 'degraded' | 'pending';

/** The last check of a monitor as the API shows it (secrets scrubbed). */
export interface MonitorLastResult {
  status: MonitorState;
  latencyMs: number | null;
  error: string | null;
  phases: Record<string, number | null>;
  details: Record<string, unknown>;
  retrying: boolean;
}

/** A monitor's current state (`status` of a listed monitor). */
export interface MonitorStatus {
  state: MonitorState;
  since: string | null;
  lastCheckAt: string | null;
  lastResult: MonitorLastResult | null;
}

/** A monitor as `GET /api/v1/monitors` lists it: definition, origin and state. */
export type MonitorListItem = MonitorInfo & { status?: MonitorStatus; pushToken?: string; pushPath?: string };

/** Uptime over one window (`GET /api/v1/monitors/:id/uptime`, `/api/v1/systems/uptime`). */
export interface UptimeSummary {
  /** Share of checks that were up or degraded, 0..1; null without checks. */
  uptime: number | null;
  checks: number;
  down: number;
  degraded: number;
  avgLatencyMs: number | null;
  maxLatencyMs: number | null;
}

/** One down period (`GET /api/v1/monitors/:id/downtimes`). */
export interface Downtime {
  start: string;
  /** null while still down. */
  end: string | null;
  durationMs: number;
  error: string | null;
}

// ---- services (/api/v1/services) -------------------------------------------------------------------

/** A service as `GET /api/v1/services` lists it. */
export interface ServiceRow {
  service: string;
  namespace: string | null;
  requests: number;
  errors: number;
  p95_ms: number | null;
  logs: number;
  error_logs: number;
  last_seen: string | null;
}

// ---- traces (/api/v1/traces, /api/v1/traces/:id) ---------------------------------------------------

/** One span of a trace, depth-first under its parent, with its place on the critical path. */
export interface TraceSpan extends Record<string, ResultValue> {
  depth: number;
  offset_ms: number;
  duration_ms: number;
  critical: boolean;
  /** Milliseconds of the trace attributed to this span on the critical path (0 off it). */
  critical_self_ms: number;
}

/** One log record of a trace. */
export type TraceLog = Record<string, ResultValue> & { time: string | null };

/** `GET /api/v1/traces/:traceId`: the span tree and the trace's logs. */
export interface TraceDetail {
  traceId: string;
  startTime: string | null;
  durationMs: number;
  services: string[];
  errorCount: number;
  spans: TraceSpan[];
  logs: TraceLog[];
}

/** One page of `GET /api/v1/traces` (matching spans, newest first by default). */
export interface TraceListPage {
  from: string;
  to: string;
  sort: string;
  rows: Row[];
  /** Matching spans in all (first page only; later pages answer null). */
  total: number | null;
  nextCursor: string | null;
  elapsedMs: number;
}

// ---- metrics (/api/v1/metrics) ---------------------------------------------------------------------

/** One attribute key of a metric with a sample of its values. */
export interface MetricAttribute {
  key: string;
  scope: 'point' | 'resource';
  distinct_values: number;
  sample: string[];
}

// ---- auth and audit (/api/v1/auth/me, /api/v1/audit) -----------------------------------------------

/** `GET /api/v1/auth/me`: the signed-in user with the CSRF token for changes, or the calling token. */
export type AuthMe = { user: UserInfo; csrfToken?: string } | { token: { name: string; scope: string } };

/** `POST /api/v1/auth/login`: the new session's user, CSRF token, and where to go next. */
export interface LoginAnswer {
  user: UserInfo;
  csrfToken: string;
  redirect: string | null;
}

/** One entry of the audit log (`GET /api/v1/audit`). */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
}

/** A metric as `GET /api/v1/apm/metrics/names` lists it. */
export interface MetricNameInfo {
  name: string;
  type: string;
  unit: string;
  points: number;
  services: string[];
  attributes: MetricAttribute[];
}

/** `GET /api/v1/apm/metrics/names`. */
export interface MetricNamesResponse {
  from: string;
  to: string;
  metrics: MetricNameInfo[];
}

/** One point of a metric series. */
export interface MetricPoint {
  time: string;
  /** The aggregate; for histograms the first quantile asked for. */
  value: number | null;
  /** Counters: resets seen in the bucket. */
  resets?: number;
  /** Histograms: each quantile asked for, keyed `p95`. */
  quantiles?: Record<string, number | null>;
  /** Histograms: observations in the bucket. */
  count?: number;
  /** Histograms: mean observation in the bucket. */
  avg?: number | null;
}

/** A metric series of one group (group null without group_by). */
export interface MetricSeries {
  group: string | null;
  points: MetricPoint[];
}

/** `GET /api/v1/apm/metrics`: one metric's series (type, unit and agg null when the metric has no points). */
export interface MetricAnswer {
  from: string;
  to: string;
  metric: string;
  bucket_seconds: number;
  group_by: string | null;
  type: string | null;
  unit: string | null;
  agg: string | null;
  /** Histograms: the quantiles asked for. */
  quantiles?: number[];
  /** Counters: the temporality the metric was sent with. */
  temporality?: string | null;
  series: MetricSeries[];
}

// ---------------------------------------------------------------------------------------------------
// Alerting. The Prometheus (`/api/v1/rules`, `/api/v1/alerts`) and Alertmanager v2 (`/api/v2/…`) shapes
// are contracts users' tools already speak; Vigil's additions are extra fields those tools ignore.

/** A label set. */
export type AlertLabels = Record<string, string>;

/** A problem in a rule or notification file: `file:line: field: message`. */
export interface AlertingFileError {
  file: string;
  line: number | null;
  field: string | null;
  message: string;
}

/** An alert in Prometheus's `/api/v1/alerts` and rule answers. */
export interface PromAlert {
  labels: AlertLabels;
  annotations: AlertLabels;
  state: 'pending' | 'firing';
  /** RFC 3339 time the condition started holding. */
  activeAt: string;
  /** The value as text (Prometheus's convention); "" when the row had none. */
  value: string;
  /** Vigil: the rule's id, the alert's fingerprint, whether it flaps, when it began firing. */
  ruleId: string;
  fingerprint: string;
  flapping: boolean;
  firedAt: string | null;
}

/** `GET /api/v1/alerts`. */
export interface PromAlertsResponse {
  status: 'success';
  data: { alerts: PromAlert[] };
}

/** An alerting rule in `GET /api/v1/rules`. */
export interface PromAlertingRule {
  type: 'alerting';
  name: string;
  /** The rule's expr (query rules) or a one-line rendering of its metric/monitor source. */
  query: string;
  /** `for`, in seconds. */
  duration: number;
  keepFiringFor: number;
  labels: AlertLabels;
  annotations: AlertLabels;
  alerts: PromAlert[];
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  /** Seconds the last evaluation took. */
  evaluationTime: number;
  lastEvaluation: string;
  state: 'inactive' | 'pending' | 'firing';
  /** Vigil's additions. */
  id: string;
  file: string;
  line: number | null;
  source: 'query' | 'metric' | 'monitor';
  /** `range`, in seconds. */
  range: number;
  condition: string | null;
  resolveWhen: string | null;
  flapping: boolean;
  /** Firing↔resolved changes over the last hour, summed over the rule's alerts. */
  flapsPerHour: number;
}

/** A rule group in `GET /api/v1/rules`. */
export interface PromRuleGroup {
  name: string;
  file: string;
  /** Seconds. */
  interval: number;
  rules: PromAlertingRule[];
  evaluationTime: number;
  lastEvaluation: string;
}

/** `GET /api/v1/rules`; `fileErrors` lists rule files kept at their last good version. */
export interface PromRulesResponse {
  status: 'success';
  data: { groups: PromRuleGroup[]; fileErrors: AlertingFileError[] };
}

/**
 * A rule as written in a rule file (its YAML keys): what the UI edits and `POST/PUT
 * /api/v1/alerting/rules` take. Exactly one of expr, metric, monitor.
 */
export interface RuleInput {
  alert: string;
  expr?: string;
  metric?: { name: string; agg?: string; service?: string; where?: Record<string, string>; group_by?: string; horizon?: string };
  monitor?: { id?: string; system?: string; states?: ('down' | 'degraded')[] };
  range?: string;
  for?: string;
  keep_firing_for?: string;
  condition?: string;
  resolve_when?: string;
  baseline?: { windows?: number; days?: number; fill_missing?: boolean };
  labels?: AlertLabels;
  annotations?: AlertLabels;
}

/** `GET /api/v1/alerting/rules/{id}`: one rule, its YAML and where it lives. */
export interface RuleDetail {
  id: string;
  group: string;
  /** Group evaluation interval, e.g. "15s". */
  interval: string;
  file: string;
  line: number | null;
  rule: RuleInput;
  /** The rule as YAML, comments kept. */
  yaml: string;
}

/** `POST /api/v1/alerting/rules` (new rules go to `group` in `file`, default ui.yml) and `PUT …/{id}`. */
export interface RuleWriteRequest {
  rule: RuleInput;
  group?: string;
  file?: string;
  interval?: string;
}

/** `POST /api/v1/rules/backtest`: a stored rule (`id`) or a draft, over the last `days` (or from/to). */
export interface BacktestRequest {
  id?: string;
  rule?: RuleInput;
  interval?: string;
  days?: number;
  from?: string;
  to?: string;
}

/** One period during which a backtested alert would have fired. */
export interface BacktestFiring {
  labels: AlertLabels;
  start: string;
  /** null: still firing at the end of the range. */
  end: string | null;
  peak: number | null;
}

/** The backtest answer: evaluations replayed, firings, notifications they would have sent, value series. */
export interface BacktestResponse {
  from: string;
  to: string;
  /** Seconds between replayed evaluations. */
  step: number;
  evaluations: number;
  firings: BacktestFiring[];
  /** Notifications the firings would have sent (firing + resolved, before grouping). */
  notifications: number;
  /** Seconds spent firing, summed over alerts. */
  firingSeconds: number;
  /** The value of each label set at each evaluation: [epoch seconds, value | null]. */
  series: { labels: AlertLabels; points: [number, number | null][] }[];
  /** The condition threshold when it is a constant (for the chart's line). */
  threshold: number | null;
}

/** Alertmanager v2 matcher. */
export interface AmMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

/** Alertmanager v2 silence as returned. */
export interface AmGettableSilence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' };
  updatedAt: string;
  matchers: AmMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** Alertmanager v2 silence as posted (with `id` to update one). */
export interface AmPostableSilence {
  id?: string;
  matchers: AmMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** Alertmanager v2 alert as returned by `GET /api/v2/alerts`. */
export interface AmGettableAlert {
  labels: AlertLabels;
  annotations: AlertLabels;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  generatorURL: string;
  fingerprint: string;
  receivers: { name: string }[];
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[]; inhibitedBy: string[] };
}

/** `GET /api/v1/alerting/notifications`: the Alertmanager-format configuration (secrets masked for non-admins). */
export interface NotificationConfigResponse {
  file: string;
  yaml: string;
  receivers: { name: string; integrations: string[] }[];
  errors: AlertingFileError[];
}

/** `POST /api/v1/alerting/receivers/{name}/test`. */
export interface ReceiverTestResponse {
  receiver: string;
  results: { integration: string; ok: boolean; status: number | null; error: string | null; ms: number }[];
}

/** One attempt series to deliver one notification. */
export interface DeliveryRecord {
  id: number;
  at: string;
  receiver: string;
  integration: string;
  groupKey: string;
  idempotencyKey: string;
  status: 'ok' | 'failed';
  attempts: number;
  firing: number;
  resolved: number;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
}

/** `GET /api/v1/alerting/deliveries`. */
export interface DeliveriesResponse {
  deliveries: DeliveryRecord[];
}

/** One alert state change, e.g. for markers on charts: `GET /api/v1/alerting/history`. */
export interface AlertHistoryEntry {
  ruleId: string;
  alertname: string;
  fingerprint: string;
  labels: AlertLabels;
  from: 'inactive' | 'pending' | 'firing' | 'resolved';
  to: 'inactive' | 'pending' | 'firing' | 'resolved';
  at: string;
  value: number | null;
}

/** `GET /api/v1/alerting/history?from&to&service`. */
export interface AlertHistoryResponse {
  from: string;
  to: string;
  transitions: AlertHistoryEntry[];
}

// ---------------------------------------------------------------------------------------------------
// Changes (`/api/v1/changes`): deploys, configuration changes, feature flags and infrastructure changes,
// posted by pipelines, people and `vigil change`, or detected from telemetry.

/** What kind of change. */
export type ChangeKind = 'deploy' | 'config' | 'feature_flag' | 'infrastructure' | 'rollback' | 'restart' | 'other';

/** How a change reached Vigil: posted to the API, by `vigil change`, or detected from telemetry. */
export type ChangeSource = 'api' | 'cli' | 'detected';

/** Attribute values of a change: flat, JSON scalars. */
export type ChangeAttributes = Record<string, string | number | boolean>;

/**
 * `POST /api/v1/changes`. `timestamp` (ISO-8601 or Unix ms, default now) is when the change took effect;
 * `source` names the sender (`cli` for `vigil change`; any other name, e.g. `github-actions`, is kept as
 * the attribute `reporter`). Unknown fields are refused.
 */
export interface ChangeInput {
  service: string;
  kind: ChangeKind;
  namespace?: string;
  version?: string;
  previousVersion?: string;
  description?: string;
  timestamp?: string | number;
  source?: string;
  author?: string;
  commit?: string;
  attributes?: ChangeAttributes;
}

/** `POST /api/v1/changes` → 201. */
export interface ChangeCreated {
  id: number;
}

/** One recorded change. */
export interface ChangeEntry {
  id: number;
  /** When it took effect (ISO-8601). */
  at: string;
  service: string;
  namespace: string;
  kind: ChangeKind;
  version: string | null;
  previousVersion: string | null;
  description: string;
  author: string | null;
  commit: string | null;
  source: ChangeSource;
  attributes: ChangeAttributes;
  createdAt: string;
}

/** `GET /api/v1/changes?since | from&to, service, kind, source, limit`: newest first. */
export interface ChangesResponse {
  from: string;
  to: string;
  changes: ChangeEntry[];
  /** More changes matched than `limit`. */
  truncated: boolean;
}

// ---- Incidents (docs/incidents.md) ----

/** An incident's state (src/incidents/state.ts has the machine). */
export type IncidentStatus = 'triggered' | 'acknowledged' | 'investigating' | 'identified' | 'monitoring' | 'resolved' | 'closed' | 'reopened';

/** An incident's severity, SEV1 the most severe. */
export type IncidentSeverity = 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4';

/** `POST /api/v1/incidents`: a new incident reported by a person or a tool. */
export interface IncidentCreateRequest {
  title: string;
  /** Default SEV3. */
  severity?: IncidentSeverity;
  services?: string[];
  systems?: string[];
  /** When the problem began (RFC 3339), if before now: the incident's opening time. */
  startedAt?: string;
  description?: string;
}

/** The answer to `POST /api/v1/incidents` (201). */
export interface IncidentCreated {
  id: number;
}

/** An incident in lists. Times are RFC 3339; durations in seconds. */
export interface IncidentSummary {
  id: number;
  title: string;
  severity: IncidentSeverity;
  status: IncidentStatus;
  commander: string | null;
  assignees: string[];
  services: string[];
  systems: string[];
  source: 'manual' | 'alert';
  openedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  /** Time to acknowledge (acknowledgedAt − openedAt), null until acknowledged. */
  mttaSeconds: number | null;
  /** Time to resolve (resolvedAt − openedAt), null until resolved. */
  mttrSeconds: number | null;
}

/** `GET /api/v1/incidents?status=open|resolved|closed|all|<state>&service&system&limit`: newest opened first. */
export interface IncidentListResponse {
  incidents: IncidentSummary[];
}

/** One timeline event; `data` holds the kind's fields (see docs/incidents.md). */
export interface IncidentTimelineEvent {
  id: number;
  at: string;
  kind:
    | 'opened'
    | 'status_changed'
    | 'note'
    | 'alert_firing'
    | 'alert_resolved'
    | 'assigned'
    | 'severity_changed'
    | 'diagnosis'
    | 'action_run'
    | 'verification_started'
    | 'verification_finished';
  /** `user:<name>`, `token:<name>`, or `vigil`. */
  actor: string;
  data: Record<string, unknown>;
}

/** An alert linked to an incident. */
export interface IncidentLinkedAlert {
  ruleId: string;
  fingerprint: string;
  labels: Record<string, string>;
  state: 'firing' | 'resolved';
  linkedAt: string;
  resolvedAt: string | null;
}

/** `GET /api/v1/incidents/{id}`: the incident with its timeline, linked alerts and the status moves allowed now. */
export interface IncidentDetail extends IncidentSummary {
  description: string;
  correlationKey: string | null;
  timeline: IncidentTimelineEvent[];
  alerts: IncidentLinkedAlert[];
  allowedTransitions: IncidentStatus[];
  /** The earlier incident this one recurs (same signature within `incidents.recurrenceWindow`). */
  relatedIncidentId: number | null;
  /** Changes to the incident's services from 30 minutes before it began until it resolved (or now), newest first. */
  changes: ChangeEntry[];
  /** The latest verification, null until first resolved. */
  verification: IncidentVerification | null;
}

/** `POST /api/v1/incidents/{id}/status`; a move the machine refuses answers 409 {error, allowed}. */
export interface IncidentStatusRequest {
  status: IncidentStatus;
  note?: string;
}

/** `POST /api/v1/incidents/{id}/notes`. */
export interface IncidentNoteRequest {
  text: string;
}

/** `POST /api/v1/incidents/{id}/severity`: set by hand (alerts that link later only ever raise it). */
export interface IncidentSeverityRequest {
  severity: IncidentSeverity;
}

/** `POST /api/v1/incidents/{id}/assign`: `commander: null` clears it; an omitted field stays as it is. */
export interface IncidentAssignRequest {
  commander?: string | null;
  assignees?: string[];
}

// ---- Diagnosis (docs/diagnosis.md) ----

/** A root-cause category. */
export type DiagnosisCategory = 'change' | 'configuration' | 'database' | 'dependency' | 'resource' | 'code' | 'capacity' | 'availability';

/** A link from evidence to its data: a UI path with its time range. */
export interface DiagnosisLink {
  kind: 'logs' | 'traces' | 'trace' | 'query' | 'chart' | 'change' | 'service' | 'incident';
  label: string;
  href: string;
}

/** One finding of one detector. Times are RFC 3339. */
export interface DiagnosisEvidence {
  detector: string;
  category: DiagnosisCategory;
  component: string;
  services: string[];
  role: 'cause' | 'symptom';
  score: number;
  summary: string;
  onsetAt: string | null;
  figures: Record<string, number | string | null>;
  links: DiagnosisLink[];
  nextStep: string | null;
}

/** A ranked hypothesis (field names as the issue spells them). */
export interface DiagnosisHypothesis {
  rank: number;
  category: DiagnosisCategory;
  component: string;
  services: string[];
  confidence: number;
  summary: string;
  evidence: DiagnosisEvidence[];
  next_step: string;
}

/** `GET /api/v1/incidents/{id}/diagnosis` (404 until one ran); `POST` runs a new one (202 with the running report). */
export interface DiagnosisResponse {
  id: number;
  incidentId: number;
  state: 'running' | 'ready' | 'failed';
  trigger: 'opened' | 'manual';
  startedAt: string;
  finishedAt: string | null;
  /** What was compared: the incident window against the baseline window, around the onset. */
  scope: { services: string[]; systems: string[]; onsetAt: string; window: { from: string; to: string }; baseline: { from: string; to: string } };
  hypotheses: DiagnosisHypothesis[];
  detectors: { name: string; state: 'ok' | 'failed' | 'timeout'; ms: number; evidence: number; error?: string }[];
  error?: string;
}

// ---- Remediation: runbooks and actions (docs/remediation.md) ----

/** What a runbook is for: a service, an alert rule (by `alertname`), or any incident. */
export interface RunbookScope {
  kind: 'service' | 'rule' | 'general';
  /** The service name or alertname; empty for `general`. */
  value: string;
}

/** A runbook: Markdown for responders, with the actions it offers. */
export interface Runbook {
  id: number;
  title: string;
  scope: RunbookScope;
  /** Markdown. */
  body: string;
  /** Names of actions (`RemediationAction.name`) the runbook offers. */
  actions: string[];
  updatedAt: string;
  updatedBy: string;
}

/** `POST /api/v1/runbooks`, `PUT /api/v1/runbooks/{id}`. */
export interface RunbookInput {
  title: string;
  scope: RunbookScope;
  body: string;
  actions?: string[];
}

/** `GET /api/v1/runbooks?service=&rule=`. */
export interface RunbookListResponse {
  runbooks: Runbook[];
}

/**
 * A remediation action: one HTTP call, with Go-template placeholders (`{{ .Incident.ID }}`,
 * `{{ .Input.service }}`) in its URL, headers and body, sent through the outbound guard after a
 * responder confirms it. Header values marked secret are sealed at rest and masked in answers.
 */
export interface RemediationAction {
  id: number;
  /** Unique, kebab-case: `recreate-index`. */
  name: string;
  description: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Inputs the responder fills in before running (name → description). */
  inputs: Record<string, string>;
  /** Services it applies to (empty: any). */
  services: string[];
  timeoutSeconds: number;
  updatedAt: string;
  updatedBy: string;
}

/** `POST /api/v1/actions`, `PUT /api/v1/actions/{id}`. */
export interface RemediationActionInput {
  name: string;
  description?: string;
  method?: RemediationAction['method'];
  url: string;
  headers?: Record<string, string>;
  body?: string;
  inputs?: Record<string, string>;
  services?: string[];
  timeoutSeconds?: number;
}

/** `GET /api/v1/actions`. */
export interface RemediationActionListResponse {
  actions: RemediationAction[];
}

/** `GET /api/v1/incidents/{id}/remediation`: the runbooks and actions that apply to the incident. */
export interface IncidentRemediationResponse {
  runbooks: Runbook[];
  actions: RemediationAction[];
}

/**
 * `POST /api/v1/incidents/{id}/actions/{name}/run` with `{confirm: true, input}`: runs it and records it
 * on the timeline; without `confirm: true` answers 400 with the rendered request to confirm (`preview`).
 */
export interface ActionRunRequest {
  confirm?: boolean;
  input?: Record<string, string>;
}

/** The rendered request (secrets masked), as shown for confirmation. */
export interface ActionPreview {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The answer of a run. */
export interface ActionRunResponse {
  ok: boolean;
  /** HTTP status of the call, null when it did not answer. */
  status: number | null;
  /** The answer's body (cut to 4 KiB) or the error. */
  result: string;
  ms: number;
  request: ActionPreview;
}

// ---- Post-resolution verification (docs/incidents.md#verification) ----

/** One verification check. */
export interface IncidentVerificationCheck {
  name: string;
  kind: 'alert' | 'error_rate' | 'latency' | 'monitor';
  state: 'pending' | 'passing' | 'failed';
  detail: string;
  href?: string;
}

/** Verification of a resolved incident: running until `endsAt`, then verified (closed) or failed (reopened). */
export interface IncidentVerification {
  state: 'running' | 'verified' | 'failed' | 'cancelled';
  startedAt: string;
  endsAt: string;
  finishedAt: string | null;
  reason: string | null;
  checks: IncidentVerificationCheck[];
}
