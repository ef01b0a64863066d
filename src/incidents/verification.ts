/**
 * Post-resolution verification, the job (issue 14 §7; the checks themselves are pure, in verify.ts):
 *
 *   status → resolved ─▶ baselines (the hour before the incident began) ─▶ verification_started
 *       (the checks, endsAt = now + incidents.verificationWindow); the incident's monitors run at once
 *   every ~15 s ─▶ alerts, traffic over the window so far, monitors ─▶ checks (shown live on the incident)
 *       any failed ─▶ verification_finished failed + status reopened (note: the reason)
 *       all passing at endsAt ─▶ verification_finished verified + status closed        (actor `vigil`)
 *   a person reopens or closes it meanwhile ─▶ verification_finished cancelled
 *   Vigil starts ─▶ running verifications of resolved incidents resume from their timelines
 *
 * The outcome and the status change are one write (IncidentService.recordIf), guarded by the
 * verification still running, so a person's move in between wins and nothing is recorded twice.
 */
import type { RuleManager } from '../alerting/manager.ts';
import type { Monitoring } from '../monitors/runtime.ts';
import type { MonitorSpec } from '../monitors/spec.ts';
import type { QueryResult } from '../query/executor.ts';
import type { QueryService, SearchOptions } from '../query/service.ts';
import type { IncidentView, VerificationCheck } from './reducer.ts';
import type { IncidentService } from './service.ts';
import type { IncidentStatus } from './state.ts';
import { alertCheck, alertCheckName, errorRateCheck, incidentMonitors, latencyCheck, monitorCheck, outcomeOf, type AlertNow, type MonitorNow, type TrafficStats } from './verify.ts';
import { quote, searchLink, serviceLink } from '../diagnosis/links.ts';

/** The baseline is this long before the incident began. */
export const BASELINE_MS = 60 * 60_000;

/** What verification reads: the rule manager's alerts, the monitors, telemetry through the query service. */
export interface VerificationSources {
  /** An alert instance as the rule manager holds it now; undefined when its rule is gone. */
  alert(ruleId: string, fingerprint: string): AlertNow | undefined;
  /** The monitors that run, with their current state. */
  monitors(): Promise<MonitorNow[]>;
  /** Runs a monitor's check now (the regression suite). */
  runMonitor(id: string): Promise<void>;
  /** The query language over a time range (QueryService.search). */
  search(text: string, options: SearchOptions): Promise<QueryResult>;
}

/** What the job needs. */
export interface VerificationDeps {
  incidents: Pick<IncidentService, 'recordIf' | 'view' | 'list'>;
  sources: VerificationSources;
  /** `incidents.verificationWindow`. */
  windowMs: number;
  /** How often checks are evaluated (default: a tenth of the window, 1 s to 15 s). */
  intervalMs?: number;
  now?: () => number;
  log: { error(obj: object, msg: string): void };
}

interface Running {
  id: number;
  startedAt: number;
  endsAt: number;
  /** Per service; computed once per run (the hour before the incident does not change). */
  baselines: Map<string, TrafficStats | null>;
  checks: VerificationCheck[];
  timer?: NodeJS.Timeout;
  busy?: Promise<void>;
}

const ACTOR = 'vigil';

/** The server-span query of a service: requests, failed ones (status error or HTTP 5xx) and p95. */
export function trafficQuery(service: string): string {
  return `from spans kind=server service.name=${quote(service)} | eval e = if(status = "error" or http.response.status_code >= 500, 1, 0) | stats count() as n sum(e) as errors p95(duration_ms) as p95`;
}

const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number.isFinite(Number(v)) ? Number(v) : null);
const nsOf = (ms: number): bigint => BigInt(Math.floor(ms)) * 1_000_000n;

/** Runs verifications; see the module comment. */
export class VerificationJob {
  private readonly active = new Map<number, Running>();
  private readonly now: () => number;
  private readonly intervalMs: number;
  private stopped = false;

  constructor(private readonly deps: VerificationDeps) {
    this.now = deps.now ?? Date.now;
    this.intervalMs = deps.intervalMs ?? Math.min(15_000, Math.max(1000, Math.round(deps.windowMs / 10)));
  }

  /** Resolved incidents whose verification runs (correlation links their alerts to them). */
  underVerification(): number[] {
    return [...this.active.keys()];
  }

  /** The latest checks of a running verification. */
  live(id: number): VerificationCheck[] | undefined {
    return this.active.get(id)?.checks;
  }

  /** The incident service's status hook: resolving starts verification, a person's reopen or close cancels it. */
  onStatusChanged(id: number, from: IncidentStatus, to: IncidentStatus): void {
    if (this.stopped) return;
    if (to === 'resolved') void this.begin(id).catch((err: unknown) => this.deps.log.error({ err }, `starting verification of incident #${id} failed`));
    else if (from === 'resolved') void this.cancel(id, to).catch((err: unknown) => this.deps.log.error({ err }, `cancelling verification of incident #${id} failed`));
  }

  /** Resumes the verifications that were running (resolved incidents whose timeline has one unfinished). */
  async start(): Promise<void> {
    const resolved = await this.deps.incidents.list({ status: 'resolved', limit: 1000 });
    for (const r of resolved) {
      const v = (await this.deps.incidents.view(r.id))?.verification;
      if (v?.state === 'running' && !this.active.has(r.id)) this.track({ id: r.id, startedAt: v.startedAt, endsAt: v.endsAt, baselines: new Map(), checks: v.checks }, 0);
    }
  }

  /** Stops evaluating and waits for evaluations in progress; running verifications resume on the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    const busy = [...this.active.values()].map((r) => {
      clearTimeout(r.timer);
      return r.busy;
    });
    await Promise.allSettled(busy);
    this.active.clear();
  }

  private async begin(id: number): Promise<void> {
    const view = await this.deps.incidents.view(id);
    if (!view || view.status !== 'resolved') return;
    const resolvedAt = view.resolvedAt;
    const run: Running = { id, startedAt: this.now(), endsAt: 0, baselines: new Map(), checks: [] };
    await this.loadBaselines(run, view);
    const monitors = incidentMonitors(view, await this.monitorsOrNone());
    const checks = this.plan(view, run, monitors);
    const after = await this.deps.incidents.recordIf(
      id,
      // Still the same resolution, and no verification of it started meanwhile.
      (v) => v.status === 'resolved' && v.resolvedAt === resolvedAt && !(v.verification?.state === 'running' && v.verification.startedAt >= (resolvedAt ?? 0)),
      (at) => [{ kind: 'verification_started', windowMs: this.deps.windowMs, endsAt: at + this.deps.windowMs, checks }],
      ACTOR,
    );
    if (!after?.verification || this.stopped) return;
    const old = this.active.get(id);
    if (old) clearTimeout(old.timer);
    this.track({ ...run, startedAt: after.verification.startedAt, endsAt: after.verification.endsAt, checks }, this.intervalMs);
    // The regression suite runs at once rather than at the monitors' next turn.
    for (const m of monitors) void this.deps.sources.runMonitor(m.id).catch((err: unknown) => this.deps.log.error({ err }, `running monitor ${m.id} for verification failed`));
  }

  private async cancel(id: number, to: IncidentStatus): Promise<void> {
    const run = this.active.get(id);
    this.active.delete(id);
    if (run) clearTimeout(run.timer);
    const checks = run?.checks ?? (await this.deps.incidents.view(id))?.verification?.checks ?? [];
    await this.deps.incidents.recordIf(
      id,
      (v) => v.verification?.state === 'running',
      [{ kind: 'verification_finished', outcome: 'cancelled', reason: `the incident was ${to} by hand before verification ended`, checks }],
      ACTOR,
    );
  }

  private track(run: Running, delayMs: number): void {
    this.active.set(run.id, run);
    this.schedule(run, delayMs);
  }

  private schedule(run: Running, delayMs: number): void {
    if (this.stopped) return;
    run.timer = setTimeout(() => {
      run.busy = this.tick(run)
        .catch((err: unknown) => {
          this.deps.log.error({ err }, `verification of incident #${run.id} failed to evaluate`);
          if (this.active.get(run.id) === run) this.schedule(run, this.intervalMs);
        })
        .finally(() => (run.busy = undefined));
    }, Math.max(0, delayMs));
    run.timer.unref();
  }

  /** Evaluates one verification; records its outcome when it has one, else schedules the next turn. */
  private async tick(run: Running): Promise<void> {
    const view = await this.deps.incidents.view(run.id);
    const v = view?.verification;
    if (!view || view.status !== 'resolved' || v?.state !== 'running' || v.startedAt !== run.startedAt) {
      if (this.active.get(run.id) === run) this.active.delete(run.id);
      return;
    }
    const final = this.now() >= run.endsAt;
    const { checks, incomplete } = await this.evaluate(view, run, final);
    if (this.active.get(run.id) !== run) return;
    run.checks = checks;
    // A telemetry query that failed at the end decides nothing: the next turn asks again.
    const o = outcomeOf(checks, final && !incomplete);
    if (o.outcome === 'running') {
      const left = run.endsAt - this.now();
      this.schedule(run, left > 0 ? Math.min(this.intervalMs, left) : this.intervalMs);
      return;
    }
    this.active.delete(run.id);
    await this.deps.incidents.recordIf(
      run.id,
      (x) => x.status === 'resolved' && x.verification?.state === 'running' && x.verification.startedAt === run.startedAt,
      [{ kind: 'verification_finished', outcome: o.outcome, reason: o.reason, checks }],
      ACTOR,
      o.outcome === 'verified' ? { to: 'closed', note: `Verified: ${o.reason}.` } : { to: 'reopened', note: `Verification failed: ${o.reason}` },
    );
  }

  /** The checks at the start, all pending. */
  private plan(view: IncidentView, run: Running, monitors: readonly MonitorNow[]): VerificationCheck[] {
    const window = { fromMs: run.startedAt, toMs: run.startedAt + this.deps.windowMs };
    const pending = 'pending' as const;
    return [
      ...view.alerts.map((a) => ({ name: alertCheckName(a, view.alerts), kind: 'alert' as const, state: pending, detail: 'must stay clear', href: `/alerts/rules/${encodeURIComponent(a.ruleId)}/edit` })),
      ...view.services.flatMap((s) => {
        const b = run.baselines.get(s);
        const base = b ? `baseline ${b.requests} requests, ${b.errors} failed, p95 ${b.p95Ms === null ? '—' : `${Math.round(b.p95Ms)} ms`}` : 'no baseline traffic';
        return [
          { name: `error_rate:${s}`, kind: 'error_rate' as const, state: pending, detail: base, href: this.errorsHref(s, window) },
          { name: `p95:${s}`, kind: 'latency' as const, state: pending, detail: base, href: serviceLink('', s, window).href },
        ];
      }),
      ...monitors.map((m) => monitorCheck(m, run.startedAt, false)),
    ];
  }

  private errorsHref(service: string, w: { fromMs: number; toMs: number }): string {
    return searchLink('', `from spans kind=server service.name=${quote(service)} (status=error OR http.response.status_code>=500)`, w).href;
  }

  /** Every check as it stands now. */
  private async evaluate(view: IncidentView, run: Running, final: boolean): Promise<{ checks: VerificationCheck[]; incomplete: boolean }> {
    const alerts = view.alerts.map((a) => alertCheck(a, view.alerts, this.deps.sources.alert(a.ruleId, a.fingerprint), run.startedAt, final));
    await this.loadBaselines(run, view);
    const toMs = Math.min(this.now(), run.endsAt);
    const window = { fromMs: run.startedAt, toMs: run.startedAt + this.deps.windowMs };
    const traffic: VerificationCheck[] = [];
    let incomplete = false;
    for (const s of view.services) {
      const baseline = run.baselines.get(s) ?? null;
      const current = await this.traffic(s, run.startedAt, toMs);
      if (!current) {
        incomplete = true;
        const detail = 'the telemetry query failed; trying again';
        traffic.push({ name: `error_rate:${s}`, kind: 'error_rate', state: 'pending', detail }, { name: `p95:${s}`, kind: 'latency', state: 'pending', detail });
        continue;
      }
      traffic.push(errorRateCheck(s, baseline, current, final, this.errorsHref(s, window)), latencyCheck(s, baseline, current, final, serviceLink('', s, window).href));
    }
    let monitors = incidentMonitors(view, await this.monitorsOrNone());
    if (final && monitors.some((m) => m.lastCheckAt === null || m.lastCheckAt < run.startedAt)) {
      // The window ends and a monitor has not run since it began: run it now rather than fail it unheard.
      await Promise.allSettled(monitors.filter((m) => m.lastCheckAt === null || m.lastCheckAt < run.startedAt).map((m) => this.deps.sources.runMonitor(m.id)));
      monitors = incidentMonitors(view, await this.monitorsOrNone());
    }
    return { checks: [...alerts, ...traffic, ...monitors.map((m) => monitorCheck(m, run.startedAt, final))], incomplete };
  }

  private async loadBaselines(run: Running, view: IncidentView): Promise<void> {
    for (const s of view.services) {
      if (run.baselines.has(s)) continue;
      const b = await this.traffic(s, view.openedAt - BASELINE_MS, view.openedAt);
      // A failed query leaves the baseline to the next turn; an empty hour is a known "no baseline".
      if (b) run.baselines.set(s, b.requests > 0 ? b : null);
    }
  }

  /** A service's server traffic over [fromMs, toMs); undefined when the query failed. */
  private async traffic(service: string, fromMs: number, toMs: number): Promise<TrafficStats | undefined> {
    if (toMs <= fromMs) return { requests: 0, errors: 0, p95Ms: null };
    try {
      const r = await this.deps.sources.search(trafficQuery(service), { fromNs: nsOf(fromMs), toNs: nsOf(toMs), limit: 10, explainEmpty: false });
      const row = r.rows[0];
      if (!row) return { requests: 0, errors: 0, p95Ms: null };
      const requests = num(row.n) ?? 0;
      return { requests, errors: num(row.errors) ?? 0, p95Ms: requests > 0 ? num(row.p95) : null };
    } catch (err) {
      this.deps.log.error({ err }, `verification: reading the traffic of ${service} failed`);
      return undefined;
    }
  }

  private async monitorsOrNone(): Promise<MonitorNow[]> {
    try {
      return await this.deps.sources.monitors();
    } catch (err) {
      this.deps.log.error({ err }, 'verification: listing monitors failed');
      return [];
    }
  }
}

/** What a monitor checks, for matching it to an incident's services (never its credentials). */
function targetsOf(spec: MonitorSpec): string[] {
  const out = [spec.description];
  if ('url' in spec) out.push(spec.url);
  if ('host' in spec) out.push(spec.host);
  if ('hostname' in spec) out.push(spec.hostname);
  if (spec.type === 'workflow') out.push(...spec.steps.map((st) => st.url), ...Object.values(spec.vars));
  return out.filter((t) => t.length > 0);
}

/** The server's alerting, monitoring and query service as {@link VerificationSources}. */
export function verificationSources(parts: { manager: Pick<RuleManager, 'ruleView'>; monitoring: Pick<Monitoring, 'service' | 'scheduler'>; queries: Pick<QueryService, 'search'> }): VerificationSources {
  return {
    alert(ruleId, fingerprint) {
      const a = parts.manager.ruleView(ruleId)?.instances.find((i) => i.fingerprint === fingerprint);
      // A rule that is loaded but has no such instance any more: its condition no longer holds.
      if (!a) return parts.manager.ruleView(ruleId) ? { state: 'inactive', firedAt: null } : undefined;
      return { state: a.state, firedAt: a.firedAt };
    },
    async monitors() {
      const out: MonitorNow[] = [];
      for (const m of await parts.monitoring.service.list()) {
        // Only monitors that run: a disabled one (or monitoring turned off) is not part of the suite.
        const status = parts.monitoring.scheduler.status(m.spec.id);
        if (!m.spec.enabled || !status) continue;
        const last = m.state.lastResult;
        out.push({
          id: m.spec.id,
          name: m.spec.name,
          system: m.spec.system,
          targets: targetsOf(m.spec),
          state: status.state,
          lastCheckAt: status.lastCheckAt,
          ...(last ? { lastResult: last.error ?? `${last.status}${last.latencyMs === null ? '' : ` in ${Math.round(last.latencyMs)} ms`}` } : {}),
        });
      }
      return out;
    },
    async runMonitor(id) {
      await parts.monitoring.scheduler.runNow(id);
    },
    search: (text, options) => parts.queries.search(text, options),
  };
}
