/**
 * Assembles alerting for the server (as src/monitors/runtime.ts does for monitors): rule files, the
 * rule manager with its evaluator and sources, persisted alert state, silences, the notification
 * configuration and the notifier — and binds them to what the API routes need. The server
 * (src/server/app.ts) calls `createAlerting` once, registers the routes, feeds `onCommit` from the
 * ingest pipeline and starts/stops the result with itself.
 *
 *   start: silences ─▶ notifier (its nflog) ─▶ rule files ─▶ manager (persisted alerts to the notifier,
 *          then evaluation timers) ─▶ file watchers
 */
import { existsSync, mkdirSync, readFileSync, renameSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { parseDuration, type Config } from '../config/config.ts';
import type {
  AlertingFileError,
  AmPostableSilence,
  BacktestRequest,
  BacktestResponse,
  NotificationConfigResponse,
  ReceiverTestResponse,
  RuleDetail,
  RuleWriteRequest,
} from '../api/contract.ts';
import type { TelemetryBatch } from '../model/telemetry.ts';
import type { QueryService } from '../query/service.ts';
import type { SecretBox } from '../security/secrets.ts';
import { AlertStore } from '../store/state/alerts.ts';
import type { StateDb } from '../store/state/db.ts';
import { DeliveryRepo, type DeliveryInput } from '../store/state/deliveries.ts';
import { NotificationLogRepo } from '../store/state/notification-log.ts';
import { SilenceRepo } from '../store/state/silences.ts';
import type { SelfMetrics } from '../telemetry-self/metrics.ts';
import type { Monitoring } from '../monitors/runtime.ts';
import { AlertingRequestError, type AlertingRouteContext, type NotificationsApi, type RuleFilesApi } from '../server/routes/alerting.ts';
import { SilenceInputError, SilenceNotFoundError, type AlertmanagerApiContext, type SilenceApi } from '../server/routes/alertmanager-api.ts';
import { backtest, BacktestError } from './backtest.ts';
import { BaselineCache } from './baseline.ts';
import { writeDefaultRulesOnce } from './defaults.ts';
import { parsePromDuration } from './duration.ts';
import { evaluateRule } from './evaluator.ts';
import { RuleManager, type AlertPersistence } from './manager.ts';
import { defaultNotificationConfig, parseNotificationConfig, writeDefaultNotificationsOnce, type NotificationConfig } from './notify/config.ts';
import { Notifier, UnknownReceiverError } from './notify/notifier.ts';
import { maskSecrets, mergeMaskedSecrets, NotificationSecretError, sealSecrets, unsealSecrets } from './notify/secrets.ts';
import { SilenceError, Silences, toGettableSilence } from './notify/silences.ts';
import { parseRuleFile } from './rule.ts';
import { RuleFileError, RuleFiles } from './rule-files.ts';
import { createRuleSource, monitorStatesOf } from './sources.ts';
import type { AlertTransition, NotifyAlert, RuleGroupSpec, RuleSpec } from './types.ts';

/** A minimal logger (pino's shape). */
export interface AlertingLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What `createAlerting` needs. */
export interface AlertingDeps {
  config: Config;
  state: StateDb;
  queries: QueryService;
  monitoring: Monitoring;
  secrets: SecretBox;
  metrics: SelfMetrics;
  log: AlertingLogger;
  /** Vigil's own URL, for links in notifications; read at start (the port may be chosen at listen). */
  externalUrl: () => string;
  /**
   * Told of the alert state changes of each evaluation once they are persisted (incidents correlate
   * them): reported after the write, so a transition is seen once and a restart does not repeat it.
   */
  onTransitions?: (transitions: AlertTransition[]) => void;
  now?: () => number;
}

/** Alerting as the server holds it. */
export interface Alerting {
  manager: RuleManager;
  store: AlertStore;
  /** The notifier; undefined until started. */
  notifier(): Notifier | undefined;
  rulesDir: string;
  notificationsFile: string;
  /** What the Vigil and Prometheus routes need. */
  routes: AlertingRouteContext;
  /** What the Alertmanager API v2 routes need. */
  alertmanagerApi: AlertmanagerApiContext;
  /** The ingest pipeline's commit hook. */
  onCommit(batches: readonly TelemetryBatch[]): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** How long alert state changes (history, chart markers) are kept. */
const HISTORY_RETENTION_MS = 90 * 86_400_000;

/** A DeliveryRepo that also counts notifications for /metrics. */
class CountedDeliveries extends DeliveryRepo {
  constructor(
    db: StateDb,
    private readonly metrics: SelfMetrics,
  ) {
    super(db);
  }
  override async record(d: DeliveryInput): Promise<number> {
    this.metrics.alertNotifications.inc({ integration: d.integration, status: d.status });
    return super.record(d);
  }
}

function atomicWrite(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  // 0600: the notifications file holds (sealed) secrets.
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

/** Builds alerting from the configuration; nothing runs until `start()`. */
export function createAlerting(deps: AlertingDeps): Alerting {
  const { config, state, metrics, log } = deps;
  const now = deps.now ?? Date.now;
  const rulesDir = resolve(config.alerting.rulesDir || join(config.dataDir, 'rules'));
  const notificationsFile = resolve(config.alerting.notificationsFile || join(config.dataDir, 'alertmanager.yml'));
  const notificationsName = basename(notificationsFile);
  const resolvedRetentionMs = parseDuration(config.alerting.resolvedRetention);
  const store = new AlertStore(state);
  const deliveries = new CountedDeliveries(state, metrics);
  const silences = new Silences(new SilenceRepo(state));
  const cache = new BaselineCache();
  const source = createRuleSource({
    queries: deps.queries,
    monitors: monitorStatesOf(deps.monitoring.service, deps.monitoring.store),
    now,
  });
  // The rule manager's writes, observed for incidents: the transitions of a write that succeeded.
  const onTransitions = deps.onTransitions;
  const persistence: AlertPersistence = onTransitions
    ? {
        instances: () => store.instances(),
        health: () => store.health(),
        forgetRule: (ruleId) => store.forgetRule(ruleId),
        async write(w) {
          await store.write(w);
          if (w.transitions.length) onTransitions(w.transitions);
        },
      }
    : store;
  const manager = new RuleManager({
    evaluate: (rule, at, previous) => evaluateRule(rule, at, previous, source, { cache, resolvedRetentionMs, externalURL: deps.externalUrl() }),
    store: persistence,
    notifier: { update: (alerts) => notifier?.update(alerts) },
    maxConcurrent: config.alerting.maxConcurrent,
    resolvedRetentionMs,
    externalUrl: deps.externalUrl,
    now,
    metrics: {
      evaluated: (seconds, ok) => {
        metrics.ruleEvaluations.inc();
        if (!ok) metrics.ruleEvaluationFailures.inc();
        metrics.ruleEvaluationSeconds.observe(seconds);
      },
    },
    log: (level, message, err) => log[level]({ err }, message),
  });
  const files = new RuleFiles(rulesDir);
  let notifier: Notifier | undefined;

  // The notifications file: the last good configuration stays in force while the file has errors.
  let notifyConfig: NotificationConfig = defaultNotificationConfig();
  let notifyErrors: AlertingFileError[] = [];
  const readNotificationsText = (): string => (existsSync(notificationsFile) ? readFileSync(notificationsFile, 'utf8') : '');
  const loadNotifications = (): void => {
    const text = readNotificationsText();
    const parsed = text ? parseNotificationConfig(text, notificationsName) : { config: defaultNotificationConfig(), errors: [] };
    notifyErrors = parsed.errors;
    if (!parsed.config) {
      for (const e of parsed.errors) log.warn({}, `notifications file ${e.file}${e.line ? `:${e.line}` : ''}: ${e.field ? `${e.field}: ` : ''}${e.message}`);
      return;
    }
    const opened = unsealSecrets(parsed.config, deps.secrets, notificationsName);
    if (!opened.config) {
      notifyErrors = opened.errors;
      return;
    }
    notifyConfig = opened.config;
    notifier?.setConfig(notifyConfig, config.outbound);
  };

  const rulesApi: RuleFilesApi = {
    fileErrors: () => files.errors(),
    list: () =>
      manager
        .groupViews()
        .flatMap((g) => g.rules.map((r) => files.ruleDetail(r.rule.id)))
        .filter((d): d is RuleDetail => d !== undefined),
    detail: (id) => files.ruleDetail(id),
    create: (req) => ruleWrite(() => files.createRule(req).id),
    update: (id, req) => ruleWrite(() => files.updateRule(id, req.rule).id),
    remove: (id) => ruleWrite(() => files.deleteRule(id)).then(() => undefined),
    exportYaml: (id) => (files.ruleDetail(id) ? files.exportYaml(id) : undefined),
  };

  /** Runs a rule file write and turns its refusal into a 400 with the file's errors. */
  async function ruleWrite<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RuleFileError) throw new AlertingRequestError(err.status ?? 400, err.message, err.errors);
      throw err;
    }
  }

  /** A draft rule (RuleInput) as the evaluator's RuleSpec, through the rule file parser itself. */
  const draftRule = (req: BacktestRequest): RuleSpec => {
    const interval = req.interval ?? '1m';
    const text = stringify({ groups: [{ name: 'backtest', interval, rules: [req.rule] }] });
    const parsed = parseRuleFile('backtest.yml', text);
    if (parsed.errors.length) throw new AlertingRequestError(400, parsed.errors.map((e) => `${e.field ? `${e.field}: ` : ''}${e.message}`).join('; '), parsed.errors);
    const rule = parsed.groups[0]?.rules[0];
    if (!rule) throw new AlertingRequestError(400, 'rule: expected one rule');
    return rule;
  };

  const runBacktest = async (req: BacktestRequest, at: number): Promise<BacktestResponse> => {
    let rule: RuleSpec;
    if (req.id !== undefined) {
      const view = manager.ruleView(req.id);
      if (!view) throw new AlertingRequestError(404, `no rule "${req.id}"`);
      rule = view.rule;
      if (req.interval) rule = { ...rule, intervalMs: durationParam('interval', req.interval) };
    } else rule = draftRule(req);
    let fromMs: number;
    let toMs: number;
    if (req.from !== undefined || req.to !== undefined) {
      fromMs = req.from !== undefined ? Date.parse(req.from) : Number.NaN;
      toMs = req.to !== undefined ? Date.parse(req.to) : at;
      if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new AlertingRequestError(400, 'from, to: expected RFC 3339 times (from is required with to)');
      if (toMs <= fromMs) throw new AlertingRequestError(400, 'to: must be after from');
      if (toMs - fromMs > 30 * 86_400_000) throw new AlertingRequestError(400, 'from: at most 30 days can be backtested');
    } else {
      toMs = at;
      fromMs = at - (req.days ?? 1) * 86_400_000;
    }
    try {
      return await backtest(rule, { fromMs, toMs, stepMs: rule.intervalMs }, source, { cache, resolvedRetentionMs });
    } catch (err) {
      if (err instanceof BacktestError) throw new AlertingRequestError(400, err.message);
      throw err;
    }
  };

  const notificationsApi: NotificationsApi = {
    view(withSecrets): NotificationConfigResponse {
      const text = readNotificationsText();
      return {
        file: notificationsName,
        yaml: withSecrets ? text : maskSecrets(text),
        receivers: notifier?.receiverNames() ?? notifyConfig.receivers.map((r) => ({ name: r.name, integrations: [] })),
        errors: notifyErrors,
      };
    },
    async save(yaml) {
      const refuse = (errors: AlertingFileError[]) => new AlertingRequestError(400, errors.map((e) => `${e.file}${e.line ? `:${e.line}` : ''}: ${e.field ? `${e.field}: ` : ''}${e.message}`).join('\n'), errors);
      try {
        // `<secret>` from a masked view keeps the value in force; plaintext secrets are sealed at rest.
        const merged = mergeMaskedSecrets(yaml, readNotificationsText());
        const parsed = parseNotificationConfig(merged, notificationsName);
        if (!parsed.config) throw refuse(parsed.errors);
        atomicWrite(notificationsFile, sealSecrets(merged, deps.secrets));
      } catch (err) {
        if (!(err instanceof NotificationSecretError)) throw err;
        // Text that is not even YAML: the parser's errors carry the line.
        const parsed = parseNotificationConfig(yaml, notificationsName);
        throw refuse(parsed.config ? [{ file: notificationsName, line: null, field: err.field, message: err.message.slice(err.field.length + 2) }] : parsed.errors);
      }
      loadNotifications();
    },
    async test(receiver): Promise<ReceiverTestResponse | undefined> {
      if (!notifier) return undefined;
      try {
        return await notifier.testReceiver(receiver);
      } catch (err) {
        if (err instanceof UnknownReceiverError) return undefined;
        throw err;
      }
    },
  };

  const silenceApi: SilenceApi = {
    list: (at) => silences.list(at).map(toGettableSilence),
    get: (id, at) => {
      const s = silences.get(id, at);
      return s ? toGettableSilence(s) : undefined;
    },
    async upsert(s: AmPostableSilence, at: number) {
      try {
        return await silences.upsert(s, at);
      } catch (err) {
        throw silenceError(err);
      }
    },
    async expire(id, at) {
      try {
        await silences.expire(id, at);
        return true;
      } catch (err) {
        if (err instanceof SilenceError && err.code === 'not_found') return false;
        throw silenceError(err);
      }
    },
  };

  const routes: AlertingRouteContext = {
    manager,
    rules: rulesApi,
    backtest: runBacktest,
    notifications: notificationsApi,
    deliveries,
    history: store,
    now,
  };

  const startedAt = now();
  const alertmanagerApi: AlertmanagerApiContext = {
    silences: silenceApi,
    alerts: () => notifier?.alerts() ?? [],
    accept: (alerts: NotifyAlert[]) => notifier?.update(alerts),
    receivers: () => notifyConfig.receivers.map((r) => r.name),
    configText: (withSecrets) => (withSecrets ? readNotificationsText() : maskSecrets(readNotificationsText())),
    resolveTimeoutMs: resolvedRetentionMs,
    startedAt,
    version: VERSION,
    now,
  };

  let started = false;
  let rulesWatcher: { close(): void } | undefined;
  let housekeeping: NodeJS.Timeout | undefined;
  const tidy = async () => {
    const at = now();
    await silences.gc(at).catch((err: unknown) => log.error({ err }, 'removing old silences failed'));
    await store.pruneTransitions(at - HISTORY_RETENTION_MS).catch((err: unknown) => log.error({ err }, 'pruning alert history failed'));
  };
  const onNotificationsChange = () => loadNotifications();

  return {
    manager,
    store,
    notifier: () => notifier,
    rulesDir,
    notificationsFile,
    routes,
    alertmanagerApi,
    onCommit: (batches) => manager.onCommit(batches),
    async start() {
      if (!config.alerting.enabled || started) return;
      started = true;
      if (!existsSync(rulesDir)) mkdirSync(rulesDir, { recursive: true });
      if (config.alerting.defaultRules) writeDefaultRulesOnce(rulesDir);
      writeDefaultNotificationsOnce(notificationsFile);
      loadNotifications();
      await silences.load();
      notifier = new Notifier({
        config: notifyConfig,
        silences,
        nflog: new NotificationLogRepo(state),
        deliveries,
        policy: config.outbound,
        log,
        externalUrl: deps.externalUrl(),
        forwardTo: config.alerting.forwardTo,
        now,
        resolvedRetentionMs,
        onDelivery: undefined,
      });
      await notifier.start();
      const onRules = (groups: RuleGroupSpec[]) => manager.setGroups(groups);
      onRules(files.load());
      for (const e of files.errors()) log.warn({}, `rule file ${e.file}${e.line ? `:${e.line}` : ''}: ${e.field ? `${e.field}: ` : ''}${e.message}`);
      await manager.start();
      rulesWatcher = files.watch((groups) => onRules(groups));
      watchFile(notificationsFile, { interval: 1000, persistent: false }, onNotificationsChange);
      void tidy();
      housekeeping = setInterval(() => void tidy(), 3_600_000);
      housekeeping.unref();
    },
    async stop() {
      if (!started) return;
      started = false;
      rulesWatcher?.close();
      clearInterval(housekeeping);
      unwatchFile(notificationsFile, onNotificationsChange);
      await manager.stop();
      await notifier?.stop();
    },
  };
}

function durationParam(name: string, text: string): number {
  try {
    const ms = parsePromDuration(text);
    if (ms < 1000) throw new Error('at least 1s');
    return ms;
  } catch (err) {
    throw new AlertingRequestError(400, `${name}: ${(err as Error).message}`);
  }
}

/** Silence refusals as the Alertmanager API answers them (404 for an unknown id, else 400). */
function silenceError(err: unknown): unknown {
  if (err instanceof SilenceError) return err.code === 'not_found' ? new SilenceNotFoundError(err.message) : new SilenceInputError(err.message);
  return err;
}
