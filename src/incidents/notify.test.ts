import { describe, expect, it } from 'vitest';
import { incidentAlerts, INCIDENT_ALERT_VALIDITY_MS } from './notify.ts';
import { reduce, type IncidentEventData, type IncidentView } from './reducer.ts';

const T0 = 1_700_000_000_000;
const view = (...more: IncidentEventData[]): IncidentView =>
  reduce(
    [{ kind: 'opened', title: 'Checkout fails', severity: 'SEV2', services: ['checkout'], systems: ['shop'], description: 'd', source: 'manual', correlationKey: null } as IncidentEventData, ...more].map((data, i) => ({ id: i + 1, at: T0 + i, actor: 'x', data })),
  )!;

describe('incidentAlerts', () => {
  it('an opened incident fires VigilIncident with its id, severity and status', () => {
    const [a, ...rest] = incidentAlerts(7, undefined, view(), 'http://vigil.test/', T0 + 10);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      labels: { alertname: 'VigilIncident', incident_id: '7', severity: 'SEV2', status: 'triggered' },
      annotations: { title: 'Checkout fails', summary: 'SEV2 incident #7 triggered: Checkout fails (shop, checkout)' },
      startsAt: T0,
      endsAt: T0 + 10 + INCIDENT_ALERT_VALIDITY_MS,
      generatorURL: 'http://vigil.test/incidents/7',
      resolved: false,
    });
  });
  it('a status change resolves the previous status and fires the new one', () => {
    const before = view();
    const after = view({ kind: 'status_changed', from: 'triggered', to: 'acknowledged' });
    const out = incidentAlerts(7, before, after, 'http://v', T0 + 20);
    expect(out.map((a) => [a.labels.status, a.resolved])).toEqual([['triggered', true], ['acknowledged', false]]);
    expect(out[0]!.fingerprint).not.toBe(out[1]!.fingerprint);
  });
  it('resolving resolves the alert; closing a resolved incident sends nothing; reopening fires again', () => {
    const ack = view({ kind: 'status_changed', from: 'triggered', to: 'acknowledged' });
    const res = view({ kind: 'status_changed', from: 'triggered', to: 'resolved' });
    expect(incidentAlerts(7, ack, res, 'http://v', T0).map((a) => [a.labels.status, a.resolved])).toEqual([['acknowledged', true]]);
    const closed = view({ kind: 'status_changed', from: 'triggered', to: 'resolved' }, { kind: 'status_changed', from: 'resolved', to: 'closed' });
    expect(incidentAlerts(7, res, closed, 'http://v', T0)).toEqual([]);
    const re = view({ kind: 'status_changed', from: 'triggered', to: 'resolved' }, { kind: 'status_changed', from: 'resolved', to: 'reopened' });
    expect(incidentAlerts(7, res, re, 'http://v', T0).map((a) => [a.labels.status, a.resolved])).toEqual([['reopened', false]]);
  });
  it('a note changes nothing a receiver routes on: the same alert is sent again (the notifier dedups)', () => {
    const before = view();
    const out = incidentAlerts(7, before, view({ kind: 'note', text: 'x' }), 'http://v', T0);
    expect(out.map((a) => [a.labels.status, a.resolved])).toEqual([['triggered', false]]);
  });
});
