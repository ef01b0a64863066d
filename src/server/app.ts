/**
 * Wires every part of Vigil together — the one place that does (DESIGN.md §2): stores, ingest
 * pipeline, receivers, API server and periodic jobs, and their orderly shutdown.
 */
import { join, resolve } from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { parseDuration, type Config } from '../config/config.ts';
import { MemoryBudget } from '../ingest/body.ts';
import type { ReceiverContext } from '../ingest/context.ts';
import { registerHecReceiver } from '../ingest/hec/receiver.ts';
import { registerOtlpReceiver } from '../ingest/otlp/receiver.ts';
import { IngestPipeline } from '../ingest/pipeline.ts';
import { IngestRateLimiter } from '../ingest/rate-limit.ts';
import { buildRedactor } from '../ingest/redact.ts';
import { QueryGate } from '../query/index.ts';
import { openTelemetryBackend } from '../query/backend.ts';
import { QueryService } from '../query/service.ts';
import { promoteBatch } from '../ingest/promote.ts';
import type { TelemetryBatch } from '../model/telemetry.ts';
import { applyRetention, recordLimits, type RetentionPolicy } from '../retention/retention.ts';
import { registerQueryRoutes } from './routes/query.ts';
import { registerTraceListRoute } from './routes/trace-list.ts';
import { registerApmRoutes } from './routes/apm.ts';
import { registerDashboardRoutes } from './routes/dashboards.ts';
import { registerUiRoutes } from './routes/ui.ts';
import { openStateDb, pingStateDb, stateLocation, type StateDb } from '../store/state/db.ts';
import { TokenStore } from '../store/state/tokens.ts';
import { UserStore } from '../store/state/users.ts';
import { LoginThrottle, SessionStore } from '../store/state/sessions.ts';
import { AuditLog } from '../store/state/audit.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { setSecurityHeaders } from './security-headers.ts';
import { dataPaths, prepareDataDir } from './data-dir.ts';
import { SecretBox } from '../security/secrets.ts';
import { authenticator } from './authenticate.ts';
import { installAccessControl, type RouteRule } from './access.ts';
import { installChangeAudit } from './change-audit.ts';
import type { TelemetryStore } from '../store/telemetry/store.ts';
import { SelfMetrics } from '../telemetry-self/metrics.ts';
import { createMonitoring, type Monitoring } from '../monitors/runtime.ts';
import { registerMonitorRoutes } from './routes/monitors.ts';
import { registerStatusPageRoutes } from './routes/status-page.ts';
import { registerMonitorTestRoutes } from './routes/monitor-test.ts';
import { startHostAgent, type HostAgent } from '../agent/agent.ts';
import { PipelineMetricExporter } from '../agent/pipeline-exporter.ts';
import { createAlerting, type Alerting } from '../alerting/runtime.ts';
import { registerAlertingRoutes } from './routes/alerting.ts';
import { registerAlertmanagerApi } from './routes/alertmanager-api.ts';
import { ChangeService } from '../changes/service.ts';
import { ChangeRepo } from '../store/state/changes.ts';
import { registerChangeRoutes } from './routes/changes.ts';
import { DiagnosisService } from '../diagnosis/service.ts';
import { DETECTORS } from '../diagnosis/detectors/index.ts';
import { DiagnosisRepo } from '../store/state/diagnosis.ts';
import { registerDiagnosisRoutes } from './routes/diagnosis.ts';
import { IncidentService } from '../incidents/service.ts';
import { IncidentRepo } from '../store/state/incidents.ts';
import { registerIncidentRoutes } from './routes/incidents.ts';
import { parsePromDuration } from '../alerting/duration.ts';
import { VerificationJob, verificationSources } from '../incidents/verification.ts';
import { RemediationService } from '../remediation/service.ts';
import { RunbookRepo } from '../store/state/runbooks.ts';
import { ActionRepo } from '../store/state/actions.ts';
import { registerRemediationRoutes } from './routes/remediation.ts';

/** A running Vigil. */
export interface VigilServer {
  config: Config;
  urls: { api: string; otlp: string; hec: string };
  store: TelemetryStore;
  state: StateDb;
  tokens: TokenStore;
  users: UserStore;
  sessions: SessionStore;
  audit: AuditLog;
  metrics: SelfMetrics;
  pipeline: IngestPipeline;
  /** Synthetic monitors: store, scheduler and service (monitors/). */
  monitoring: Monitoring;
  /** Alert rules, alert state, silences and notifications (alerting/). */
  alerting: Alerting;
  /** Deploys, configuration and infrastructure changes, posted and detected (changes/). */
  changes: ChangeService;
  /** Incidents: opened by hand or from firing alerts, their timelines (incidents/). */
  incidents: IncidentService;
  /** Encrypts secrets kept in the state store. */
  secrets: SecretBox;
  /** Root-cause analysis of incidents (diagnosis/). */
  diagnosis: DiagnosisService;
  /** The one read seam over telemetry (query language and views). */
  queries: QueryService;
  /** Every API route with its access rule. */
  routes: RouteRule[];
  /** Runs retention now (also runs on its interval). */
  runRetention(now?: Date): Promise<Record<string, number>>;
  /** Stops accepting, commits everything queued, closes the stores. */
  stop(): Promise<void>;
}

export { dataPaths } from './data-dir.ts';

/**
 * Time limits of all three listeners, against slow clients holding connections (slow-loris): Node answers
 * 408 and closes a connection whose headers, or whole request including its body, arrive too slowly.
 */
function serverTimeouts(config: Config) {
  const requestTimeout = parseDuration(config.server.requestTimeout);
  const headersTimeout = parseDuration(config.server.headersTimeout);
  return {
    requestTimeout,
    keepAliveTimeout: parseDuration(config.server.keepAliveTimeout),
    // Node checks the limits on this interval (30 s by default, which would stretch a 10 s limit to 40 s).
    http: { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
  };
}

/** A Fastify instance; receivers (`rawBodies`) read bodies themselves to bound decompression. */
function newFastify(config: Config, rawBodies: boolean): FastifyInstance {
  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    trustProxy: config.auth.trustProxy,
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies are read by the receivers themselves with their own limits; this bounds the JSON API.
    bodyLimit: 1024 * 1024,
    ...serverTimeouts(config),
  });
  if (rawBodies) {
    // Leave the body unread for the receiver.
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    app.addContentTypeParser('application/json', (_req, _payload, done) => done(null, undefined));
  }
  app.addHook('onSend', async (_req, reply) => {
    setSecurityHeaders(reply);
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'request failed');
    // Never leak internals: a 500 says only that it failed.
    void reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
  });
  return app;
}

/** Starts Vigil with a validated configuration. */
export async function startVigil(config: Config): Promise<VigilServer> {
  const dataDir = resolve(config.dataDir);
  prepareDataDir(dataDir);
  const paths = dataPaths(dataDir);
  const state = await openStateDb(stateLocation(config.store.state, paths.state));
  const { store, dialect } = await openTelemetryBackend(paths.telemetry, { memoryLimit: config.store.memoryLimit });
  const metrics = new SelfMetrics();
  const secrets = SecretBox.fromKeyFile(config.secrets.keyFile ?? join(dataDir, 'secret.key'));
  const tokens = new TokenStore(state);
  // Alerting is built once the query service exists; commits before that have no rules to wake.
  let wakeRules: ((batches: readonly TelemetryBatch[]) => void) | undefined;
  // Change detection looks at the resources of every commit (it ignores commits until started).
  const changes = new ChangeService({ repo: new ChangeRepo(state), log: { error: (obj, msg) => api.log.error(obj, msg) } });
  const redactor = config.redaction.enabled ? buildRedactor(config.redaction, (rule, n) => metrics.redactions.inc({ rule }, n)) : undefined;
  const pipeline = new IngestPipeline(store, {
    // Redaction first, so that the promoted copies of attributes are redacted too.
    processors: [...(redactor ? [(b: TelemetryBatch) => redactor.batch(b)] : []), promoteBatch],
    maxQueuedRows: config.ingest.maxQueuedRows,
    maxRowsPerCommit: config.ingest.maxRowsPerCommit,
    metrics,
    // Push, not poll: the rules that read what was just committed are evaluated at once.
    // Both listeners see every commit; change detection never throws, so it goes first.
    onCommit: (batches) => {
      changes.onCommit(batches);
      wakeRules?.(batches);
    },
  });
  const policy: RetentionPolicy = {
    logs: parseDuration(config.retention.logs),
    traces: parseDuration(config.retention.traces),
    metrics: parseDuration(config.retention.metrics),
    maxClockSkew: parseDuration(config.ingest.maxClockSkew),
  };
  const ctx: ReceiverContext = {
    pipeline,
    tokens,
    metrics,
    budget: new MemoryBudget(config.ingest.maxInflightBytes),
    maxBodyBytes: config.ingest.maxBodyBytes,
    limiter: new IngestRateLimiter(config.ingest.tokenRecordsPerSecond),
    limits: recordLimits(policy),
  };
  let stopping = false;

  const otlp = newFastify(config, true);
  registerOtlpReceiver(otlp, ctx);
  const hec = newFastify(config, true);
  registerHecReceiver(hec, ctx);

  const users = new UserStore(state);
  const sessions = new SessionStore(state, { idleMs: parseDuration(config.auth.sessionIdle), absoluteMs: parseDuration(config.auth.sessionMax) });
  const audit = new AuditLog(state);
  const api = newFastify(config, false);
  const routes = installAccessControl(api, authenticator({ tokens, sessions, users }));
  installChangeAudit(api, audit);
  registerAuthRoutes(api, {
    users,
    sessions,
    tokens,
    audit,
    throttle: new LoginThrottle(state, { windowMs: parseDuration(config.auth.lockoutWindow), maxPerUser: config.auth.maxFailuresPerUser, maxPerIp: config.auth.maxFailuresPerIp }),
    cookieMaxAgeSeconds: Math.floor(parseDuration(config.auth.sessionMax) / 1000),
    secureCookies: config.auth.secureCookies,
  });
  // The one read seam: every query path shares its gate (the concurrency limit holds across search,
  // APM, monitors and dashboards), its time-out and the store's dialect.
  const queries = new QueryService(store, dialect, new QueryGate(config.query.maxConcurrent, config.query.maxConcurrent * 8), parseDuration(config.query.timeout));
  const queryContext = { queries };
  registerQueryRoutes(api, queryContext);
  registerTraceListRoute(api, queryContext);
  registerApmRoutes(api, queryContext);
  registerDashboardRoutes(api, { state });
  registerUiRoutes(api);
  const monitoring = createMonitoring({ config, state, queries, submit: (b) => pipeline.submit(b), log: api.log, secrets });
  registerMonitorRoutes(api, monitoring);
  registerStatusPageRoutes(api, monitoring);
  registerMonitorTestRoutes(api, { policy: config.outbound, audit, monitors: monitoring.store });
  // Links in notifications point at the API server's own URL, known once it listens.
  let apiUrl = '';
  const externalUrl = () => config.alerting.externalUrl.replace(/\/+$/, '') || apiUrl;
  // Incidents hear of alerts that fire and resolve (once persisted) and notify through alerting's
  // notifier; alerting is built first, so the two meet through these closures.
  let incidents: IncidentService | undefined;
  const alerting = createAlerting({
    config,
    state,
    queries,
    monitoring,
    secrets,
    metrics,
    log: api.log,
    externalUrl,
    onTransitions: (transitions) => {
      const alertChanges = transitions.flatMap((t) =>
        t.to === 'firing' || (t.from === 'firing' && t.to === 'resolved') ? [{ ruleId: t.ruleId, fingerprint: t.fingerprint, labels: t.labels, to: t.to, at: t.at }] : [],
      );
      void incidents?.onAlertChanges(alertChanges);
    },
  });
  incidents = new IncidentService({
    repo: new IncidentRepo(state),
    notify: (alerts) => alerting.notifier()?.update(alerts),
    externalUrl,
    autoOpen: config.incidents.autoOpen,
    correlationWindowMs: parsePromDuration(config.incidents.correlationWindow),
    log: api.log,
    changes: (q) => changes.forServices(q),
    // Every incident is diagnosed as it opens (the report is ready within the budget).
    onOpened: (id) => {
      if (config.incidents.diagnose) void diagnosis?.start(id, 'opened').catch((err: unknown) => api.log.error({ err }, `starting the diagnosis of incident ${id} failed`));
    },
    // Resolving starts post-resolution verification (a person's reopen or close cancels it); alerts of an
    // incident under verification link to it, and a signature resolved recently links the new incident.
    onStatusChanged: (id, from, to) => verification.onStatusChanged(id, from, to),
    underVerification: () => verification.underVerification(),
    liveVerification: (id) => verification.live(id),
    recurrenceWindowMs: parsePromDuration(config.incidents.recurrenceWindow),
  });
  const verification: VerificationJob = new VerificationJob({
    incidents,
    sources: verificationSources({ manager: alerting.manager, monitoring, queries }),
    windowMs: parsePromDuration(config.incidents.verificationWindow),
    log: api.log,
  });
  const diagnosis: DiagnosisService = new DiagnosisService({
    repo: new DiagnosisRepo(state),
    incidents,
    queries,
    changes: (q) => changes.forServices(q),
    detectors: DETECTORS,
    budgetMs: parsePromDuration(config.incidents.diagnosisBudget),
    log: api.log,
    alertLeadMs: (ruleId) => {
      const rule = alerting.manager.ruleView(ruleId)?.rule;
      return rule ? rule.rangeMs + rule.forMs : undefined;
    },
  });
  await diagnosis.init();
  wakeRules = (batches) => alerting.onCommit(batches);
  registerAlertingRoutes(api, { ...alerting.routes, audit });
  registerAlertmanagerApi(api, { ...alerting.alertmanagerApi, audit });
  registerChangeRoutes(api, { changes });
  registerIncidentRoutes(api, { incidents, audit });
  // Remediation: runbooks and actions; runs go through the outbound guard and onto the incident's timeline.
  const remediation = new RemediationService({ runbooks: new RunbookRepo(state), actions: new ActionRepo(state), secrets, incidents, policy: config.outbound, externalUrl });
  registerRemediationRoutes(api, { remediation, audit });
  registerDiagnosisRoutes(api, { diagnosis, audit });
  api.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));
  api.get('/readyz', { config: { access: 'public' } }, async (_req, reply) => {
    if (stopping) return reply.code(503).send({ status: 'stopping' });
    try {
      await store.query('SELECT 1');
    } catch {
      return reply.code(503).send({ status: 'telemetry store unavailable' });
    }
    try {
      await pingStateDb(state);
    } catch {
      return reply.code(503).send({ status: 'state store unavailable' });
    }
    return { status: 'ready', queueRows: pipeline.depth };
  });
  api.get('/metrics', { config: { access: config.metricsPublic ? 'public' : 'read' } }, async (_req, reply) => {
    const stats = await store.stats();
    metrics.storeBytes.set(stats.bytes);
    for (const [table, n] of Object.entries(stats.rows)) metrics.storeRows.set({ table }, n);
    for (const [state, n] of Object.entries(alerting.manager.counts())) metrics.alerts.set({ state }, n);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const runRetention = async (now = new Date()) => {
    const deleted = await applyRetention(store, policy, now);
    for (const [signal, n] of Object.entries(deleted)) metrics.retentionDeleted.inc({ signal }, n);
    return deleted;
  };
  const retentionTimer = setInterval(() => {
    runRetention().catch((err: unknown) => api.log.error({ err }, 'retention failed'));
  }, parseDuration(config.retention.interval));
  retentionTimer.unref();

  const listen = async (app: FastifyInstance, port: number) => {
    await app.listen({ host: config.host, port });
    const address = app.server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    return `http://${host}:${actual}`;
  };
  let urls: VigilServer['urls'];
  try {
    urls = { api: await listen(api, config.port), otlp: await listen(otlp, config.otlpPort), hec: await listen(hec, config.hecPort) };
  } catch (err) {
    await Promise.allSettled([api.close(), otlp.close(), hec.close()]);
    await store.close();
    await state.destroy();
    throw err;
  }

  apiUrl = urls.api;
  await monitoring.start();
  await alerting.start();
  // After the notifier: open incidents' alerts are sent to it again (they live in its memory).
  incidents.start();
  // Verifications that were running when Vigil stopped resume.
  await verification.start();
  await changes.start();
  // Vigil watches its own host as an agent would, straight into the pipeline (no token, no network hop).
  const selfAgent: HostAgent | undefined = config.agent.selfMonitor
    ? startHostAgent({ exporter: new PipelineMetricExporter((b) => pipeline.submit(b)), intervalMs: parseDuration(config.agent.interval) })
    : undefined;

  return {
    config,
    urls,
    store,
    state,
    tokens,
    users,
    sessions,
    audit,
    secrets,
    metrics,
    pipeline,
    routes,
    monitoring,
    alerting,
    changes,
    incidents,
    diagnosis,
    queries,
    runRetention,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(retentionTimer);
      // Receivers stop taking new connections; requests in flight still get their commit and answer.
      await Promise.all([otlp.close(), hec.close()]);
      await selfAgent?.stop().catch(() => undefined);
      await monitoring.stop();
      // Before the pipeline drains: its last commits have no evaluation to wake any more.
      await alerting.stop();
      // A diagnosis in progress finishes (within its budget) and records its outcome first.
      await diagnosis.idle();
      await verification.stop();
      await incidents.stop();
      await pipeline.close();
      await changes.stop();
      await api.close();
      await store.close();
      await state.destroy();
    },
  };
}
