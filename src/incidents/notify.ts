/**
 * Incident events as alerts for the notification pipeline (pure): an open incident is a firing
 * synthetic alert `alertname="VigilIncident"` carrying `incident_id`, `severity` and `status`, so the
 * user's alertmanager.yml routes decide where incident news goes, as for any alert. A status change
 * resolves the alert of the previous status and fires the new one (the receivers hear of each change);
 * resolving or closing the incident resolves it.
 */
import { fingerprint, type NotifyAlert } from '../alerting/types.ts';
import type { IncidentView } from './reducer.ts';
import { isOpen, type IncidentStatus } from './state.ts';

/** The alertname of incident notifications. */
export const INCIDENT_ALERTNAME = 'VigilIncident';

/** How long a firing incident alert stays valid unless sent again (the service re-sends every minute). */
export const INCIDENT_ALERT_VALIDITY_MS = 5 * 60_000;

function alertFor(id: number, view: IncidentView, status: IncidentStatus, externalUrl: string, now: number, resolved: boolean): NotifyAlert {
  const labels = { alertname: INCIDENT_ALERTNAME, incident_id: String(id), severity: view.severity, status };
  const where = [...view.systems, ...view.services];
  return {
    fingerprint: fingerprint(labels),
    labels,
    annotations: {
      title: view.title,
      summary: `${view.severity} incident #${id} ${status}: ${view.title}${where.length ? ` (${where.join(', ')})` : ''}`,
      ...(view.description ? { description: view.description } : {}),
    },
    startsAt: view.openedAt,
    endsAt: resolved ? now : now + INCIDENT_ALERT_VALIDITY_MS,
    generatorURL: `${externalUrl.replace(/\/$/, '')}/incidents/${id}`,
    resolved,
  };
}

/**
 * The alerts to hand the notifier after an incident went from `before` (undefined: just opened) to
 * `after`: the new status's alert firing while the incident is open, the previous status's resolved.
 */
export function incidentAlerts(id: number, before: IncidentView | undefined, after: IncidentView, externalUrl: string, now: number): NotifyAlert[] {
  const out: NotifyAlert[] = [];
  // Severity is a label too: a change of it or of the status replaces the alert.
  if (before && isOpen(before.status) && (before.status !== after.status || before.severity !== after.severity || !isOpen(after.status))) {
    out.push(alertFor(id, before, before.status, externalUrl, now, true));
  }
  if (isOpen(after.status)) out.push(alertFor(id, after, after.status, externalUrl, now, false));
  return out;
}
