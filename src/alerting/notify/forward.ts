/**
 * Forwarding to existing Alertmanagers (`alerting.forwardTo`): every alert the notifier takes is also
 * POSTed to each Alertmanager's `/api/v2/alerts` in its postable format, as Prometheus's notifier
 * does, so a team can keep its routing there. Alerts wait in a bounded queue (newest state of each
 * alert wins), go out in batches through the outbound guard, and each batch is retried with backoff.
 */
import type { OutboundPolicy } from '../../net/outbound.ts';
import type { Labels, NotifyAlert } from '../types.ts';
import { postJson } from './integrations/common.ts';
import { withRetry, type RetryClock, realRetryClock } from './retry.ts';

/** An alert in Alertmanager API v2's postable format. */
export interface PostableAlert {
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  endsAt?: string;
  generatorURL: string;
}

/** The postable form of an alert; pure. */
export function postableAlert(a: NotifyAlert): PostableAlert {
  const out: PostableAlert = { labels: a.labels, annotations: a.annotations, startsAt: new Date(a.startsAt).toISOString(), generatorURL: a.generatorURL };
  // A firing alert's end is when it lapses unless refreshed; a resolved one's is when it resolved.
  if (a.endsAt !== null) out.endsAt = new Date(a.endsAt).toISOString();
  else if (a.resolved) out.endsAt = new Date(a.startsAt).toISOString();
  return out;
}

/** Options of {@link AlertForwarder}. */
export interface ForwarderOptions {
  /** Alertmanager base URLs (`http://alertmanager:9093`). */
  urls: readonly string[];
  policy: () => OutboundPolicy;
  log: (level: 'warn' | 'error', msg: string) => void;
  clock?: RetryClock;
  /** Alerts per POST (Prometheus sends 64 by default; Alertmanager takes far more). */
  batchSize?: number;
  /** Alerts waiting at most; the oldest are dropped past it. */
  maxQueue?: number;
  /** How long one batch is retried. */
  retryForMs?: number;
  timeoutMs?: number;
}

/** Sends alerts to other Alertmanagers. */
export class AlertForwarder {
  private readonly queue = new Map<string, NotifyAlert>();
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private dropped = 0;

  constructor(private readonly opts: ForwarderOptions) {}

  /** The endpoint alerts are posted to for a base URL. */
  static endpoint(base: string): string {
    return `${base.replace(/\/+$/, '')}/api/v2/alerts`;
  }

  /** Queues alerts and starts sending if idle. */
  push(alerts: readonly NotifyAlert[]): void {
    if (this.opts.urls.length === 0 || this.abort.signal.aborted) return;
    const max = this.opts.maxQueue ?? 10_000;
    for (const a of alerts) {
      this.queue.delete(a.fingerprint);
      this.queue.set(a.fingerprint, a);
    }
    while (this.queue.size > max) {
      this.queue.delete(this.queue.keys().next().value!);
      this.dropped++;
    }
    this.running ??= this.drain().finally(() => {
      this.running = null;
      if (this.queue.size && !this.abort.signal.aborted) this.push([]);
    });
  }

  private async drain(): Promise<void> {
    if (this.dropped) {
      this.opts.log('warn', `alert forwarding queue full: ${this.dropped} alert updates dropped`);
      this.dropped = 0;
    }
    const size = this.opts.batchSize ?? 1000;
    while (this.queue.size && !this.abort.signal.aborted) {
      const batch = [...this.queue.values()].slice(0, size);
      for (const a of batch) this.queue.delete(a.fingerprint);
      const body = batch.map(postableAlert);
      await Promise.all(this.opts.urls.map((base) => this.send(base, body)));
    }
  }

  private async send(base: string, body: PostableAlert[]): Promise<void> {
    const clock = this.opts.clock ?? realRetryClock;
    const r = await withRetry(
      () => postJson(AlertForwarder.endpoint(base), body, {}, { idempotencyKey: '', policy: this.opts.policy(), timeoutMs: this.opts.timeoutMs ?? 10_000, signal: this.abort.signal }),
      { deadline: clock.now() + (this.opts.retryForMs ?? 60_000), clock, signal: this.abort.signal },
    );
    if (!r.ok) this.opts.log('warn', `forwarding ${body.length} alerts to an Alertmanager failed after ${r.attempts} attempts: ${r.error}`);
  }

  /** Stops retrying; waits (bounded by the caller) for the batch in flight. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
