/**
 * The rule manager (Prometheus `rules/manager.go` + `group.go`): holds the loaded rule groups, runs
 * each rule's evaluation on its group's interval and — the reason Vigil alerts within a second — at
 * once when committed telemetry touches it, persists what each evaluation changed and hands the
 * rule's firing and resolved alerts to the notifier.
 *
 *   RuleFiles ─ setGroups ─▶ entries (instances kept by rule id across reloads)
 *   group timer (aligned offset) ─┐
 *   onCommit → relevance index ───┴▶ request(rule) ─▶ [semaphore: maxConcurrent; pushed rules first] ─▶ evaluate(rule, now, previous)
 *        ─▶ store.write(instances, transitions, health) ─▶ notifier.update(firing + resolved)
 *
 * Scheduling rules:
 * - an evaluation of a rule never overlaps another of the same rule: a request while one runs marks it
 *   to run once more afterwards (coalescing);
 * - pushes are debounced (PUSH_DEBOUNCE_MS: the commits of one burst make one request) and spaced per
 *   rule by at least PUSH_MIN_SPACING_MS (more for a rule whose evaluation is slow), while the
 *   group's interval timer keeps running, so a rule is never evaluated less often than its interval.
 *
 * Time comes from `now()`, I/O through the injected evaluate function, store and notifier, so the
 * manager is tested with fakes of those and a fake clock.
 */
import { parseQuery } from '../query/parser.ts';
import type { Dataset, SearchNode } from '../query/ast.ts';
import type { TelemetryBatch } from '../model/telemetry.ts';
import type { AlertInstance, AlertState, AlertTransition, NotifyAlert, RuleGroupSpec, RuleHealth, RuleSpec } from './types.ts';

/** What one evaluation of a rule yields (the evaluator's answer). */
export interface EvaluationResult {
  instances: AlertInstance[];
  transitions: AlertTransition[];
  health: RuleHealth;
}

/** Evaluates one rule at `now` given its previous instances (the pure evaluator with its source bound). */
export type EvaluateFn = (rule: RuleSpec, now: number, previous: AlertInstance[]) => Promise<EvaluationResult>;

/** Where evaluations are persisted (src/store/state/alerts.ts). */
export interface AlertPersistence {
  instances(): Promise<AlertInstance[]>;
  health(): Promise<Map<string, RuleHealth>>;
  write(w: { ruleId: string; instances?: AlertInstance[]; transitions: AlertTransition[]; health?: RuleHealth }): Promise<void>;
  forgetRule(ruleId: string): Promise<void>;
}

/** Takes the alerts of each evaluation (the notifier). */
export interface AlertSink {
  update(alerts: NotifyAlert[]): void;
}

/** Counters the manager reports to (Vigil's own /metrics). */
export interface ManagerMetrics {
  evaluated(seconds: number, ok: boolean): void;
}

/** What the manager needs. */
export interface RuleManagerDeps {
  evaluate: EvaluateFn;
  store: AlertPersistence;
  notifier: AlertSink;
  /** Rules evaluated at once (`alerting.maxConcurrent`). */
  maxConcurrent: number;
  /** How long a resolved alert of a removed rule is kept (and re-sent as resolved). */
  resolvedRetentionMs: number;
  /** The base URL of Vigil's UI, for each alert's generatorURL (read when an alert is sent). */
  externalUrl: () => string;
  now?: () => number;
  metrics?: ManagerMetrics;
  log?: (level: 'info' | 'warn' | 'error', message: string, err?: unknown) => void;
}

/** A rule as the API shows it: its spec, current instances and health. */
export interface RuleView {
  rule: RuleSpec;
  instances: readonly AlertInstance[];
  health: RuleHealth;
}

/** A group as the API shows it. */
export interface GroupView {
  group: RuleGroupSpec;
  rules: RuleView[];
}

/** Commits of one burst are gathered this long before the rules they touch are evaluated. */
export const PUSH_DEBOUNCE_MS = 25;
/** A rule is evaluated by push at most this often. */
export const PUSH_MIN_SPACING_MS = 250;
/**
 * A failed evaluation (a busy query gate, a storage error) is tried again after this long when the rule's
 * interval is longer: an alert must not wait a whole long interval because one evaluation failed.
 */
export const ERROR_RETRY_MS = 15_000;
/** Instances whose only change is their value are written at most this often (state changes at once). */
const PERSIST_REFRESH_MS = 30_000;
/** Orphaned alerts (of removed rules) are re-sent and pruned this often. */
const HOUSEKEEPING_MS = 10_000;
/** Firing alerts are valid for this many intervals unless re-sent (Prometheus: 4 × resend delay). */
const VALIDITY_INTERVALS = 4;

/** Which committed rows a rule reads: decides whether a commit makes it evaluate. */
export type Relevance =
  | { kind: 'query'; dataset: Dataset | null; services: string[] | null }
  | { kind: 'metric'; name: string }
  | { kind: 'monitor' };

/**
 * What a rule reads, for the push filter: a query rule its dataset and — when its leading search pins
 * `service.name` (or `service`) to exact values at top level, joined by AND only — those services;
 * a metric rule its metric name; a monitor rule monitor state changes. A query that does not parse
 * (it will fail its evaluation anyway) reads anything.
 */
export function relevanceOf(rule: RuleSpec): Relevance {
  const src = rule.source;
  if (src.kind === 'metric') return { kind: 'metric', name: src.metric.name };
  if (src.kind === 'monitor') return { kind: 'monitor' };
  try {
    const q = parseQuery(src.query);
    return { kind: 'query', dataset: q.dataset, services: pinnedServices(q.search) };
  } catch {
    return { kind: 'query', dataset: null, services: null };
  }
}

const SERVICE_FIELDS = new Set(['service.name', 'service']);

function exactValue(v: { raw: string; text: string }): string | null {
  // A `*` is a wildcard and a backslash an escape: only plain values pin a service.
  return /[*\\]/.test(v.raw) ? null : v.text;
}

function pinnedServices(node: SearchNode): string[] | null {
  if (node.type === 'compare' && SERVICE_FIELDS.has(node.field) && node.op === '=') {
    const v = exactValue(node.value);
    return v === null ? null : [v];
  }
  if (node.type === 'in' && SERVICE_FIELDS.has(node.field)) {
    const vs = node.values.map(exactValue);
    return vs.every((v): v is string => v !== null) ? vs : null;
  }
  if (node.type === 'and') {
    // Any one pinned term of a conjunction bounds the whole search.
    for (const item of node.items) {
      const pinned = pinnedServices(item);
      if (pinned) return pinned;
    }
  }
  return null;
}

/** The event name of the log record the monitor scheduler writes on each monitor state change. */
export const MONITOR_STATE_CHANGE_EVENT = 'vigil.monitor.state_change';

/** What a burst of commits touched. */
interface Touched {
  datasets: Set<Dataset>;
  services: Map<Dataset, Set<string>>;
  metrics: Set<string>;
  monitors: boolean;
}

function emptyTouched(): Touched {
  return { datasets: new Set(), services: new Map([['logs', new Set()], ['spans', new Set()]]), metrics: new Set(), monitors: false };
}

interface GroupEntry {
  key: string;
  spec: RuleGroupSpec;
  timer?: NodeJS.Timeout;
}

interface RuleEntry {
  rule: RuleSpec;
  group: GroupEntry;
  instances: AlertInstance[];
  health: RuleHealth;
  relevance: Relevance;
  running: Promise<void> | null;
  rerun: boolean;
  /** Whether the next run was asked for by pushed data (jumps the queue). */
  rerunUrgent: boolean;
  /** The queue place of a run waiting for its turn. */
  ticket?: Ticket;
  removed: boolean;
  lastPushAt: number;
  pushTimer?: NodeJS.Timeout;
  /** The early retry of a failed evaluation. */
  retryTimer?: NodeJS.Timeout;
  persistedSig: string;
  persistedAt: number;
  healthSig: string;
  healthAt: number;
}

interface Orphan {
  ruleId: string;
  instances: AlertInstance[];
  intervalMs: number;
}

const UNKNOWN: RuleHealth = { health: 'unknown', lastError: null, lastEvaluation: null, evaluationMs: null };

/** A place in the evaluation queue; `urgent` may be raised while it waits. */
interface Ticket {
  urgent: boolean;
  resolve?: () => void;
}

/**
 * A counting semaphore (at most `limit` holders) with two lanes: urgent tickets — evaluations pushed by
 * new data, whose alerts someone is waiting for — go before the interval evaluations already queued.
 */
class Semaphore {
  private held = 0;
  private readonly waiting: Ticket[] = [];
  constructor(private readonly limit: number) {}
  acquire(ticket: Ticket): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      ticket.resolve = resolve;
      this.waiting.push(ticket);
    });
  }
  release(): void {
    const urgent = this.waiting.findIndex((t) => t.urgent);
    const [next] = this.waiting.splice(urgent >= 0 ? urgent : 0, 1);
    if (next) next.resolve!();
    else this.held--;
  }
}

/** Stable 32-bit hash (FNV-1a) of a group key, for its evaluation offset. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The next evaluation time of a group after `now`: multiples of its interval shifted by an offset
 * derived from the group's key, so groups of the same interval are spread over it instead of all
 * evaluating at once (Prometheus `EvalTimestamp`).
 */
export function nextEvaluation(groupKey: string, intervalMs: number, now: number): number {
  const offset = hash32(groupKey) % intervalMs;
  return Math.floor((now - offset) / intervalMs) * intervalMs + offset + intervalMs;
}

function signature(instances: readonly AlertInstance[]): string {
  return instances.map((a) => `${a.fingerprint}:${a.state}:${a.activeAt}:${a.firedAt}:${a.resolvedAt}:${a.flap.flapping}:${a.flap.changes.length}`).join(',');
}

/** The Prometheus/Vigil state of a rule: the worst of its instances. */
export function ruleState(instances: readonly AlertInstance[]): 'inactive' | 'pending' | 'firing' {
  if (instances.some((a) => a.state === 'firing')) return 'firing';
  if (instances.some((a) => a.state === 'pending')) return 'pending';
  return 'inactive';
}

/** Schedules, evaluates, persists and notifies rules; see the module comment. */
export class RuleManager {
  private groups = new Map<string, GroupEntry>();
  private rules = new Map<string, RuleEntry>();
  private orphans = new Map<string, Orphan>();
  private byDataset = new Map<Dataset, { all: RuleEntry[]; byService: Map<string, RuleEntry[]> }>();
  private byMetric = new Map<string, RuleEntry[]>();
  private monitorRules: RuleEntry[] = [];
  private touched = emptyTouched();
  private debounce?: NodeJS.Timeout;
  private housekeeping?: NodeJS.Timeout;
  private readonly semaphore: Semaphore;
  private readonly now: () => number;
  private started = false;
  private stopped = false;

  constructor(private readonly deps: RuleManagerDeps) {
    this.now = deps.now ?? Date.now;
    this.semaphore = new Semaphore(Math.max(1, deps.maxConcurrent));
  }

  /**
   * Replaces the loaded groups (on start and on every rule file change). Rules keep their alerts by
   * id; a removed rule's firing alerts are resolved and notified, its pending ones dropped. After
   * start, new and changed rules are evaluated at once, so an edit shows without waiting.
   */
  setGroups(specs: readonly RuleGroupSpec[]): void {
    const now = this.now();
    const nextGroups = new Map<string, GroupEntry>();
    const nextRules = new Map<string, RuleEntry>();
    const changed: RuleEntry[] = [];
    for (const spec of specs) {
      const key = `${spec.file}\u0000${spec.name}`;
      const old = this.groups.get(key);
      const group: GroupEntry = old ?? { key, spec };
      if (old && old.spec.intervalMs !== spec.intervalMs) this.unscheduleGroup(old);
      group.spec = spec;
      nextGroups.set(key, group);
      for (const rule of spec.rules) {
        const prev = this.rules.get(rule.id);
        if (prev && !nextRules.has(rule.id)) {
          const same = JSON.stringify(prev.rule) === JSON.stringify(rule);
          prev.rule = rule;
          prev.group = group;
          prev.relevance = relevanceOf(rule);
          nextRules.set(rule.id, prev);
          if (!same) changed.push(prev);
          continue;
        }
        const entry: RuleEntry = {
          rule,
          group,
          instances: this.adoptOrphan(rule.id),
          health: UNKNOWN,
          relevance: relevanceOf(rule),
          running: null,
          rerun: false,
          rerunUrgent: false,
          removed: false,
          lastPushAt: 0,
          persistedSig: '',
          persistedAt: 0,
          healthSig: '',
          healthAt: 0,
        };
        nextRules.set(rule.id, entry);
        changed.push(entry);
      }
    }
    for (const [key, group] of this.groups) if (!nextGroups.has(key)) this.unscheduleGroup(group);
    for (const [id, entry] of this.rules) if (!nextRules.has(id)) this.removeRule(entry, now);
    this.groups = nextGroups;
    this.rules = nextRules;
    this.buildIndex();
    if (!this.started || this.stopped) return;
    for (const group of this.groups.values()) if (!group.timer) this.scheduleGroup(group);
    for (const entry of changed) this.request(entry);
  }

  /**
   * Loads persisted alerts and hands the firing and resolved ones to the notifier before any
   * evaluation (its persisted notification log decides what was already sent), then starts the group
   * timers. Call after the first `setGroups` and after the notifier has started.
   */
  async start(): Promise<void> {
    if (this.started) return;
    const now = this.now();
    const [persisted, health] = await Promise.all([this.deps.store.instances(), this.deps.store.health()]);
    const byRule = new Map<string, AlertInstance[]>();
    for (const a of persisted) byRule.set(a.ruleId, [...(byRule.get(a.ruleId) ?? []), a]);
    for (const [ruleId, instances] of byRule) {
      const entry = this.rules.get(ruleId);
      if (entry) {
        entry.instances = instances;
        entry.persistedSig = signature(instances);
        entry.persistedAt = now;
        entry.health = health.get(ruleId) ?? UNKNOWN;
      } else {
        await this.orphan(ruleId, instances, 15_000, now);
      }
    }
    for (const entry of this.rules.values()) if (!byRule.has(entry.rule.id)) entry.health = health.get(entry.rule.id) ?? UNKNOWN;
    for (const entry of this.rules.values()) this.notify(entry, now);
    this.resendOrphans(now);
    this.started = true;
    for (const group of this.groups.values()) this.scheduleGroup(group);
    this.housekeeping = setInterval(() => void this.tidyOrphans(), HOUSEKEEPING_MS);
    this.housekeeping.unref();
  }

  /** Stops timers and waits (at most `waitMs`) for running evaluations. */
  async stop(waitMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.debounce);
    clearInterval(this.housekeeping);
    for (const g of this.groups.values()) this.unscheduleGroup(g);
    for (const r of this.rules.values()) (clearTimeout(r.pushTimer), clearTimeout(r.retryTimer));
    const running = [...this.rules.values()].map((r) => r.running).filter((p): p is Promise<void> => p !== null);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(running), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  /**
   * The ingest pipeline's commit hook: notes what the batches touched and, after a short debounce,
   * evaluates the rules that read it. Cheap and synchronous; never throws.
   */
  onCommit(batches: readonly TelemetryBatch[]): void {
    // Before start there is nothing to wake (and with alerting disabled, nothing ever).
    if (this.stopped || !this.started) return;
    const t = this.touched;
    for (const b of batches) {
      if (b.spans.length) this.noteServices('spans', b.spans);
      if (b.logs.length) {
        this.noteServices('logs', b.logs);
        if (this.monitorRules.length && !t.monitors) t.monitors = b.logs.some((l) => l.attributes['event.name'] === MONITOR_STATE_CHANGE_EVENT);
      }
      if (this.byMetric.size) for (const m of b.metrics) t.metrics.add(m.name);
    }
    if (!this.debounce) {
      this.debounce = setTimeout(() => this.flushTouched(), PUSH_DEBOUNCE_MS);
      this.debounce.unref();
    }
  }

  private noteServices(dataset: Dataset, rows: readonly { resource: { serviceName: string } }[]): void {
    this.touched.datasets.add(dataset);
    const services = this.touched.services.get(dataset)!;
    // Rows of one request share their resource object: look at each resource once.
    let last: unknown;
    for (const r of rows) {
      if (r.resource === last) continue;
      last = r.resource;
      services.add(r.resource.serviceName);
    }
  }

  private flushTouched(): void {
    this.debounce = undefined;
    const t = this.touched;
    this.touched = emptyTouched();
    const affected = new Set<RuleEntry>();
    for (const dataset of t.datasets) {
      const idx = this.byDataset.get(dataset);
      if (!idx) continue;
      for (const e of idx.all) affected.add(e);
      for (const s of t.services.get(dataset) ?? []) for (const e of idx.byService.get(s) ?? []) affected.add(e);
    }
    for (const name of t.metrics) for (const e of this.byMetric.get(name) ?? []) affected.add(e);
    if (t.monitors) for (const e of this.monitorRules) affected.add(e);
    for (const e of affected) this.push(e);
  }

  private push(entry: RuleEntry): void {
    if (entry.pushTimer || this.stopped) return;
    // A slow rule is pushed less often, so that steady ingest cannot keep it evaluating back to back.
    const spacing = Math.min(entry.rule.intervalMs, Math.max(PUSH_MIN_SPACING_MS, 4 * (entry.health.evaluationMs ?? 0)));
    const wait = entry.lastPushAt + spacing - this.now();
    const go = () => {
      entry.pushTimer = undefined;
      entry.lastPushAt = this.now();
      this.request(entry, true);
    };
    if (wait <= 0) go();
    else {
      entry.pushTimer = setTimeout(go, wait);
      entry.pushTimer.unref();
    }
  }

  private buildIndex(): void {
    this.byDataset = new Map();
    this.byMetric = new Map();
    this.monitorRules = [];
    const datasetIndex = (d: Dataset) => {
      let idx = this.byDataset.get(d);
      if (!idx) this.byDataset.set(d, (idx = { all: [], byService: new Map() }));
      return idx;
    };
    for (const e of this.rules.values()) {
      const r = e.relevance;
      if (r.kind === 'metric') this.byMetric.set(r.name, [...(this.byMetric.get(r.name) ?? []), e]);
      else if (r.kind === 'monitor') this.monitorRules.push(e);
      else {
        for (const d of r.dataset ? [r.dataset] : (['logs', 'spans'] as const)) {
          const idx = datasetIndex(d);
          if (!r.services) idx.all.push(e);
          else for (const s of r.services) idx.byService.set(s, [...(idx.byService.get(s) ?? []), e]);
        }
      }
    }
  }

  private scheduleGroup(group: GroupEntry): void {
    if (this.stopped) return;
    const at = nextEvaluation(group.key, group.spec.intervalMs, this.now());
    group.timer = setTimeout(() => {
      group.timer = undefined;
      for (const rule of group.spec.rules) {
        const entry = this.rules.get(rule.id);
        if (entry) this.request(entry);
      }
      if (this.groups.get(group.key) === group) this.scheduleGroup(group);
    }, Math.max(0, at - this.now()));
    group.timer.unref();
  }

  private unscheduleGroup(group: GroupEntry): void {
    clearTimeout(group.timer);
    group.timer = undefined;
  }

  /**
   * Evaluates a rule now, or once more right after the evaluation in progress. `urgent` (pushed data)
   * puts it ahead of queued interval evaluations, also when it is already waiting.
   */
  private request(entry: RuleEntry, urgent = false): Promise<void> {
    if (this.stopped || entry.removed) return Promise.resolve();
    if (entry.running) {
      if (urgent && entry.ticket) entry.ticket.urgent = true;
      else {
        entry.rerun = true;
        entry.rerunUrgent ||= urgent;
      }
      return entry.running;
    }
    const run = async () => {
      let first = true;
      do {
        const ticket: Ticket = { urgent: first ? urgent : entry.rerunUrgent };
        first = false;
        entry.rerun = false;
        entry.rerunUrgent = false;
        entry.ticket = ticket;
        await this.semaphore.acquire(ticket);
        entry.ticket = undefined;
        try {
          await this.evaluate(entry);
        } catch (err) {
          this.deps.log?.('error', `evaluating rule ${entry.rule.id} failed`, err);
        } finally {
          this.semaphore.release();
        }
      } while (entry.rerun && !this.stopped && !entry.removed);
    };
    entry.running = run().finally(() => (entry.running = null));
    return entry.running;
  }

  private async evaluate(entry: RuleEntry): Promise<void> {
    if (entry.removed || this.stopped) return;
    const rule = entry.rule;
    const now = this.now();
    const started = performance.now();
    let result: EvaluationResult;
    try {
      result = await this.deps.evaluate(rule, now, entry.instances);
    } catch (err) {
      // The evaluator answers errors as health; anything thrown keeps the alerts as they were.
      result = { instances: entry.instances, transitions: [], health: { health: 'err', lastError: (err as Error).message ?? String(err), lastEvaluation: now, evaluationMs: performance.now() - started } };
    }
    this.deps.metrics?.evaluated((performance.now() - started) / 1000, result.health.health !== 'err');
    // Removed while it ran: the removal already resolved and notified its alerts.
    if (entry.removed) return;
    entry.instances = result.instances;
    entry.health = result.health;
    this.retryIfFailed(entry);
    await this.persist(entry, result.transitions, now);
    this.notify(entry, now);
  }

  /** After a failed evaluation of a rule with a long interval, evaluates it again soon (once per failure). */
  private retryIfFailed(entry: RuleEntry): void {
    clearTimeout(entry.retryTimer);
    entry.retryTimer = undefined;
    if (entry.health.health !== 'err' || entry.rule.intervalMs <= ERROR_RETRY_MS || this.stopped || entry.removed) return;
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = undefined;
      void this.request(entry);
    }, ERROR_RETRY_MS);
    entry.retryTimer.unref();
  }

  private async persist(entry: RuleEntry, transitions: AlertTransition[], now: number): Promise<void> {
    const sig = signature(entry.instances);
    const writeInstances = sig !== entry.persistedSig || (entry.instances.length > 0 && now - entry.persistedAt >= PERSIST_REFRESH_MS);
    const h = entry.health;
    const healthSig = `${h.health}:${h.lastError ?? ''}`;
    const writeHealth = healthSig !== entry.healthSig || now - entry.healthAt >= PERSIST_REFRESH_MS;
    if (!writeInstances && !writeHealth && transitions.length === 0) return;
    try {
      await this.deps.store.write({ ruleId: entry.rule.id, instances: writeInstances ? entry.instances : undefined, transitions, health: writeHealth ? h : undefined });
      if (writeInstances) {
        entry.persistedSig = sig;
        entry.persistedAt = now;
      }
      if (writeHealth) {
        entry.healthSig = healthSig;
        entry.healthAt = now;
      }
    } catch (err) {
      this.deps.log?.('error', `saving the alerts of rule ${entry.rule.id} failed`, err);
    }
  }

  /** Hands a rule's firing and resolved alerts to the notifier (re-sent on every evaluation; it dedups). */
  private notify(entry: RuleEntry, now: number): void {
    const alerts = this.toNotify(entry.rule.id, entry.instances, entry.rule.intervalMs, now);
    if (alerts.length) this.deps.notifier.update(alerts);
  }

  private toNotify(ruleId: string, instances: readonly AlertInstance[], intervalMs: number, now: number): NotifyAlert[] {
    const out: NotifyAlert[] = [];
    const generatorURL = `${this.deps.externalUrl().replace(/\/$/, '')}/alerts/rules/${encodeURIComponent(ruleId)}`;
    for (const a of instances) {
      if (a.state !== 'firing' && a.state !== 'resolved') continue;
      const resolved = a.state === 'resolved';
      out.push({
        fingerprint: a.fingerprint,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.firedAt ?? a.activeAt,
        endsAt: resolved ? (a.resolvedAt ?? now) : now + VALIDITY_INTERVALS * intervalMs,
        generatorURL,
        resolved,
      });
    }
    return out;
  }

  private removeRule(entry: RuleEntry, now: number): void {
    entry.removed = true;
    clearTimeout(entry.pushTimer);
    clearTimeout(entry.retryTimer);
    void this.orphan(entry.rule.id, entry.instances, entry.rule.intervalMs, now).then(() => this.resendOrphans(now, entry.rule.id));
  }

  /**
   * Keeps the alerts of a rule that no longer exists until their resolved notification is out:
   * firing ones resolve now, pending ones are dropped, resolved ones stay for the retention.
   */
  private async orphan(ruleId: string, instances: readonly AlertInstance[], intervalMs: number, now: number): Promise<void> {
    const transitions: AlertTransition[] = [];
    const kept: AlertInstance[] = [];
    for (const a of instances) {
      if (a.state === 'firing') {
        kept.push({ ...a, state: 'resolved', resolvedAt: now, lastEvalAt: now });
        transitions.push({ ruleId, fingerprint: a.fingerprint, labels: a.labels, from: 'firing', to: 'resolved', at: now, value: a.value });
      } else if (a.state === 'resolved' && (a.resolvedAt ?? now) > now - this.deps.resolvedRetentionMs) {
        kept.push(a);
      }
    }
    try {
      if (kept.length) {
        this.orphans.set(ruleId, { ruleId, instances: kept, intervalMs });
        await this.deps.store.write({ ruleId, instances: kept, transitions });
      } else {
        this.orphans.delete(ruleId);
        if (transitions.length) await this.deps.store.write({ ruleId, instances: [], transitions });
        await this.deps.store.forgetRule(ruleId);
      }
    } catch (err) {
      this.deps.log?.('error', `saving the alerts of removed rule ${ruleId} failed`, err);
    }
  }

  /** A rule that comes back (file restored, renamed back) takes its orphaned alerts again. */
  private adoptOrphan(ruleId: string): AlertInstance[] {
    const o = this.orphans.get(ruleId);
    if (!o) return [];
    this.orphans.delete(ruleId);
    return o.instances;
  }

  private resendOrphans(now: number, only?: string): void {
    const alerts: NotifyAlert[] = [];
    for (const o of this.orphans.values()) if (!only || o.ruleId === only) alerts.push(...this.toNotify(o.ruleId, o.instances, o.intervalMs, now));
    if (alerts.length) this.deps.notifier.update(alerts);
  }

  private async tidyOrphans(): Promise<void> {
    const now = this.now();
    for (const o of [...this.orphans.values()]) {
      const kept = o.instances.filter((a) => (a.resolvedAt ?? now) > now - this.deps.resolvedRetentionMs);
      if (kept.length === o.instances.length) continue;
      o.instances = kept;
      try {
        if (kept.length) await this.deps.store.write({ ruleId: o.ruleId, instances: kept, transitions: [] });
        else {
          this.orphans.delete(o.ruleId);
          await this.deps.store.forgetRule(o.ruleId);
        }
      } catch (err) {
        this.deps.log?.('error', `pruning the alerts of removed rule ${o.ruleId} failed`, err);
      }
    }
    this.resendOrphans(now);
  }

  /** Evaluates every rule once, now, and resolves when all are done (benchmarks, tests, "evaluate now"). */
  async evaluateAll(): Promise<void> {
    await Promise.all([...this.rules.values()].map((e) => this.request(e)));
  }

  /** Evaluates one rule now; false when there is no such rule. */
  async evaluateRule(id: string): Promise<boolean> {
    const entry = this.rules.get(id);
    if (!entry) return false;
    await this.request(entry);
    return true;
  }

  /** The loaded groups with their rules' alerts and health, in file order. */
  groupViews(): GroupView[] {
    return [...this.groups.values()].map((g) => ({
      group: g.spec,
      rules: g.spec.rules.map((r) => this.rules.get(r.id)).filter((e): e is RuleEntry => e !== undefined).map((e) => ({ rule: e.rule, instances: e.instances, health: e.health })),
    }));
  }

  /** One rule with its alerts and health. */
  ruleView(id: string): RuleView | undefined {
    const e = this.rules.get(id);
    return e ? { rule: e.rule, instances: e.instances, health: e.health } : undefined;
  }

  /** Instances per state over all rules (including resolved alerts of removed rules), for /metrics. */
  counts(): Record<AlertState, number> {
    const counts: Record<AlertState, number> = { inactive: 0, pending: 0, firing: 0, resolved: 0 };
    for (const e of this.rules.values()) for (const a of e.instances) counts[a.state]++;
    for (const o of this.orphans.values()) for (const a of o.instances) counts[a.state]++;
    return counts;
  }
}
