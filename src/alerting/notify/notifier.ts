/**
 * The notifier: what the rest of Vigil sees of notifications. The rule manager hands it each
 * evaluation's firing and resolved alerts (`update`); it keeps them, routes them into aggregation
 * groups (dispatch.ts) whose flushes run the pipeline (pipeline.ts: inhibit → silence → time intervals
 * → dedup → deliver with retry → record), forwards them to existing Alertmanagers (forward.ts), and
 * answers `GET /api/v2/alerts` (`alerts`) and the receiver test button (`testReceiver`).
 *
 *   manager ─update─▶ alert store ─▶ Dispatcher (groups, timers) ─flush─▶ pipeline ─▶ integrations
 *                           └──────▶ AlertForwarder ─▶ other Alertmanagers
 */
import type { AmGettableAlert, ReceiverTestResponse } from '../../api/contract.ts';
import type { OutboundPolicy } from '../../net/outbound.ts';
import type { DeliveryRepo } from '../../store/state/deliveries.ts';
import type { NotificationLogRepo } from '../../store/state/notification-log.ts';
import type { Labels, NotifyAlert } from '../types.ts';
import type { NotificationConfig, Route } from './config.ts';
import { Dispatcher, realTimers, type GroupFlush, type Router, type Timers } from './dispatch.ts';
import { AlertForwarder } from './forward.ts';
import { Inhibitor } from './inhibit.ts';
import { buildReceivers, type Integration } from './integrations/index.ts';
import { isResolved } from './integrations/common.ts';
import { NotificationLog } from './nflog.ts';
import { runPipeline, type DeliveryListener, type PipelineDeps } from './pipeline.ts';
import { realRetryClock, type RetryClock } from './retry.ts';
import { groupOf, matchRoutes } from './route.ts';
import { isActive } from './time-intervals.ts';

/** A minimal logger (pino's shape). */
export interface NotifyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the notifier asks of silences (silences.ts's `Silences`). */
export interface SilenceMuter {
  /** Ids of the silences active at `now` that match the labels. */
  mutes(labels: Labels, now: number): string[];
}

/** Dependencies of the notifier. */
export interface NotifierDeps {
  config: NotificationConfig;
  silences: SilenceMuter;
  nflog: NotificationLogRepo;
  deliveries: DeliveryRepo;
  /** The outbound policy (`config.outbound`). */
  policy: OutboundPolicy;
  log: NotifyLogger;
  /** Vigil's external URL (links in notifications). */
  externalUrl: string;
  /** Alertmanager base URLs every alert is also posted to. */
  forwardTo?: string[];
  /** Epoch ms; defaults to the timers' clock. */
  now?: () => number;
  /** Group timers (tests pass a fake clock). */
  timers?: Timers;
  /** Clock of delivery retries (tests pass a fake one). */
  retryClock?: RetryClock;
  /** Time-out of one delivery attempt (default 10 s). */
  deliveryTimeoutMs?: number;
  /** How long a resolved alert stays listed for re-routing after it was notified (default 15 min). */
  resolvedRetentionMs?: number;
  /** How long `stop` waits for deliveries in flight (default 5 s). */
  stopTimeoutMs?: number;
  /** Told of every delivery (metrics). */
  onDelivery?: DeliveryListener;
}

/** Filters of {@link Notifier.alerts} (Alertmanager's `GET /api/v2/alerts` parameters). */
export interface AlertFilter {
  active?: boolean;
  silenced?: boolean;
  inhibited?: boolean;
  /** Regular expression a receiver name must match (fully). */
  receiver?: string;
  /** A label predicate (the `filter` matchers). */
  labels?: (labels: Labels) => boolean;
}

/** A receiver name that the configuration does not have. */
export class UnknownReceiverError extends Error {
  constructor(name: string) {
    super(`receiver "${name}" is not defined`);
    this.name = 'UnknownReceiverError';
  }
}

interface Held {
  alert: NotifyAlert;
  updatedAt: number;
}

// How often resolved alerts and expired log entries are cleaned up.
const GC_INTERVAL_MS = 60_000;
const STORE_GC_INTERVAL_MS = 3_600_000;

/** Routes, groups, deduplicates and delivers alert notifications; see the module comment. */
export class Notifier {
  private config: NotificationConfig;
  private receivers: Map<string, Integration[]>;
  private inhibitor: Inhibitor;
  private readonly nflog: NotificationLog;
  private readonly dispatcher: Dispatcher<Route>;
  private readonly forwarder: AlertForwarder;
  private readonly held = new Map<string, Held>();
  private firingCache: NotifyAlert[] | null = null;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly abort = new AbortController();
  private pending: NotifyAlert[] | null = [];
  private gcTimer: unknown = null;
  private lastStoreGc = 0;
  private policy: OutboundPolicy;

  constructor(private readonly deps: NotifierDeps) {
    this.config = deps.config;
    this.policy = deps.policy;
    this.timers = deps.timers ?? realTimers;
    this.now = deps.now ?? (() => this.timers.now());
    this.receivers = buildReceivers(deps.config);
    this.inhibitor = new Inhibitor(deps.config.inhibitRules);
    this.nflog = new NotificationLog(deps.nflog);
    this.dispatcher = new Dispatcher(this.router(deps.config), (f) => this.flush(f), this.timers, (err) => this.deps.log.error({ err }, 'notification flush failed'));
    this.forwarder = new AlertForwarder({
      urls: deps.forwardTo ?? [],
      policy: () => this.policy,
      clock: deps.retryClock,
      log: (level, msg) => this.deps.log[level]({}, msg),
    });
  }

  private router(config: NotificationConfig): Router<Route> {
    return {
      match: (labels) => matchRoutes(config.route, labels),
      routeId: (r) => r.id,
      group: (r, labels) => groupOf(r, labels),
      timing: (r) => ({ groupWaitMs: r.groupWaitMs, groupIntervalMs: r.groupIntervalMs }),
    };
  }

  private pipelineDeps(): PipelineDeps {
    return {
      receivers: this.receivers,
      inhibitedBy: (labels) => this.inhibitor.mutes(labels, this.firing()),
      silencedBy: (labels, now) => this.deps.silences.mutes(labels, now),
      timeIntervalActive: (names, now) => names.some((n) => isActive(this.config.timeIntervals.get(n) ?? [], new Date(now))),
      nflog: this.nflog,
      deliveries: this.deps.deliveries,
      delivery: {
        policy: () => this.policy,
        externalUrl: () => this.deps.externalUrl,
        timeoutMs: this.deps.deliveryTimeoutMs ?? 10_000,
        clock: this.deps.retryClock ?? realRetryClock,
        signal: this.abort.signal,
      },
      onError: (err) => this.deps.log.error({ err }, 'notification log could not be written'),
      listener: this.deps.onDelivery,
    };
  }

  private flush(f: GroupFlush<Route>): Promise<boolean> {
    return runPipeline(
      {
        receiver: f.route.receiver,
        groupKey: f.groupKey,
        groupLabels: f.groupLabels,
        now: f.now,
        nextFlushAt: f.nextFlushAt,
        repeatIntervalMs: f.route.repeatIntervalMs,
        muteTimeIntervals: f.route.muteTimeIntervals,
        activeTimeIntervals: f.route.activeTimeIntervals,
      },
      f.alerts,
      this.pipelineDeps(),
    );
  }

  /** Alerts firing now (the inhibitor's sources). */
  private firing(): NotifyAlert[] {
    if (!this.firingCache) {
      const now = this.now();
      this.firingCache = [...this.held.values()].map((h) => h.alert).filter((a) => !isResolved(a, now));
    }
    return this.firingCache;
  }

  /** Applies a reloaded configuration: groups are routed again, surviving groups keep their timers. */
  setConfig(config: NotificationConfig, policy?: OutboundPolicy): void {
    this.config = config;
    if (policy) this.policy = policy;
    this.receivers = buildReceivers(config);
    this.inhibitor = new Inhibitor(config.inhibitRules);
    this.dispatcher.reroute(this.router(config));
  }

  /**
   * Takes the firing and resolved alerts of an evaluation (re-sent every evaluation: unchanged ones
   * cost a map lookup). An alert without an end time lapses after `global.resolve_timeout` unless
   * refreshed, as in Alertmanager.
   */
  update(alerts: readonly NotifyAlert[]): void {
    if (this.abort.signal.aborted || alerts.length === 0) return;
    if (this.pending) {
      this.pending.push(...alerts);
      return;
    }
    const now = this.now();
    const changed: NotifyAlert[] = [];
    for (const incoming of alerts) {
      const a = incoming.endsAt === null && !incoming.resolved ? { ...incoming, endsAt: now + this.config.global.resolveTimeoutMs } : incoming;
      const prev = this.held.get(a.fingerprint);
      // A resolved alert already known as resolved (and notified or on its way) changes nothing.
      if (prev && a.resolved && isResolved(prev.alert, now) && prev.alert.startsAt === a.startsAt) continue;
      this.held.set(a.fingerprint, { alert: a, updatedAt: now });
      changed.push(a);
    }
    if (changed.length === 0) return;
    this.firingCache = null;
    this.dispatcher.insert(changed);
    this.forwarder.push(changed);
  }

  /** The alerts held now, as `GET /api/v2/alerts` lists them (resolved ones left out, as Alertmanager does). */
  alerts(filter: AlertFilter = {}): AmGettableAlert[] {
    const now = this.now();
    const receiverRe = filter.receiver ? new RegExp(`^(?:${filter.receiver})$`) : null;
    const out: AmGettableAlert[] = [];
    for (const { alert: a, updatedAt } of this.held.values()) {
      if (isResolved(a, now)) continue;
      if (filter.labels && !filter.labels(a.labels)) continue;
      const receivers = [...new Set(matchRoutes(this.config.route, a.labels).map((r) => r.receiver))];
      if (receiverRe && !receivers.some((r) => receiverRe.test(r))) continue;
      const silencedBy = this.deps.silences.mutes(a.labels, now);
      const inhibitedBy = this.inhibitor.mutes(a.labels, this.firing());
      const suppressed = silencedBy.length > 0 || inhibitedBy.length > 0;
      if (filter.active === false && !suppressed) continue;
      if (filter.silenced === false && silencedBy.length > 0) continue;
      if (filter.inhibited === false && inhibitedBy.length > 0) continue;
      out.push({
        labels: a.labels,
        annotations: a.annotations,
        startsAt: new Date(a.startsAt).toISOString(),
        endsAt: new Date(a.endsAt ?? now).toISOString(),
        updatedAt: new Date(updatedAt).toISOString(),
        generatorURL: a.generatorURL,
        fingerprint: a.fingerprint,
        receivers: receivers.map((name) => ({ name })),
        status: { state: suppressed ? 'suppressed' : 'active', silencedBy, inhibitedBy },
      });
    }
    return out.sort((x, y) => x.fingerprint.localeCompare(y.fingerprint));
  }

  /** Names of the configured receivers and their integrations (`webhook[0]` …). */
  receiverNames(): { name: string; integrations: string[] }[] {
    return this.config.receivers.map((r) => ({ name: r.name, integrations: (this.receivers.get(r.name) ?? []).map((i) => `${i.type}[${i.index}]`) }));
  }

  /**
   * Sends a synthetic alert through each integration of a receiver, once, without grouping, dedup or
   * retry, and says how each went. Throws {@link UnknownReceiverError} for an unknown name.
   */
  async testReceiver(name: string): Promise<ReceiverTestResponse> {
    const integrations = this.receivers.get(name);
    if (!integrations) throw new UnknownReceiverError(name);
    const now = this.now();
    const labels = { alertname: 'TestAlert', instance: 'vigil' };
    const alert: NotifyAlert = {
      fingerprint: 'test',
      labels,
      annotations: { summary: 'Notification test', description: `A test notification sent from Vigil to receiver "${name}".` },
      startsAt: now,
      endsAt: null,
      generatorURL: this.deps.externalUrl,
      resolved: false,
    };
    const n = { receiver: name, groupKey: `{}/test:{alertname="TestAlert"}`, groupLabels: { alertname: 'TestAlert' }, alerts: [alert], externalUrl: this.deps.externalUrl, now };
    const results = await Promise.all(
      integrations.map(async (i) => {
        const started = performance.now();
        let r;
        try {
          r = await i.notify(n, { idempotencyKey: `test-${now}`, policy: this.policy, timeoutMs: this.deps.deliveryTimeoutMs ?? 10_000, signal: this.abort.signal });
        } catch (err) {
          r = { ok: false, status: null, error: (err as Error).message };
        }
        const ms = Math.round(performance.now() - started);
        // Recorded like any delivery, so the log shows that the receiver was tried and what it said.
        await this.deps.deliveries
          .record({ at: now, receiver: name, integration: i.type, groupKey: n.groupKey, idempotencyKey: `test-${now}`, status: r.ok ? 'ok' : 'failed', attempts: 1, firing: 1, resolved: 0, httpStatus: r.status, error: r.error, durationMs: ms })
          .catch((err: unknown) => this.deps.log.error({ err }, 'recording a test delivery failed'));
        return { integration: `${i.type}[${i.index}]`, ok: r.ok, status: r.status, error: r.error, ms };
      }),
    );
    return { receiver: name, results };
  }

  /** Resolves once no group is flushing (tests; a bounded wait at shutdown). */
  async idle(): Promise<void> {
    for (let p = this.dispatcher.inFlight(); p.length; p = this.dispatcher.inFlight()) await Promise.all(p);
  }

  /** The aggregation groups held now (status pages, tests). */
  groups(): ReturnType<Dispatcher<Route>['list']> {
    return this.dispatcher.list();
  }

  /** Loads the notification log, then lets the alerts received so far into the groups. */
  async start(): Promise<void> {
    const now = this.now();
    await this.nflog.load(now);
    const early = this.pending ?? [];
    this.pending = null;
    this.update(early);
    this.scheduleGc();
  }

  private scheduleGc(): void {
    if (this.abort.signal.aborted) return;
    this.gcTimer = this.timers.setTimeout(() => {
      void this.gc().finally(() => this.scheduleGc());
    }, GC_INTERVAL_MS);
  }

  /** Forgets resolved alerts that were notified long enough ago; cleans the logs once an hour. */
  async gc(): Promise<void> {
    const now = this.now();
    const kept = this.dispatcher.heldFingerprints();
    const retention = this.deps.resolvedRetentionMs ?? 15 * 60_000;
    for (const [fp, h] of this.held) {
      if (!kept.has(fp) && isResolved(h.alert, now) && (h.alert.endsAt ?? h.updatedAt) < now - retention) this.held.delete(fp);
    }
    this.firingCache = null;
    if (now - this.lastStoreGc >= STORE_GC_INTERVAL_MS) {
      this.lastStoreGc = now;
      try {
        await this.nflog.gc(now);
        await this.deps.deliveries.gc(now);
      } catch (err) {
        this.deps.log.warn({ err }, 'notification log clean-up failed');
      }
    }
  }

  /** Stops the timers and retries; waits (at most `stopTimeoutMs`) for deliveries in flight. */
  async stop(): Promise<void> {
    if (this.gcTimer !== null) this.timers.clearTimeout(this.gcTimer);
    const inFlight = this.dispatcher.stop();
    this.abort.abort();
    const bound = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.deps.stopTimeoutMs ?? 5000);
      t.unref?.();
    });
    await Promise.race([Promise.all([...inFlight, this.forwarder.stop()]), bound]);
  }
}
