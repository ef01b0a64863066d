/**
 * The incident as a pure reducer over its timeline (DESIGN.md §9): the timeline events are the source
 * of truth; the incident's fields (status, severity, people, services, linked alerts, MTTA/MTTR times)
 * are what folding them yields. The repository stores the folded view beside the events only so that
 * lists can filter and sort in SQL; it is recomputed from the events on every append.
 *
 *   opened ─▶ status_changed* · note* · alert_firing* · alert_resolved* · assigned* · severity_changed*
 *             · diagnosis* · action_run* · verification_started* · verification_finished*
 */
import { transition, type IncidentClock, type IncidentStatus } from './state.ts';

/** Incident severities, most severe first. */
export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;

/** An incident's severity. */
export type Severity = (typeof SEVERITIES)[number];

/** Whether a value is a severity. */
export function isSeverity(s: unknown): s is Severity {
  return typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);
}

/** The more severe of two severities. */
export function moreSevere(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}

/** How an incident came to be. */
export type IncidentSource = 'manual' | 'alert';

/** What each kind of timeline event carries. */
export type IncidentEventData =
  | {
      kind: 'opened';
      title: string;
      severity: Severity;
      services: string[];
      systems: string[];
      description: string;
      source: IncidentSource;
      correlationKey: string | null;
      /** When the problem began, if it began before the incident was opened (epoch ms). */
      startedAt?: number;
      /** An earlier incident with the same signature (it recurred within the recurrence window). */
      relatedIncidentId?: number;
    }
  | { kind: 'status_changed'; from: IncidentStatus; to: IncidentStatus; note?: string }
  | { kind: 'note'; text: string }
  | { kind: 'alert_firing'; ruleId: string; fingerprint: string; labels: Record<string, string>; severity: Severity | null }
  | { kind: 'alert_resolved'; ruleId: string; fingerprint: string; labels: Record<string, string> }
  | { kind: 'assigned'; commander?: string | null; assignees?: string[] }
  | { kind: 'severity_changed'; from: Severity; to: Severity }
  /** A diagnosis report finished (src/diagnosis): its id and the top hypothesis, if any. */
  | { kind: 'diagnosis'; reportId: number; state: 'ready' | 'failed'; top: { category: string; component: string; confidence: number; summary: string } | null; error?: string }
  /** A remediation action was run by a responder: what, with which input, and what came back. */
  | { kind: 'action_run'; action: string; actionId: number; input: Record<string, string>; ok: boolean; status: number | null; result: string; ms: number }
  /** Resolving started verification: the checks and until when they must hold. */
  | { kind: 'verification_started'; windowMs: number; endsAt: number; checks: VerificationCheck[] }
  /** Verification ended: verified (the incident closes) or failed (it reopens), with the evidence. */
  | { kind: 'verification_finished'; outcome: 'verified' | 'failed' | 'cancelled'; reason: string; checks: VerificationCheck[] };

/** One check of post-resolution verification and how it stands. */
export interface VerificationCheck {
  /** `alert:<alertname>`, `error_rate:<service>`, `p95:<service>`, `monitor:<name>`. */
  name: string;
  kind: 'alert' | 'error_rate' | 'latency' | 'monitor';
  state: 'pending' | 'passing' | 'failed';
  /** The figures: what it must stay under and what it saw. */
  detail: string;
  /** A UI path to the data. */
  href?: string;
}

/** Verification as the timeline leaves it. */
export interface VerificationView {
  state: 'running' | 'verified' | 'failed' | 'cancelled';
  startedAt: number;
  endsAt: number;
  finishedAt: number | null;
  reason: string | null;
  checks: VerificationCheck[];
}

/** The kinds of timeline events. */
export type IncidentEventKind = IncidentEventData['kind'];

/** One event of an incident's timeline as stored. */
export interface TimelineEvent {
  id: number;
  /** Epoch ms. */
  at: number;
  /** Who caused it: `user:ana`, `token:ci`, or `vigil` for what Vigil did itself. */
  actor: string;
  data: IncidentEventData;
}

/** An alert linked to an incident, as the timeline left it. */
export interface LinkedAlert {
  ruleId: string;
  fingerprint: string;
  labels: Record<string, string>;
  state: 'firing' | 'resolved';
  linkedAt: number;
  /** Last time it started firing / resolved (epoch ms). */
  firedAt: number;
  resolvedAt: number | null;
}

/** An incident as its timeline makes it. */
export interface IncidentView extends IncidentClock {
  title: string;
  severity: Severity;
  commander: string | null;
  assignees: string[];
  services: string[];
  systems: string[];
  description: string;
  source: IncidentSource;
  correlationKey: string | null;
  alerts: LinkedAlert[];
  /** The latest alert event, or the opening (correlation keeps linking while this is recent). */
  lastAlertActivityAt: number;
  /** The earlier incident this one recurs, if any. */
  relatedIncidentId: number | null;
  /** The latest diagnosis report's id, if any ran. */
  diagnosisId: number | null;
  /** The latest verification, null until the incident was first resolved. */
  verification: VerificationView | null;
}

const addAll = (list: string[], more: readonly (string | undefined)[]): string[] => {
  const out = [...list];
  for (const m of more) if (m && !out.includes(m)) out.push(m);
  return out;
};

/** Applies one event; events that do not fit (a refused status move, an event before `opened`) change nothing. */
export function apply(view: IncidentView | undefined, e: TimelineEvent): IncidentView | undefined {
  const d = e.data;
  if (d.kind === 'opened') {
    if (view) return view;
    const openedAt = d.startedAt ?? e.at;
    return {
      status: 'triggered',
      openedAt,
      acknowledgedAt: null,
      resolvedAt: null,
      closedAt: null,
      title: d.title,
      severity: d.severity,
      commander: null,
      assignees: [],
      services: [...d.services],
      systems: [...d.systems],
      description: d.description,
      source: d.source,
      correlationKey: d.correlationKey,
      alerts: [],
      lastAlertActivityAt: e.at,
      relatedIncidentId: d.relatedIncidentId ?? null,
      diagnosisId: null,
      verification: null,
    };
  }
  if (!view) return undefined;
  switch (d.kind) {
    case 'status_changed': {
      if (d.from !== view.status) return view;
      const r = transition(view, d.to, e.at);
      return r.ok ? { ...view, ...r.next } : view;
    }
    case 'note':
      return view;
    case 'alert_firing': {
      const existing = view.alerts.find((a) => a.ruleId === d.ruleId && a.fingerprint === d.fingerprint);
      const alerts = existing
        ? view.alerts.map((a) => (a === existing ? { ...a, labels: d.labels, state: 'firing' as const, firedAt: e.at, resolvedAt: null } : a))
        : [...view.alerts, { ruleId: d.ruleId, fingerprint: d.fingerprint, labels: d.labels, state: 'firing' as const, linkedAt: e.at, firedAt: e.at, resolvedAt: null }];
      return {
        ...view,
        alerts,
        // The most severe linked alert wins; a lower one never lowers what people or other alerts set.
        severity: d.severity ? moreSevere(view.severity, d.severity) : view.severity,
        services: addAll(view.services, [d.labels.service_name]),
        systems: addAll(view.systems, [d.labels.system]),
        lastAlertActivityAt: e.at,
      };
    }
    case 'alert_resolved': {
      const alerts = view.alerts.map((a) => (a.ruleId === d.ruleId && a.fingerprint === d.fingerprint ? { ...a, state: 'resolved' as const, resolvedAt: e.at } : a));
      return { ...view, alerts, lastAlertActivityAt: e.at };
    }
    case 'assigned':
      return {
        ...view,
        commander: d.commander === undefined ? view.commander : d.commander,
        assignees: d.assignees === undefined ? view.assignees : [...d.assignees],
      };
    case 'severity_changed':
      return { ...view, severity: d.to };
    case 'diagnosis':
      return { ...view, diagnosisId: d.reportId };
    case 'action_run':
      return view;
    case 'verification_started':
      return { ...view, verification: { state: 'running', startedAt: e.at, endsAt: d.endsAt, finishedAt: null, reason: null, checks: d.checks } };
    case 'verification_finished':
      if (!view.verification) return view;
      return { ...view, verification: { ...view.verification, state: d.outcome, finishedAt: e.at, reason: d.reason, checks: d.checks } };
  }
}

/** Folds a timeline (in order) into the incident; undefined when it has no `opened` event. */
export function reduce(events: readonly TimelineEvent[]): IncidentView | undefined {
  let view: IncidentView | undefined;
  for (const e of events) view = apply(view, e);
  return view;
}
