/**
 * The dispatcher (Alertmanager's dispatch.go): routes each alert through the route tree and keeps one
 * aggregation group per (route, group labels). A group first flushes `group_wait` after it was
 * created — at once, in the same call, when group_wait is 0 or when an alert of a group that never
 * flushed is already older than group_wait — and then every `group_interval`. A flush hands the
 * group's alerts to the notification pipeline; once it succeeded, the resolved alerts it carried are
 * dropped (unless updated meanwhile), and a group left without alerts is removed.
 *
 * Timers are injected so that tests drive the groups with a fake clock.
 */
import type { Labels, NotifyAlert } from '../types.ts';

/** Timer functions the dispatcher runs on (the real ones by default; tests pass a fake clock). */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending group flush must not keep the process alive on its own.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** How the dispatcher sees the route tree (route.ts's functions, bound to one configuration). */
export interface Router<R> {
  /** The routes an alert goes to (depth-first, `continue` honoured). */
  match(labels: Labels): R[];
  /** A stable identity of a route in the tree, kept across reloads when the route is unchanged. */
  routeId(route: R): string;
  /** The group an alert joins on a route: its key and labels. */
  group(route: R, labels: Labels): { key: string; labels: Labels };
  /** group_wait and group_interval of a route, in ms. */
  timing(route: R): { groupWaitMs: number; groupIntervalMs: number };
}

/** What a flush hands to the pipeline. */
export interface GroupFlush<R> {
  route: R;
  groupKey: string;
  groupLabels: Labels;
  /** The group's alerts, sorted as Alertmanager sorts them. */
  alerts: NotifyAlert[];
  now: number;
  /** When the group flushes next: retries must end before it. */
  nextFlushAt: number;
}

/** The notification pipeline as the dispatcher calls it: resolves true when every receiver was notified. */
export type FlushFn<R> = (flush: GroupFlush<R>) => Promise<boolean>;

/** An aggregation group as listed (for status and tests). */
export interface GroupInfo {
  routeId: string;
  groupKey: string;
  groupLabels: Labels;
  receiver: string;
  alerts: string[];
  hasFlushed: boolean;
  nextFlushAt: number | null;
}

/** Alertmanager's alert order: by `job`, then `instance`, then the whole label set. */
export function compareAlerts(a: NotifyAlert, b: NotifyAlert): number {
  for (const key of ['job', 'instance']) {
    const x = a.labels[key];
    const y = b.labels[key];
    if (x === undefined && y === undefined) continue;
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    if (x !== y) return x < y ? -1 : 1;
  }
  const names = [...new Set([...Object.keys(a.labels), ...Object.keys(b.labels)])].sort();
  for (const n of names) {
    const x = a.labels[n];
    const y = b.labels[n];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

const isResolvedAt = (a: NotifyAlert, now: number) => a.resolved || (a.endsAt !== null && a.endsAt <= now);

/** One aggregation group. */
class AggregationGroup<R extends { receiver: string }> {
  readonly alerts = new Map<string, NotifyAlert>();
  hasFlushed = false;
  nextFlushAt: number | null = null;
  private timer: unknown = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    public route: R,
    public routeId: string,
    readonly key: string,
    readonly labels: Labels,
    private readonly owner: Dispatcher<R>,
  ) {}

  get flushing(): Promise<void> | null {
    return this.inFlight;
  }

  /** Arms the first flush after group_wait (at once for 0, or when an alert is already older than that). */
  start(now: number): void {
    const wait = this.owner.timingOf(this.route).groupWaitMs;
    const overdue = [...this.alerts.values()].some((a) => a.startsAt + wait <= now);
    this.schedule(overdue ? 0 : wait, now);
  }

  insert(alert: NotifyAlert, now: number): void {
    this.alerts.set(alert.fingerprint, alert);
    // Alertmanager: an alert already older than group_wait makes a group that never flushed flush now
    // (after a restart, firing alerts do not wait again).
    if (!this.hasFlushed && this.nextFlushAt !== null && this.nextFlushAt > now && alert.startsAt + this.owner.timingOf(this.route).groupWaitMs <= now) this.schedule(0, now);
  }

  /** Arms the next flush `ms` from now; 0 flushes in this call. */
  schedule(ms: number, now: number): void {
    if (this.stopped) return;
    if (this.timer !== null) this.owner.timers.clearTimeout(this.timer);
    this.timer = null;
    this.nextFlushAt = now + ms;
    if (ms <= 0) this.tick();
    else this.timer = this.owner.timers.setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.timer = null;
    const now = this.owner.timers.now();
    const interval = this.owner.timingOf(this.route).groupIntervalMs;
    // The next flush is armed before this one runs, as Alertmanager does: the interval counts from here.
    this.nextFlushAt = now + interval;
    this.timer = this.owner.timers.setTimeout(() => this.tick(), interval);
    // A flush still delivering (retrying) is not overlapped: this tick runs once it is done, as
    // Alertmanager's group loop takes a timer that fired during a long flush right after it.
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.run(now, this.nextFlushAt);
  }

  private run(now: number, nextFlushAt: number): void {
    this.inFlight = this.flush(now, nextFlushAt).finally(() => {
      this.inFlight = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.run(this.owner.timers.now(), this.nextFlushAt ?? this.owner.timers.now());
      }
    });
  }

  private async flush(now: number, nextFlushAt: number): Promise<void> {
    if (this.alerts.size === 0) {
      this.owner.remove(this);
      return;
    }
    const snapshot = [...this.alerts.values()].sort(compareAlerts);
    this.hasFlushed = true;
    let ok = false;
    try {
      ok = await this.owner.flushFn({ route: this.route, groupKey: this.key, groupLabels: this.labels, alerts: snapshot, now, nextFlushAt });
    } catch (err) {
      this.owner.onError(err);
    }
    if (!ok) return;
    // Resolved alerts that were notified leave the group, unless they changed while it was flushing.
    for (const a of snapshot) if (isResolvedAt(a, now) && this.alerts.get(a.fingerprint) === a) this.alerts.delete(a.fingerprint);
    if (this.alerts.size === 0) this.owner.remove(this);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.owner.timers.clearTimeout(this.timer);
    this.timer = null;
    this.nextFlushAt = null;
  }
}

/** Routes alerts into aggregation groups and flushes them on their timers. */
export class Dispatcher<R extends { receiver: string }> {
  private readonly groups = new Map<string, AggregationGroup<R>>();
  private stopped = false;

  constructor(
    private router: Router<R>,
    readonly flushFn: FlushFn<R>,
    readonly timers: Timers = realTimers,
    readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** @internal timing of a route under the current router. */
  timingOf(route: R): { groupWaitMs: number; groupIntervalMs: number } {
    return this.router.timing(route);
  }

  private static id(routeId: string, groupKey: string): string {
    return `${routeId}\u0000${groupKey}`;
  }

  /** Adds or updates alerts (firing and resolved) in every group their routes lead to. */
  insert(alerts: readonly NotifyAlert[]): void {
    if (this.stopped) return;
    const now = this.timers.now();
    const created: AggregationGroup<R>[] = [];
    for (const alert of alerts) {
      for (const route of this.router.match(alert.labels)) {
        const routeId = this.router.routeId(route);
        const { key, labels } = this.router.group(route, alert.labels);
        const id = Dispatcher.id(routeId, key);
        let g = this.groups.get(id);
        if (!g) {
          g = new AggregationGroup(route, routeId, key, labels, this);
          this.groups.set(id, g);
          created.push(g);
        }
        g.insert(alert, now);
      }
    }
    // New groups arm their timers once all of this batch is in: a group_wait of 0 then flushes the
    // whole batch together, in this call.
    for (const g of created) if (g.nextFlushAt === null) g.start(now);
  }

  /**
   * Switches to a new route tree (configuration reload): every alert held is routed again; a group
   * whose route and key survive keeps its timer and flush state, the others are stopped, and new
   * groups start their group_wait.
   */
  reroute(router: Router<R>): void {
    this.router = router;
    const old = new Map(this.groups);
    const alerts = new Map<string, NotifyAlert>();
    for (const g of old.values()) for (const a of g.alerts.values()) alerts.set(a.fingerprint, a);
    this.groups.clear();
    const now = this.timers.now();
    const fresh: AggregationGroup<R>[] = [];
    for (const alert of alerts.values()) {
      for (const route of router.match(alert.labels)) {
        const routeId = router.routeId(route);
        const { key, labels } = router.group(route, alert.labels);
        const id = Dispatcher.id(routeId, key);
        let g = this.groups.get(id);
        if (!g) {
          const kept = old.get(id);
          if (kept) {
            old.delete(id);
            kept.route = route;
            kept.alerts.clear();
            g = kept;
          } else {
            g = new AggregationGroup(route, routeId, key, labels, this);
            fresh.push(g);
          }
          this.groups.set(id, g);
        }
        g.alerts.set(alert.fingerprint, alert);
      }
    }
    for (const g of old.values()) g.stop();
    for (const g of fresh) g.start(now);
  }

  /** @internal removes an emptied group. */
  remove(g: AggregationGroup<R>): void {
    const id = Dispatcher.id(g.routeId, g.key);
    if (this.groups.get(id) === g && g.alerts.size === 0) {
      g.stop();
      this.groups.delete(id);
    }
  }

  /** The groups held now. */
  list(): GroupInfo[] {
    return [...this.groups.values()].map((g) => ({
      routeId: g.routeId,
      groupKey: g.key,
      groupLabels: g.labels,
      receiver: g.route.receiver,
      alerts: [...g.alerts.keys()],
      hasFlushed: g.hasFlushed,
      nextFlushAt: g.nextFlushAt,
    }));
  }

  /** Fingerprints held by any group (alerts still owed a notification). */
  heldFingerprints(): Set<string> {
    const out = new Set<string>();
    for (const g of this.groups.values()) for (const fp of g.alerts.keys()) out.add(fp);
    return out;
  }

  /** Flushes in progress (for a bounded wait at shutdown). */
  inFlight(): Promise<void>[] {
    return [...this.groups.values()].map((g) => g.flushing).filter((p): p is Promise<void> => p !== null);
  }

  /** Stops every timer; flushes in progress go on (see {@link inFlight}). */
  stop(): Promise<void>[] {
    this.stopped = true;
    const pending = this.inFlight();
    for (const g of this.groups.values()) g.stop();
    return pending;
  }
}
