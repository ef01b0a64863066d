/**
 * The diagnosis service: when an incident opens (and when a responder asks), it works out what to compare
 * (the scope), runs every detector in parallel within the budget, ranks the evidence into hypotheses,
 * stores the report and puts its outcome on the incident's timeline.
 *
 *   incident opened ─▶ start(id) ─▶ scope ─▶ runDetectors ─▶ rank ─▶ DiagnosisRepo.finish ─▶ timeline `diagnosis`
 *
 * One run per incident at a time: asking again while one runs returns the running one.
 */
import type { IncidentService } from '../incidents/service.ts';
import type { IncidentView } from '../incidents/reducer.ts';
import type { QueryService } from '../query/service.ts';
import type { DiagnosisRepo } from '../store/state/diagnosis.ts';
import { rank } from './rank.ts';
import { runDetectors } from './runner.ts';
import { serviceEdges } from './topology.ts';
import type { ChangeLookup, Detector, DiagnosisReport, DiagnosisScope, ServiceEdge } from './types.ts';

/** How much normal time a diagnosis compares the incident with. */
export const BASELINE_MS = 30 * 60_000;

/** What the service needs. */
export interface DiagnosisServiceDeps {
  repo: DiagnosisRepo;
  incidents: Pick<IncidentService, 'view' | 'record'>;
  queries: QueryService;
  changes: ChangeLookup;
  detectors: readonly Detector[];
  budgetMs: number;
  log: { error(obj: object, msg: string): void };
  now?: () => number;
  /** A rule's `range` + `for` (ms), undefined for an unknown rule: how far back an alert-opened incident looks. */
  alertLeadMs?: (ruleId: string) => number | undefined;
}

/**
 * The scope of an incident: the window starts a little before the onset — 2 min when someone said when
 * it began, its rules' look-back when alerts opened it (see {@link alertLead}), 10 min when a
 * person reported it just now without saying when — and runs to its resolution or now; the baseline is
 * the {@link BASELINE_MS} before the window.
 */
export function scopeOf(view: IncidentView, startedAtGiven: boolean, now: number, alertLeadMs: (ruleId: string) => number | undefined = () => undefined): DiagnosisScope {
  const firstAlert = view.alerts.reduce((min, a) => Math.min(min, a.firedAt), Number.POSITIVE_INFINITY);
  const onsetMs = Math.min(view.openedAt, firstAlert);
  const leadMs = view.source === 'alert' ? alertLead(view, alertLeadMs) : startedAtGiven ? 2 * 60_000 : 10 * 60_000;
  const fromMs = onsetMs - leadMs;
  const toMs = Math.max(fromMs + 60_000, view.resolvedAt ?? now);
  return { services: [...view.services], systems: [...view.systems], onsetMs, window: { fromMs, toMs }, baseline: { fromMs: fromMs - BASELINE_MS, toMs: fromMs } };
}

/**
 * How far before an alert-opened incident the trouble may have begun: its rules fired once their window
 * (`range`) crossed and stayed crossed for `for`, so the data turned at most that long before — plus a
 * minute, for the change that set it off. 5 minutes when the rules are not known (deleted since).
 */
function alertLead(view: IncidentView, alertLeadMs: (ruleId: string) => number | undefined): number {
  const leads = view.alerts.map((a) => alertLeadMs(a.ruleId)).filter((x): x is number => x !== undefined);
  return leads.length ? Math.min(30 * 60_000, Math.max(...leads) + 60_000) : 5 * 60_000;
}

/** Runs and keeps diagnoses; see the module comment. */
export class DiagnosisService {
  private readonly running = new Map<number, Promise<DiagnosisReport>>();
  private readonly now: () => number;

  constructor(private readonly deps: DiagnosisServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Marks runs left behind by a stopped Vigil as failed. */
  async init(): Promise<void> {
    await this.deps.repo.failAbandoned(this.now());
  }

  /**
   * Starts a diagnosis of an incident (or returns the one running); resolves with the report as stored
   * when it started (state `running`), undefined for an unknown incident. `done` resolves when it finished.
   */
  async start(incidentId: number, trigger: DiagnosisReport['trigger']): Promise<{ report: DiagnosisReport; done: Promise<DiagnosisReport> } | undefined> {
    const current = this.running.get(incidentId);
    if (current) {
      const latest = await this.deps.repo.latest(incidentId);
      if (latest) return { report: latest, done: current };
    }
    const view = await this.deps.incidents.view(incidentId);
    if (!view) return undefined;
    const startedAt = this.now();
    // A manual incident opened earlier than its opening event was given a start time.
    const scope = scopeOf(view, view.source === 'manual' && view.openedAt < view.lastAlertActivityAt - 1000, startedAt, this.deps.alertLeadMs);
    const id = await this.deps.repo.start(incidentId, trigger, startedAt, scope);
    const report: DiagnosisReport = { id, incidentId, state: 'running', trigger, startedAt, finishedAt: null, scope, hypotheses: [], detectors: [] };
    const done = this.run(report).finally(() => this.running.delete(incidentId));
    this.running.set(incidentId, done);
    return { report, done };
  }

  /** The newest report of an incident. */
  latest(incidentId: number): Promise<DiagnosisReport | undefined> {
    return this.deps.repo.latest(incidentId);
  }

  /** Waits for every run in progress (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private async run(report: DiagnosisReport): Promise<DiagnosisReport> {
    const { scope } = report;
    let edges: Promise<ServiceEdge[]> | undefined;
    const topology = () => (edges ??= serviceEdges(this.deps.queries, { fromMs: scope.baseline.fromMs, toMs: scope.window.toMs }));
    let finished: DiagnosisReport;
    try {
      const { evidence, runs } = await runDetectors(this.deps.detectors, { scope, queries: this.deps.queries, changes: this.deps.changes, topology }, this.deps.budgetMs, this.now);
      const hypotheses = rank(evidence, { scope, edges: await topology().catch(() => []) });
      finished = { ...report, state: 'ready', finishedAt: this.now(), hypotheses, detectors: runs };
    } catch (err) {
      this.deps.log.error({ err }, `diagnosis of incident ${report.incidentId} failed`);
      finished = { ...report, state: 'failed', finishedAt: this.now(), error: err instanceof Error ? err.message : String(err) };
    }
    try {
      await this.deps.repo.finish(finished);
      const top = finished.hypotheses[0];
      await this.deps.incidents.record(
        report.incidentId,
        {
          kind: 'diagnosis',
          reportId: report.id,
          state: finished.state === 'failed' ? 'failed' : 'ready',
          top: top ? { category: top.category, component: top.component, confidence: top.confidence, summary: top.summary } : null,
          ...(finished.error ? { error: finished.error } : {}),
        },
        'vigil',
      );
    } catch (err) {
      this.deps.log.error({ err }, `storing the diagnosis of incident ${report.incidentId} failed`);
    }
    return finished;
  }
}
