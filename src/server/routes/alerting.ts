/**
 * Alerting API: rules and alerts in the Prometheus HTTP API format, and Vigil's own routes for the
 * rule editor, backtests, notification settings, deliveries and history.
 *
 *   GET    /api/v1/rules                             read   Prometheus: ?type, rule_name[], rule_group[], file[], exclude_alerts
 *   GET    /api/v1/alerts                            read   Prometheus: pending and firing alerts
 *   GET    /api/v1/alerting/rules                    read   every rule as RuleDetail, with file errors
 *   POST   /api/v1/alerting/rules                    write  RuleWriteRequest → 201 RuleDetail (default file ui.yml, group ui)
 *   GET    /api/v1/alerting/rules/:id                read   RuleDetail
 *   PUT    /api/v1/alerting/rules/:id                write  RuleWriteRequest → RuleDetail (written back into its file, comments kept)
 *   DELETE /api/v1/alerting/rules/:id                write
 *   GET    /api/v1/alerting/rules/:id/export         read   the rule as a rule file (text/yaml)
 *   POST   /api/v1/rules/backtest                    read   BacktestRequest → BacktestResponse (changes nothing)
 *   GET    /api/v1/alerting/notifications            read   NotificationConfigResponse (secrets masked unless admin)
 *   PUT    /api/v1/alerting/notifications            write  {yaml}: validated, secrets sealed, written, reloaded
 *   POST   /api/v1/alerting/receivers/:name/test     write  ReceiverTestResponse
 *   GET    /api/v1/alerting/deliveries               read   ?limit, receiver, integration, status
 *   GET    /api/v1/alerting/history                  read   ?since | from&to, service, rule
 *
 * Every change is audited with what changed (`rule.created`, `rule.updated`, `rule.deleted`,
 * `notifications.updated`, `receiver.tested`); a refused rule or configuration answers 400 with
 * `errors` naming file, line and field.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {
  AlertHistoryResponse,
  AlertingFileError,
  BacktestRequest,
  BacktestResponse,
  DeliveriesResponse,
  NotificationConfigResponse,
  PromAlert,
  PromAlertingRule,
  PromAlertsResponse,
  PromRuleGroup,
  PromRulesResponse,
  ReceiverTestResponse,
  RuleDetail,
  RuleInput,
  RuleWriteRequest,
} from '../../api/contract.ts';
import type { AlertInstance } from '../../alerting/types.ts';
import { describeSource } from '../../alerting/sources.ts';
import { ruleState, type GroupView, type RuleView } from '../../alerting/manager.ts';
import type { DeliveryFilter, DeliveryRepo } from '../../store/state/deliveries.ts';
import type { AlertStore } from '../../store/state/alerts.ts';
import type { AuditLog } from '../../store/state/audit.ts';
import { allows } from '../access.ts';
import { ParamError, parseTimeRange } from '../../query/time-range.ts';

/** A refused alerting request: status, message and, for files, the errors with their lines. */
export class AlertingRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: AlertingFileError[] = [],
  ) {
    super(message);
  }
}

/** Rule files as the API edits them (src/alerting/rule-files.ts, bound by the alerting runtime). */
export interface RuleFilesApi {
  fileErrors(): AlertingFileError[];
  list(): RuleDetail[];
  detail(id: string): RuleDetail | undefined;
  /** Creates a rule; resolves with its id. Throws {@link AlertingRequestError}. */
  create(req: RuleWriteRequest): Promise<string>;
  /** Rewrites a rule in its file; resolves with its (possibly new) id. */
  update(id: string, req: RuleWriteRequest): Promise<string>;
  remove(id: string): Promise<void>;
  /** The rule as a rule file, or undefined when there is no such rule. */
  exportYaml(id: string): string | undefined;
}

/** The notification settings as the API edits them. */
export interface NotificationsApi {
  view(secrets: boolean): NotificationConfigResponse;
  /** Validates, seals and writes the file, then reloads; throws {@link AlertingRequestError} with line errors. */
  save(yaml: string): Promise<void>;
  /** Sends a test notification through each integration of a receiver; undefined when it does not exist. */
  test(receiver: string): Promise<ReceiverTestResponse | undefined>;
}

/** What the alerting routes need. */
export interface AlertingRouteContext {
  manager: { groupViews(): GroupView[]; ruleView(id: string): RuleView | undefined };
  rules: RuleFilesApi;
  backtest(req: BacktestRequest, now: number): Promise<BacktestResponse>;
  notifications: NotificationsApi;
  deliveries: Pick<DeliveryRepo, 'list'>;
  history: Pick<AlertStore, 'transitions'>;
  /** Where changes are recorded (the routes record their own entries, with what changed). */
  audit?: Pick<AuditLog, 'record'>;
  now?: () => number;
}

/** Records an audit entry for a change made through an alerting route; a failure to record is logged only. */
export async function auditChange(audit: Pick<AuditLog, 'record'> | undefined, req: FastifyRequest, action: string, target: string, details?: Record<string, unknown>): Promise<void> {
  if (!audit) return;
  const p = req.principal;
  await audit.record({ actor: p ? `${p.kind}:${p.name}` : 'anonymous', action, target, ip: req.ip, details }).catch((err: unknown) => req.log.error({ err }, 'audit record failed'));
}

/** Prometheus's zero time, for a rule or group never evaluated. */
const ZERO_TIME = '0001-01-01T00:00:00Z';
const HOUR_MS = 3_600_000;

const iso = (ms: number | null): string => (ms === null ? ZERO_TIME : new Date(ms).toISOString());

function valueText(v: number | null): string {
  return v === null || Number.isNaN(v) ? '' : String(v);
}

/** An instance in Prometheus's alert shape (with Vigil's additions). */
export function promAlert(a: AlertInstance): PromAlert {
  return {
    labels: a.labels,
    annotations: a.annotations,
    state: a.state === 'firing' ? 'firing' : 'pending',
    activeAt: new Date(a.activeAt).toISOString(),
    value: valueText(a.value),
    ruleId: a.ruleId,
    fingerprint: a.fingerprint,
    flapping: a.flap.flapping,
    firedAt: a.firedAt === null ? null : new Date(a.firedAt).toISOString(),
  };
}

const active = (a: AlertInstance) => a.state === 'pending' || a.state === 'firing';

/** A rule in Prometheus's `/api/v1/rules` shape (with Vigil's additions). */
export function promRule(view: RuleView, now: number, withAlerts = true): PromAlertingRule {
  const { rule, instances, health } = view;
  const hourAgo = now - HOUR_MS;
  return {
    type: 'alerting',
    name: rule.name,
    query: describeSource(rule),
    duration: rule.forMs / 1000,
    keepFiringFor: rule.keepFiringForMs / 1000,
    labels: rule.labels,
    annotations: rule.annotations,
    alerts: withAlerts ? instances.filter(active).map(promAlert) : [],
    health: health.health,
    ...(health.lastError ? { lastError: health.lastError } : {}),
    evaluationTime: (health.evaluationMs ?? 0) / 1000,
    lastEvaluation: iso(health.lastEvaluation),
    state: ruleState(instances),
    id: rule.id,
    file: rule.position.file,
    line: rule.position.line,
    source: rule.source.kind,
    range: rule.rangeMs / 1000,
    condition: rule.condition,
    resolveWhen: rule.resolveWhen,
    flapping: instances.some((a) => a.flap.flapping),
    flapsPerHour: instances.reduce((n, a) => n + a.flap.changes.filter((t) => t >= hourAgo).length, 0),
  };
}

type Query = Record<string, string | string[] | undefined>;

function list(q: Query, name: string): string[] {
  const v = q[name] ?? q[`${name}[]`];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function one(q: Query, name: string): string | undefined {
  return list(q, name)[0];
}

/** Prometheus's `/api/v1/rules` answer for the given filters. */
export function promRules(groups: GroupView[], q: Query, fileErrors: AlertingFileError[], now: number): PromRulesResponse {
  const type = one(q, 'type');
  if (type !== undefined && type !== 'alert' && type !== 'record') throw new ParamError('type: expected alert or record');
  const names = new Set(list(q, 'rule_name'));
  const groupNames = new Set(list(q, 'rule_group'));
  const files = new Set(list(q, 'file'));
  const excludeAlerts = one(q, 'exclude_alerts') === 'true';
  const filtered = names.size > 0 || type !== undefined;
  const out: PromRuleGroup[] = [];
  for (const g of groups) {
    if (groupNames.size && !groupNames.has(g.group.name)) continue;
    if (files.size && !files.has(g.group.file)) continue;
    // Vigil has no recording rules: type=record lists nothing.
    const rules = type === 'record' ? [] : g.rules.filter((r) => !names.size || names.has(r.rule.name));
    // As Prometheus: with a rule filter, groups left without rules are not listed.
    if (filtered && rules.length === 0) continue;
    const evaluated = rules.map((r) => r.health.lastEvaluation).filter((t): t is number => t !== null);
    out.push({
      name: g.group.name,
      file: g.group.file,
      interval: g.group.intervalMs / 1000,
      rules: rules.map((r) => promRule(r, now, !excludeAlerts)),
      evaluationTime: rules.reduce((s, r) => s + (r.health.evaluationMs ?? 0), 0) / 1000,
      lastEvaluation: iso(evaluated.length ? Math.max(...evaluated) : null),
    });
  }
  return { status: 'success', data: { groups: out, fileErrors } };
}

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof AlertingRequestError) return reply.code(err.status).send({ error: err.message, errors: err.errors });
  if (err instanceof ParamError) return reply.code(400).send({ error: err.message, errors: [] });
  throw err;
}

function writeRequest(body: unknown): RuleWriteRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AlertingRequestError(400, 'expected a JSON object {rule, group?, file?, interval?}');
  const b = body as Partial<RuleWriteRequest>;
  if (!b.rule || typeof b.rule !== 'object' || Array.isArray(b.rule)) throw new AlertingRequestError(400, 'rule: expected an object with the rule file keys (alert, expr | metric | monitor, …)');
  if (typeof (b.rule as Partial<RuleInput>).alert !== 'string') throw new AlertingRequestError(400, 'rule.alert: expected the alert name');
  for (const k of ['group', 'file', 'interval'] as const) {
    if (b[k] !== undefined && typeof b[k] !== 'string') throw new AlertingRequestError(400, `${k}: expected a string`);
  }
  return { rule: b.rule, group: b.group, file: b.file, interval: b.interval };
}

const DELIVERY_STATUSES = new Set(['ok', 'failed']);

/** Registers the alerting routes. */
export function registerAlertingRoutes(app: FastifyInstance, ctx: AlertingRouteContext): void {
  const now = ctx.now ?? Date.now;
  type IdParams = { id: string };

  app.get('/api/v1/rules', { config: { access: 'read' } }, async (req, reply) => {
    try {
      return promRules(ctx.manager.groupViews(), req.query as Query, ctx.rules.fileErrors(), now());
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/v1/alerts', { config: { access: 'read' } }, async (): Promise<PromAlertsResponse> => {
    const alerts = ctx.manager.groupViews().flatMap((g) => g.rules.flatMap((r) => r.instances.filter(active).map(promAlert)));
    return { status: 'success', data: { alerts } };
  });

  app.get('/api/v1/alerting/rules', { config: { access: 'read' } }, async () => ({ rules: ctx.rules.list(), fileErrors: ctx.rules.fileErrors() }));

  app.post('/api/v1/alerting/rules', { config: { access: 'write', audited: true } }, async (req, reply) => {
    try {
      const id = await ctx.rules.create(writeRequest(req.body));
      const detail = ctx.rules.detail(id);
      await auditChange(ctx.audit, req, 'rule.created', `rule:${id}`, { file: detail?.file });
      return reply.code(201).send(detail satisfies RuleDetail | undefined);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/v1/alerting/rules/:id', { config: { access: 'read' } }, async (req, reply) => {
    const id = (req.params as IdParams).id;
    const detail = ctx.rules.detail(id);
    if (!detail) return reply.code(404).send({ error: `no rule "${id}"` });
    return detail;
  });

  app.put('/api/v1/alerting/rules/:id', { config: { access: 'write', audited: true } }, async (req, reply) => {
    try {
      const id = (req.params as IdParams).id;
      if (!ctx.rules.detail(id)) throw new AlertingRequestError(404, `no rule "${id}"`);
      const next = await ctx.rules.update(id, writeRequest(req.body));
      await auditChange(ctx.audit, req, 'rule.updated', `rule:${next}`, next === id ? undefined : { previousId: id });
      return ctx.rules.detail(next);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.delete('/api/v1/alerting/rules/:id', { config: { access: 'write', audited: true } }, async (req, reply) => {
    try {
      const id = (req.params as IdParams).id;
      if (!ctx.rules.detail(id)) throw new AlertingRequestError(404, `no rule "${id}"`);
      await ctx.rules.remove(id);
      await auditChange(ctx.audit, req, 'rule.deleted', `rule:${id}`);
      return reply.code(204).send();
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/v1/alerting/rules/:id/export', { config: { access: 'read' } }, async (req, reply) => {
    const id = (req.params as IdParams).id;
    const text = ctx.rules.exportYaml(id);
    if (text === undefined) return reply.code(404).send({ error: `no rule "${id}"` });
    const name = `${(ctx.rules.detail(id)?.rule.alert ?? 'rule').replace(/[^A-Za-z0-9._-]/g, '_')}.yml`;
    return reply.type('text/yaml; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(text);
  });

  app.post('/api/v1/rules/backtest', { config: { access: 'read' } }, async (req, reply) => {
    try {
      const body = req.body;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AlertingRequestError(400, 'expected a JSON object {id | rule, days?, from?, to?, interval?}');
      const b = body as BacktestRequest;
      if ((b.id === undefined) === (b.rule === undefined)) throw new AlertingRequestError(400, 'give either id (a stored rule) or rule (a draft)');
      if (b.days !== undefined && (typeof b.days !== 'number' || !Number.isFinite(b.days) || b.days <= 0 || b.days > 30)) throw new AlertingRequestError(400, 'days: expected a number of days between 0 and 30');
      return await ctx.backtest(b, now());
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/v1/alerting/notifications', { config: { access: 'read' } }, async (req) => ctx.notifications.view(allows(req.principal, 'admin')));

  app.put('/api/v1/alerting/notifications', { config: { access: 'write', audited: true } }, async (req, reply) => {
    try {
      const yaml = (req.body as { yaml?: unknown } | undefined)?.yaml;
      if (typeof yaml !== 'string') throw new AlertingRequestError(400, 'yaml: expected the configuration file text');
      await ctx.notifications.save(yaml);
      // The text itself may hold secrets: the entry says only that it changed.
      await auditChange(ctx.audit, req, 'notifications.updated', `file:${ctx.notifications.view(false).file}`);
      return ctx.notifications.view(allows(req.principal, 'admin'));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post('/api/v1/alerting/receivers/:name/test', { config: { access: 'write', audited: true } }, async (req, reply) => {
    const name = (req.params as { name: string }).name;
    const result = await ctx.notifications.test(name);
    if (!result) return reply.code(404).send({ error: `no receiver "${name}"` });
    await auditChange(ctx.audit, req, 'receiver.tested', `receiver:${name}`, { results: result.results.map((r) => ({ integration: r.integration, ok: r.ok })) });
    return result;
  });

  app.get('/api/v1/alerting/deliveries', { config: { access: 'read' } }, async (req, reply): Promise<DeliveriesResponse | FastifyReply> => {
    const q = req.query as Query;
    const limit = one(q, 'limit') === undefined ? 100 : Number(one(q, 'limit'));
    if (!Number.isInteger(limit) || limit < 1) return reply.code(400).send({ error: 'limit: expected a positive integer' });
    const status = one(q, 'status');
    if (status !== undefined && !DELIVERY_STATUSES.has(status)) return reply.code(400).send({ error: 'status: expected ok or failed' });
    const filter: DeliveryFilter = {};
    const receiver = one(q, 'receiver');
    const integration = one(q, 'integration');
    if (receiver) filter.receiver = receiver;
    if (integration) filter.integration = integration;
    if (status) filter.status = status as 'ok' | 'failed';
    return { deliveries: await ctx.deliveries.list(limit, filter) };
  });

  app.get('/api/v1/alerting/history', { config: { access: 'read' } }, async (req, reply): Promise<AlertHistoryResponse | FastifyReply> => {
    try {
      const q = req.query as Query;
      const r = parseTimeRange({ since: one(q, 'since'), from: one(q, 'from'), to: one(q, 'to') }, new Date(now()), '24h');
      const from = Number(r.fromNs / 1_000_000n);
      const to = Number(r.toNs / 1_000_000n);
      const service = one(q, 'service');
      const rows = await ctx.history.transitions({ from, to, ruleId: one(q, 'rule') });
      const transitions = rows
        .filter((t) => !service || t.labels.service_name === service || t.labels.service === service)
        .map((t) => ({ ruleId: t.ruleId, alertname: t.labels.alertname ?? '', fingerprint: t.fingerprint, labels: t.labels, from: t.from, to: t.to, at: new Date(t.at).toISOString(), value: t.value }));
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), transitions };
    } catch (err) {
      return fail(reply, err);
    }
  });
}
