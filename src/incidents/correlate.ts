/**
 * Correlation of alerts into incidents (pure; the incident service applies its decisions): one open
 * incident per affected system or service, so a failing service that trips five rules pages once.
 *
 *   correlation key  `system:<system>` else `service:<service_name>` else `monitor:<monitor>` else
 *                    `alert:<alertname>` (labels of the alert)
 *   firing alert     an open incident with its key that is still active (a linked alert fires, or its
 *                    last alert event or its opening is within the window), or a resolved one whose
 *                    verification is running (the fix did not hold: verification fails and it reopens)
 *                    → linked to it; otherwise → a new incident (autoOpen) titled after the alert,
 *                    linked to the last incident of its key resolved within the recurrence window
 *   resolved alert   → on the timeline of the incidents that link it (not closed ones)
 *
 * Severity from the alert's `severity` label: critical → SEV2, warning → SEV3, SEV1…SEV4 as written,
 * anything else → SEV4 (SEV1 is for people to declare).
 */
import { isOpen } from './state.ts';
import type { IncidentView, Severity } from './reducer.ts';

/** An alert's change of state as the rule manager persists it. */
export interface AlertChange {
  ruleId: string;
  fingerprint: string;
  labels: Record<string, string>;
  to: 'firing' | 'resolved';
  at: number;
}

/** An incident as correlation sees it. */
export interface CorrelationCandidate {
  id: number;
  view: IncidentView;
}

/** What to do with an alert change. */
export type CorrelationDecision =
  | { kind: 'link'; incidentId: number; severity: Severity }
  | { kind: 'open'; key: string; title: string; severity: Severity; services: string[]; systems: string[]; description: string }
  | { kind: 'resolve'; incidentIds: number[] }
  | { kind: 'ignore' };

/** The key that groups an alert with others of the same system or service. */
export function correlationKey(labels: Record<string, string>): string {
  if (labels.system) return `system:${labels.system}`;
  if (labels.service_name) return `service:${labels.service_name}`;
  if (labels.monitor) return `monitor:${labels.monitor}`;
  return `alert:${labels.alertname ?? ''}`;
}

/** The incident severity an alert's `severity` label asks for. */
export function alertSeverity(labels: Record<string, string>): Severity {
  const s = (labels.severity ?? '').trim().toLowerCase();
  if (s === 'critical') return 'SEV2';
  if (s === 'warning') return 'SEV3';
  const m = /^sev([1-4])$/.exec(s);
  return m ? (`SEV${m[1]}` as Severity) : 'SEV4';
}

/** Whether an incident still takes alerts of its key at `now`: open and recent, or resolved under verification. */
export function isActive(view: IncidentView, now: number, windowMs: number): boolean {
  if (view.status === 'resolved' && view.verification?.state === 'running') return true;
  if (!isOpen(view.status)) return false;
  if (view.alerts.some((a) => a.state === 'firing')) return true;
  return now - Math.max(view.openedAt, view.lastAlertActivityAt) <= windowMs;
}

/** An earlier incident of a correlation key, as recurrence sees it. */
export interface ResolvedIncident {
  id: number;
  resolvedAt: number;
}

/** The earlier incident a new one recurs: the last of its key resolved within `windowMs` before `now`, if any. */
export function recurrenceOf(previous: ResolvedIncident | undefined, now: number, windowMs: number): number | undefined {
  return previous && now - previous.resolvedAt <= windowMs ? previous.id : undefined;
}

/** The new incident's description, naming the incident it recurs. */
export function recurrenceDescription(description: string, previous: ResolvedIncident, now: number): string {
  const ago = Math.max(0, now - previous.resolvedAt);
  const d = Math.floor(ago / 86_400_000);
  const h = Math.floor(ago / 3_600_000);
  const m = Math.max(1, Math.round(ago / 60_000));
  const when = d >= 2 ? `${d} days` : h >= 2 ? `${h} hours` : `${m} minute${m === 1 ? '' : 's'}`;
  return `${description} The same signature recurs: incident #${previous.id} was resolved ${when} before.`;
}

/** Decides what an alert change does to incidents; `incidents` are the open and recent ones (and resolved ones under verification). */
export function correlate(change: AlertChange, incidents: readonly CorrelationCandidate[], opts: { windowMs: number; autoOpen: boolean }): CorrelationDecision {
  const { labels } = change;
  if (change.to === 'resolved') {
    const ids = incidents.filter((c) => c.view.status !== 'closed' && c.view.alerts.some((a) => a.ruleId === change.ruleId && a.fingerprint === change.fingerprint && a.state === 'firing')).map((c) => c.id);
    return ids.length ? { kind: 'resolve', incidentIds: ids } : { kind: 'ignore' };
  }
  const key = correlationKey(labels);
  const severity = alertSeverity(labels);
  // The newest active incident of the key, so a fresh incident wins over a stale one still open.
  const match = incidents.filter((c) => c.view.correlationKey === key && isActive(c.view, change.at, opts.windowMs)).sort((a, b) => b.view.openedAt - a.view.openedAt || b.id - a.id)[0];
  if (match) return { kind: 'link', incidentId: match.id, severity };
  if (!opts.autoOpen) return { kind: 'ignore' };
  const what = labels.system ?? labels.service_name ?? labels.monitor;
  const alertname = labels.alertname ?? 'alert';
  return {
    kind: 'open',
    key,
    title: what ? `${alertname} on ${what}` : alertname,
    severity,
    services: labels.service_name ? [labels.service_name] : [],
    systems: labels.system ? [labels.system] : [],
    description: `Opened by Vigil when alert ${alertname} started firing.`,
  };
}
