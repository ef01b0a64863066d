/**
 * The incident as a pure reducer over its timeline (DESIGN.md §9): the timeline events are the source
 * of truth; the incident's fields (status, severity, people, services, linked alerts, MTTA/MTTR times)
 * are what folding them yields. The repository stores the folded view beside the events only so that
 * lists can filter and sort in SQL; it is recomputed from the events on every append.
 *
 *   opened ─▶ status_changed* · note* · alert_firing* · alert_resolved* · assigned* · severity_changed*
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
    }
  | { kind: 'status_changed'; from: IncidentStatus; to: IncidentStatus; note?: string }
  | { kind: 'note'; text: string }
  | { kind: 'alert_firing'; ruleId: string; fingerprint: string; labels: Record<string, string>; severity: Severity | null }
  | { kind: 'alert_resolved'; ruleId: string; fingerprint: string; labels: Record<string, string> }
  | { kind: 'assigned'; commander?: string | null; assignees?: string[] }
  | { kind: 'severity_changed'; from: Severity; to: Severity };

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
  }
}

/** Folds a timeline (in order) into the incident; undefined when it has no `opened` event. */
export function reduce(events: readonly TimelineEvent[]): IncidentView | undefined {
  let view: IncidentView | undefined;
  for (const e of events) view = apply(view, e);
  return view;
}
