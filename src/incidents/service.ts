/**
 * The incident service: what the API and alerting see of incidents. It turns requests and alert
 * changes into timeline events (checked by the state machine), appends them through the repository,
 * and hands each incident's notification alert to the notifier.
 *
 *   API ─open/status/note/assign─┐
 *   rule manager ─alert changes──┼─▶ one write at a time ─▶ IncidentRepo.append ─▶ notify(incidentAlerts)
 *   every minute ─ open incidents' alerts sent again (they stay firing while the incident is open)
 *
 * Writes run one at a time: a status change is checked against the state read just before, and two
 * alerts of one service firing in the same evaluation must open one incident, not two.
 */
import type { NotifyAlert } from '../alerting/types.ts';
import type { ChangeRecord } from '../store/state/changes.ts';
import type { IncidentAlertLink, IncidentFilter, IncidentRecord, IncidentRepo, NewIncidentEvent } from '../store/state/incidents.ts';
import { correlate, recurrenceDescription, recurrenceOf, type AlertChange } from './correlate.ts';
import { incidentAlerts } from './notify.ts';
import { reduce, type IncidentEventData, type IncidentView, type Severity, type TimelineEvent, type VerificationCheck } from './reducer.ts';
import { allowedTransitions, isOpen, transition, type IncidentStatus } from './state.ts';

/** A minimal logger (pino's shape). */
export interface IncidentLogger {
  error(obj: object, msg: string): void;
}

/** What the service needs. */
export interface IncidentServiceDeps {
  repo: IncidentRepo;
  /** Hands alerts to the notifier (Notifier.update); may drop them while alerting is off. */
  notify: (alerts: NotifyAlert[]) => void;
  /** Vigil's UI address, for links in notifications. */
  externalUrl: () => string;
  autoOpen: boolean;
  correlationWindowMs: number;
  log: IncidentLogger;
  now?: () => number;
  /** How often open incidents' alerts are sent again (default 60 s). */
  refreshMs?: number;
  /** Changes to services in a range, newest first (the change service's `forServices`). */
  changes?: (q: { fromMs: number; toMs: number; services?: readonly string[] }) => Promise<ChangeRecord[]>;
  /** Called after an incident was opened (by a person, a tool or an alert): diagnosis starts here. */
  onOpened?: (id: number) => void;
  /** Called after a status change was appended (verification starts and stops here). */
  onStatusChanged?: (id: number, from: IncidentStatus, to: IncidentStatus) => void;
  /** An alert of a signature resolved within this long before opens a new incident linked to it (`incidents.recurrenceWindow`). */
  recurrenceWindowMs?: number;
  /** Resolved incidents whose verification runs (they take alerts of their key: the fix did not hold). */
  underVerification?: () => readonly number[];
  /** The latest state of a running verification's checks (the timeline holds them only at start and end). */
  liveVerification?: (id: number) => VerificationCheck[] | undefined;
}

/** An event Vigil's own jobs append (status changes and openings have their own methods). */
type VigilEvent = Exclude<IncidentEventData, { kind: 'opened' | 'status_changed' }>;

/** How far before an incident's start its changes are listed. */
export const CHANGES_LEAD_MS = 30 * 60_000;

/** A new incident as a person or a tool reports it. */
export interface OpenIncidentInput {
  title: string;
  severity?: Severity;
  services?: string[];
  systems?: string[];
  description?: string;
  /** When the problem began (epoch ms), if before now. */
  startedAt?: number;
}

/** One incident with its timeline and linked alerts. */
export interface IncidentDetailView {
  record: IncidentRecord;
  view: IncidentView;
  timeline: TimelineEvent[];
  links: IncidentAlertLink[];
  allowed: readonly IncidentStatus[];
  /** Changes to its services from {@link CHANGES_LEAD_MS} before it began until it resolved (or now). */
  changes: ChangeRecord[];
}

/** A status change the state machine refuses. */
export class TransitionRefusedError extends Error {
  constructor(
    message: string,
    readonly allowed: readonly IncidentStatus[],
  ) {
    super(message);
    this.name = 'TransitionRefusedError';
  }
}

/** Opens, changes and correlates incidents; see the module comment. */
export class IncidentService {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: IncidentServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Runs writes one after another; a failed one does not stop the next. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private send(id: number, before: IncidentView | undefined, after: IncidentView | undefined): void {
    if (!after) return;
    const alerts = incidentAlerts(id, before, after, this.deps.externalUrl(), this.now());
    if (alerts.length) this.deps.notify(alerts);
  }

  /** Opens an incident by hand or from a tool; resolves with its id. */
  open(input: OpenIncidentInput, actor: string): Promise<number> {
    return this.serial(async () => {
      const at = this.now();
      const id = await this.deps.repo.create({
        at,
        actor,
        data: {
          kind: 'opened',
          title: input.title,
          severity: input.severity ?? 'SEV3',
          services: input.services ?? [],
          systems: input.systems ?? [],
          description: input.description ?? '',
          source: 'manual',
          correlationKey: null,
          ...(input.startedAt !== undefined && input.startedAt < at ? { startedAt: input.startedAt } : {}),
        },
      });
      this.send(id, undefined, await this.deps.repo.view(id));
      this.deps.onOpened?.(id);
      return id;
    });
  }

  /**
   * Moves an incident to `to`; resolves with the state it left and the incident after, undefined for an
   * unknown incident; throws {@link TransitionRefusedError}.
   */
  setStatus(id: number, to: IncidentStatus, note: string | undefined, actor: string): Promise<{ from: IncidentStatus; view: IncidentView } | undefined> {
    return this.serial(async () => {
      const before = await this.deps.repo.view(id);
      if (!before) return undefined;
      const at = this.now();
      const r = transition(before, to, at);
      if (!r.ok) throw new TransitionRefusedError(r.message, r.allowed);
      const after = await this.deps.repo.append(id, [{ at, actor, data: { kind: 'status_changed', from: before.status, to, ...(note ? { note } : {}) } }]);
      this.send(id, before, after);
      if (after) this.deps.onStatusChanged?.(id, before.status, to);
      return after ? { from: before.status, view: after } : undefined;
    });
  }

  /**
   * Appends an event Vigil's own jobs produce (diagnosis finished, an action's run, verification) to the
   * timeline; undefined for an unknown incident. Status changes go through {@link setStatus}.
   */
  record(id: number, data: Exclude<IncidentEventData, { kind: 'opened' | 'status_changed' }>, actor: string): Promise<IncidentView | undefined> {
    return this.serial(() => this.deps.repo.append(id, [{ at: this.now(), actor, data }]));
  }

  /**
   * Appends Vigil's own events in one write if `guard` still holds for the incident as it is then, and
   * optionally a status change after them (verification: it starts only while the incident is still
   * resolved, and its outcome and the close or reopen it causes land together, so a person's move in
   * between cannot interleave). `events` may be built from the time they are stamped with (an end time
   * relative to the start). Resolves with the incident after, undefined when the guard refused.
   */
  recordIf(
    id: number,
    guard: (view: IncidentView) => boolean,
    events: readonly VigilEvent[] | ((at: number) => readonly VigilEvent[]),
    actor: string,
    status?: { to: IncidentStatus; note?: string },
  ): Promise<IncidentView | undefined> {
    return this.serial(async () => {
      const before = await this.deps.repo.view(id);
      if (!before || !guard(before)) return undefined;
      const at = this.now();
      const all: NewIncidentEvent[] = (typeof events === 'function' ? events(at) : events).map((data) => ({ at, actor, data }));
      if (status) {
        if (!transition(before, status.to, at).ok) return undefined;
        all.push({ at, actor, data: { kind: 'status_changed', from: before.status, to: status.to, ...(status.note ? { note: status.note } : {}) } });
      }
      const after = await this.deps.repo.append(id, all);
      if (status && after) {
        this.send(id, before, after);
        this.deps.onStatusChanged?.(id, before.status, status.to);
      }
      return after;
    });
  }

  /** The incident as its timeline makes it, undefined for an unknown one. */
  view(id: number): Promise<IncidentView | undefined> {
    return this.deps.repo.view(id);
  }

  /** Adds a note to the timeline; undefined for an unknown incident. */
  addNote(id: number, text: string, actor: string): Promise<IncidentView | undefined> {
    return this.serial(() => this.deps.repo.append(id, [{ at: this.now(), actor, data: { kind: 'note', text } }]));
  }

  /** Sets the severity by hand (notifying under the new one); resolves with the one it replaced, undefined for an unknown incident. */
  setSeverity(id: number, severity: Severity, actor: string): Promise<{ from: Severity; view: IncidentView } | undefined> {
    return this.serial(async () => {
      const before = await this.deps.repo.view(id);
      if (!before) return undefined;
      if (before.severity === severity) return { from: severity, view: before };
      const after = await this.deps.repo.append(id, [{ at: this.now(), actor, data: { kind: 'severity_changed', from: before.severity, to: severity } }]);
      this.send(id, before, after);
      return after ? { from: before.severity, view: after } : undefined;
    });
  }

  /** Sets the commander and/or assignees; undefined for an unknown incident. */
  assign(id: number, who: { commander?: string | null; assignees?: string[] }, actor: string): Promise<IncidentView | undefined> {
    return this.serial(() => this.deps.repo.append(id, [{ at: this.now(), actor, data: { kind: 'assigned', ...who } }]));
  }

  /** Incidents for lists. */
  list(filter: IncidentFilter): Promise<IncidentRecord[]> {
    return this.deps.repo.list(filter);
  }

  /** One incident with its timeline, linked alerts and the moves its state allows. */
  async detail(id: number): Promise<IncidentDetailView | undefined> {
    const [record, timeline, links] = await Promise.all([this.deps.repo.get(id), this.deps.repo.timeline(id), this.deps.repo.alerts(id)]);
    if (!record) return undefined;
    let view = reduce(timeline);
    if (!view) return undefined;
    const live = view.verification?.state === 'running' ? this.deps.liveVerification?.(id) : undefined;
    if (live && view.verification) view = { ...view, verification: { ...view.verification, checks: live } };
    const changes = this.deps.changes
      ? await this.deps.changes({ fromMs: view.openedAt - CHANGES_LEAD_MS, toMs: (view.resolvedAt ?? this.now()) + 1, services: view.services })
      : [];
    return { record, view, timeline, links, allowed: allowedTransitions(view.status), changes };
  }

  /**
   * Alert state changes as the rule manager persisted them (firing and resolved only): linked to an
   * open incident of their system/service, opening one, or put on the timelines that link them.
   */
  onAlertChanges(changes: readonly AlertChange[]): Promise<void> {
    if (changes.length === 0) return Promise.resolve();
    return this.serial(async () => {
      for (const change of changes) {
        try {
          await this.correlateOne(change);
        } catch (err) {
          this.deps.log.error({ err }, `linking alert ${change.labels.alertname ?? change.ruleId} to an incident failed`);
        }
      }
    });
  }

  private async correlateOne(change: AlertChange): Promise<void> {
    const candidates = await this.deps.repo.correlationCandidates({ ruleId: change.ruleId, fingerprint: change.fingerprint });
    for (const id of this.deps.underVerification?.() ?? []) {
      const view = candidates.some((c) => c.id === id) ? undefined : await this.deps.repo.view(id);
      if (view) candidates.push({ id, view });
    }
    const d = correlate(change, candidates, { windowMs: this.deps.correlationWindowMs, autoOpen: this.deps.autoOpen });
    const alertEvent = (severity: Severity | null): NewIncidentEvent => ({
      at: change.at,
      actor: 'vigil',
      data: { kind: 'alert_firing', ruleId: change.ruleId, fingerprint: change.fingerprint, labels: change.labels, severity },
    });
    if (d.kind === 'open') {
      // The same signature resolved recently: the new incident names the one it recurs.
      const previous = this.deps.recurrenceWindowMs ? await this.deps.repo.lastResolved(d.key) : undefined;
      const related = recurrenceOf(previous, change.at, this.deps.recurrenceWindowMs ?? 0);
      const id = await this.deps.repo.create({
        at: change.at,
        actor: 'vigil',
        data: {
          kind: 'opened',
          title: d.title,
          severity: d.severity,
          services: d.services,
          systems: d.systems,
          description: related !== undefined && previous ? recurrenceDescription(d.description, previous, change.at) : d.description,
          source: 'alert',
          correlationKey: d.key,
          ...(related !== undefined ? { relatedIncidentId: related } : {}),
        },
      });
      const after = await this.deps.repo.append(id, [alertEvent(d.severity)]);
      this.send(id, undefined, after);
      this.deps.onOpened?.(id);
    } else if (d.kind === 'link') {
      const before = candidates.find((c) => c.id === d.incidentId)?.view;
      const after = await this.deps.repo.append(d.incidentId, [alertEvent(d.severity)]);
      this.send(d.incidentId, before, after);
    } else if (d.kind === 'resolve') {
      for (const id of d.incidentIds) {
        await this.deps.repo.append(id, [{ at: change.at, actor: 'vigil', data: { kind: 'alert_resolved', ruleId: change.ruleId, fingerprint: change.fingerprint, labels: change.labels } }]);
      }
    }
  }

  /** Sends the open incidents' alerts again, so they stay firing in the notifier while the incidents are open. */
  async refresh(): Promise<void> {
    const open = await this.deps.repo.correlationCandidates();
    for (const c of open) if (isOpen(c.view.status)) this.send(c.id, c.view, c.view);
  }

  /** Starts the periodic re-send (call once the notifier runs). */
  start(): void {
    if (this.timer) return;
    const tick = () => void this.refresh().catch((err: unknown) => this.deps.log.error({ err }, 'sending open incidents to the notifier failed'));
    tick();
    this.timer = setInterval(tick, this.deps.refreshMs ?? 60_000);
    this.timer.unref();
  }

  /** Stops the re-send and waits for writes in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.chain;
  }
}
