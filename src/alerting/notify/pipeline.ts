/**
 * The notification pipeline, spelled out in one place in Alertmanager's order (notify.go's
 * PipelineBuilder). For each flush of an aggregation group, the stages of its route's receiver run
 * top to bottom:
 *
 *   inhibit → silence → time intervals → fan out per integration, in parallel:
 *                                         dedup (nflog) → deliver with retry → record (nflog + delivery log)
 *
 * Each step is one Stage. A stage returns the alerts that go on, or null to end its branch; the flush
 * succeeds when every branch that delivered, delivered. A failed delivery leaves the nflog untouched,
 * so the group's next flush tries again.
 */
import { createHash } from 'node:crypto';
import type { OutboundPolicy } from '../../net/outbound.ts';
import type { DeliveryRepo } from '../../store/state/deliveries.ts';
import type { Labels, NotifyAlert } from '../types.ts';
import { isResolved, type Integration, type Notification } from './integrations/common.ts';
import { needsUpdate, receiverKey, type NotificationLog } from './nflog.ts';
import { withRetry, type RetryClock, type RetryOutcome } from './retry.ts';

/** What every stage of one flush sees. */
export interface FlushContext {
  receiver: string;
  groupKey: string;
  groupLabels: Labels;
  now: number;
  /** The group's next flush: delivery retries stop before it. */
  nextFlushAt: number;
  repeatIntervalMs: number;
  /** Names of the route's mute_time_intervals and active_time_intervals. */
  muteTimeIntervals: readonly string[];
  activeTimeIntervals: readonly string[];
}

/** What the stages of one integration's branch pass on to each other (Alertmanager keeps it in ctx). */
interface BranchState {
  firing: string[];
  resolved: string[];
  idempotencyKey: string;
  outcome: RetryOutcome | 'skipped' | null;
  sent: NotifyAlert[];
}

/** The result of a stage: the alerts that go on (null: this branch ends here) and whether it failed. */
export interface StageResult {
  alerts: NotifyAlert[] | null;
  ok: boolean;
}

/** One step of the pipeline. */
export interface Stage {
  readonly name: string;
  exec(ctx: FlushContext, alerts: NotifyAlert[]): Promise<StageResult>;
}

const go = (alerts: NotifyAlert[]): StageResult => (alerts.length ? { alerts, ok: true } : { alerts: null, ok: true });

/** Stages run one after another; an ended or failed stage ends the chain. */
export class MultiStage implements Stage {
  readonly name = 'multi';
  constructor(readonly stages: readonly Stage[]) {}

  async exec(ctx: FlushContext, alerts: NotifyAlert[]): Promise<StageResult> {
    let current = alerts;
    for (const s of this.stages) {
      const r = await s.exec(ctx, current);
      if (!r.ok || r.alerts === null) return { alerts: null, ok: r.ok };
      current = r.alerts;
    }
    return { alerts: current, ok: true };
  }
}

/** Branches run in parallel (one per integration); ok when all are. */
export class FanoutStage implements Stage {
  readonly name = 'fanout';
  constructor(readonly branches: readonly Stage[]) {}

  async exec(ctx: FlushContext, alerts: NotifyAlert[]): Promise<StageResult> {
    const results = await Promise.all(this.branches.map((b) => b.exec(ctx, alerts)));
    return { alerts: null, ok: results.every((r) => r.ok) };
  }
}

/** Drops alerts an inhibition rule mutes (Alertmanager's MuteStage with the inhibitor). */
export class InhibitStage implements Stage {
  readonly name = 'inhibit';
  /** `inhibitedBy(labels)`: fingerprints of the firing alerts that inhibit these labels. */
  constructor(private readonly inhibitedBy: (labels: Labels) => readonly string[]) {}

  async exec(_ctx: FlushContext, alerts: NotifyAlert[]): Promise<StageResult> {
    return go(alerts.filter((a) => this.inhibitedBy(a.labels).length === 0));
  }
}

/** Drops alerts an active silence mutes (Alertmanager's MuteStage with the silencer). */
export class SilenceStage implements Stage {
  readonly name = 'silence';
  /** `silencedBy(labels, now)`: ids of the active silences matching these labels. */
  constructor(private readonly silencedBy: (labels: Labels, now: number) => readonly string[]) {}

  async exec(ctx: FlushContext, alerts: NotifyAlert[]): Promise<StageResult> {
    return go(alerts.filter((a) => this.silencedBy(a.labels, ctx.now).length === 0));
  }
}

/**
 * Ends the flush while one of the route's mute_time_intervals holds, or while none of its
 * active_time_intervals does (Alertmanager's TimeMuteStage and TimeActiveStage).
 */
export class TimeIntervalStage implements Stage {
  readonly name = 'time-intervals';
  /** `isActive(names, now)`: whether any of the named time intervals holds at `now`. */
  constructor(private readonly isActive: (names: readonly string[], now: number) => boolean) {}

  async exec(ctx: FlushContext, alerts: NotifyAlert[]): Promise<StageResult> {
    if (ctx.muteTimeIntervals.length && this.isActive(ctx.muteTimeIntervals, ctx.now)) return { alerts: null, ok: true };
    if (ctx.activeTimeIntervals.length && !this.isActive(ctx.activeTimeIntervals, ctx.now)) return { alerts: null, ok: true };
    return go(alerts);
  }
}

/** The idempotency key of one notification: the same for all its attempts, across a restart too. */
export function idempotencyKey(parts: { receiver: string; integration: string; groupKey: string; firing: readonly string[]; resolved: readonly string[]; previousSentAt: number | null }): string {
  // The previous send time tells a deliberate repeat (repeat_interval) from a retry of the same one.
  const text = [parts.receiver, parts.integration, parts.groupKey, [...parts.firing].sort().join(','), [...parts.resolved].sort().join(','), String(parts.previousSentAt ?? 0)].join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** Sends only what the notification log says is new (Alertmanager's DedupStage). */
export class DedupStage implements Stage {
  readonly name = 'dedup';
  constructor(
    private readonly nflog: NotificationLog,
    private readonly key: string,
    private readonly integration: Integration,
    private readonly state: BranchState,
  ) {}

  async exec(ctx: FlushContext, alerts: NotifyAlert[]): Promise<StageResult> {
    const firing = alerts.filter((a) => !isResolved(a, ctx.now)).map((a) => a.fingerprint);
    const resolved = alerts.filter((a) => isResolved(a, ctx.now)).map((a) => a.fingerprint);
    const entry = this.nflog.query(this.key, ctx.groupKey, ctx.now);
    const send = needsUpdate(entry, new Set(firing), new Set(resolved), { sendResolved: this.integration.sendResolved, repeatIntervalMs: ctx.repeatIntervalMs, now: ctx.now });
    if (!send) return { alerts: null, ok: true };
    this.state.firing = firing;
    this.state.resolved = resolved;
    this.state.idempotencyKey = idempotencyKey({ receiver: ctx.receiver, integration: this.key, groupKey: ctx.groupKey, firing, resolved, previousSentAt: entry?.sentAt ?? null });
    return go(alerts);
  }
}

/** What delivery needs besides the integration. */
export interface DeliveryOptions {
  policy: () => OutboundPolicy;
  externalUrl: () => string;
  /** Time-out of one attempt. */
  timeoutMs: number;
  clock: RetryClock;
  /** Aborted at shutdown: no further attempts (the one in flight finishes). */
  signal: AbortSignal;
}

/** Delivers through one integration, retrying recoverable failures until the group's next flush. */
export class RetryStage implements Stage {
  readonly name = 'retry';
  constructor(
    private readonly integration: Integration,
    private readonly opts: DeliveryOptions,
    private readonly state: BranchState,
  ) {}

  async exec(ctx: FlushContext, alerts: NotifyAlert[]): Promise<StageResult> {
    let sent = alerts;
    if (!this.integration.sendResolved) {
      // Only resolved alerts and no send_resolved: nothing goes out, but the log still records them.
      if (this.state.firing.length === 0) {
        this.state.outcome = 'skipped';
        this.state.sent = [];
        return go(alerts);
      }
      sent = alerts.filter((a) => !isResolved(a, ctx.now));
    }
    const n: Notification = { receiver: ctx.receiver, groupKey: ctx.groupKey, groupLabels: ctx.groupLabels, alerts: sent, externalUrl: this.opts.externalUrl(), now: ctx.now };
    // Shutdown stops the waits between attempts, never an attempt in flight: cutting a request whose
    // answer is on its way would leave a notification sent but not logged (a duplicate after restart).
    const delivery = { idempotencyKey: this.state.idempotencyKey, policy: this.opts.policy(), timeoutMs: this.opts.timeoutMs };
    this.state.sent = sent;
    this.state.outcome = await withRetry(() => this.integration.notify(n, delivery), { deadline: ctx.nextFlushAt, clock: this.opts.clock, signal: this.opts.signal });
    return go(alerts);
  }
}

/** Something told about each delivery (metrics). */
export type DeliveryListener = (d: { receiver: string; integration: string; ok: boolean; attempts: number }) => void;

/** Records the outcome: the nflog on success (Alertmanager's SetNotifiesStage), the delivery log always. */
export class RecordStage implements Stage {
  readonly name = 'record';
  constructor(
    private readonly nflog: NotificationLog,
    private readonly deliveries: DeliveryRepo,
    private readonly key: string,
    private readonly integration: Integration,
    private readonly state: BranchState,
    private readonly onError: (err: unknown) => void,
    private readonly listener?: DeliveryListener,
  ) {}

  async exec(ctx: FlushContext, alerts: NotifyAlert[]): Promise<StageResult> {
    const outcome = this.state.outcome;
    if (outcome === null) return { alerts: null, ok: false };
    const ok = outcome === 'skipped' || outcome.ok;
    try {
      if (ok) await this.nflog.log(this.key, ctx.groupKey, this.state.firing, this.state.resolved, { now: ctx.now, repeatIntervalMs: ctx.repeatIntervalMs });
      if (outcome !== 'skipped') {
        await this.deliveries.record({
          at: ctx.now,
          receiver: ctx.receiver,
          integration: this.integration.type,
          groupKey: ctx.groupKey,
          idempotencyKey: this.state.idempotencyKey,
          status: outcome.ok ? 'ok' : 'failed',
          attempts: outcome.attempts,
          firing: this.state.sent.filter((a) => !isResolved(a, ctx.now)).length,
          resolved: this.state.sent.filter((a) => isResolved(a, ctx.now)).length,
          httpStatus: outcome.status,
          error: outcome.error,
          durationMs: outcome.durationMs,
        });
        this.listener?.({ receiver: ctx.receiver, integration: this.integration.type, ok: outcome.ok, attempts: outcome.attempts });
      }
    } catch (err) {
      // The notification went out; a log that could not be written is reported, not retried.
      this.onError(err);
    }
    return ok ? go(alerts) : { alerts: null, ok: false };
  }
}

/** What the pipeline is built from (the notifier adapts the configuration, silences and inhibitor). */
export interface PipelineDeps {
  /** The integrations of each receiver. */
  receivers: ReadonlyMap<string, readonly Integration[]>;
  inhibitedBy: (labels: Labels) => readonly string[];
  silencedBy: (labels: Labels, now: number) => readonly string[];
  timeIntervalActive: (names: readonly string[], now: number) => boolean;
  nflog: NotificationLog;
  deliveries: DeliveryRepo;
  delivery: DeliveryOptions;
  onError: (err: unknown) => void;
  listener?: DeliveryListener;
}

/**
 * The stages of one receiver, in Alertmanager's order. Branch state is per flush, so the chain is
 * built for each flush (a handful of objects).
 */
export function receiverPipeline(receiver: string, deps: PipelineDeps): Stage {
  const integrations = deps.receivers.get(receiver) ?? [];
  return new MultiStage([
    new InhibitStage(deps.inhibitedBy),
    new SilenceStage(deps.silencedBy),
    new TimeIntervalStage(deps.timeIntervalActive),
    new FanoutStage(
      integrations.map((integration) => {
        const key = receiverKey(receiver, integration.type, integration.index);
        const state: BranchState = { firing: [], resolved: [], idempotencyKey: '', outcome: null, sent: [] };
        return new MultiStage([
          new DedupStage(deps.nflog, key, integration, state),
          new RetryStage(integration, deps.delivery, state),
          new RecordStage(deps.nflog, deps.deliveries, key, integration, state, deps.onError, deps.listener),
        ]);
      }),
    ),
  ]);
}

/** Runs one flush of a group through its receiver's pipeline; true when every delivery it made succeeded. */
export async function runPipeline(ctx: FlushContext, alerts: NotifyAlert[], deps: PipelineDeps): Promise<boolean> {
  return (await receiverPipeline(ctx.receiver, deps).exec(ctx, alerts)).ok;
}
