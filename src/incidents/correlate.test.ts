import { describe, expect, it } from 'vitest';
import { alertSeverity, correlate, correlationKey, recurrenceDescription, recurrenceOf, type AlertChange, type CorrelationCandidate } from './correlate.ts';
import { reduce, type IncidentEventData } from './reducer.ts';

const MIN = 60_000;
const T0 = 1_700_000_000_000;
const WINDOW = 30 * MIN;

function incident(id: number, key: string, events: [number, IncidentEventData][]): CorrelationCandidate {
  const opened: IncidentEventData = { kind: 'opened', title: 't', severity: 'SEV4', services: [], systems: [], description: '', source: 'alert', correlationKey: key };
  const view = reduce([[0, opened] as [number, IncidentEventData], ...events].map(([at, data], i) => ({ id: i + 1, at: T0 + at, actor: 'vigil', data })))!;
  return { id, view };
}
const firing = (labels: Record<string, string>, at: number, fp = 'f-new'): AlertChange => ({ ruleId: 'r', fingerprint: fp, labels: { alertname: 'HighErrors', ...labels }, to: 'firing', at: T0 + at });

describe('correlationKey and alertSeverity', () => {
  it('system, else service_name, else monitor, else alertname', () => {
    expect(correlationKey({ alertname: 'A', system: 'lms', service_name: 'x' })).toBe('system:lms');
    expect(correlationKey({ alertname: 'A', service_name: 'checkout' })).toBe('service:checkout');
    expect(correlationKey({ alertname: 'A', monitor: 'home' })).toBe('monitor:home');
    expect(correlationKey({ alertname: 'A' })).toBe('alert:A');
  });
  it('critical → SEV2, warning → SEV3, else SEV4', () => {
    expect(alertSeverity({ severity: 'critical' })).toBe('SEV2');
    expect(alertSeverity({ severity: 'Warning' })).toBe('SEV3');
    expect(alertSeverity({ severity: 'info' })).toBe('SEV4');
    expect(alertSeverity({})).toBe('SEV4');
    expect(alertSeverity({ severity: 'sev1' })).toBe('SEV1');
  });
});

describe('correlate', () => {
  const opts = { windowMs: WINDOW, autoOpen: true };
  it('opens an incident for a firing alert with no incident of its key', () => {
    const d = correlate(firing({ service_name: 'checkout', severity: 'critical' }, 0), [], opts);
    expect(d).toMatchObject({ kind: 'open', key: 'service:checkout', title: 'HighErrors on checkout', severity: 'SEV2', services: ['checkout'], systems: [] });
  });
  it('links a firing alert to the open incident of its key within the window', () => {
    const inc = incident(7, 'service:checkout', []);
    expect(correlate(firing({ service_name: 'checkout' }, 10 * MIN), [inc], opts)).toEqual({ kind: 'link', incidentId: 7, severity: 'SEV4' });
  });
  it('a different key opens another incident', () => {
    const inc = incident(7, 'service:checkout', []);
    expect(correlate(firing({ service_name: 'cart' }, MIN), [inc], opts).kind).toBe('open');
  });
  it('past the window an incident whose alerts all resolved takes no new alert; one with a firing alert still does', () => {
    const quiet = incident(1, 'system:lms', [[MIN, { kind: 'alert_firing', ruleId: 'r', fingerprint: 'a', labels: {}, severity: null }], [2 * MIN, { kind: 'alert_resolved', ruleId: 'r', fingerprint: 'a', labels: {} }]]);
    expect(correlate(firing({ system: 'lms' }, 2 * MIN + WINDOW + 1), [quiet], opts).kind).toBe('open');
    expect(correlate(firing({ system: 'lms' }, 2 * MIN + WINDOW), [quiet], opts)).toMatchObject({ kind: 'link', incidentId: 1 });
    const busy = incident(2, 'system:lms', [[MIN, { kind: 'alert_firing', ruleId: 'r', fingerprint: 'a', labels: {}, severity: null }]]);
    expect(correlate(firing({ system: 'lms' }, 5 * 60 * MIN), [busy], opts)).toMatchObject({ kind: 'link', incidentId: 2 });
  });
  it('a resolved or closed incident takes no new alert', () => {
    const done = incident(3, 'service:checkout', [[MIN, { kind: 'status_changed', from: 'triggered', to: 'resolved' }]]);
    expect(correlate(firing({ service_name: 'checkout' }, 2 * MIN), [done], opts).kind).toBe('open');
  });
  it('without autoOpen an alert with no incident is ignored', () => {
    expect(correlate(firing({ service_name: 'checkout' }, 0), [], { windowMs: WINDOW, autoOpen: false })).toEqual({ kind: 'ignore' });
  });
  it('a resolved alert goes to the incidents that link it while it fired, not to closed ones', () => {
    const linked: [number, IncidentEventData][] = [[MIN, { kind: 'alert_firing', ruleId: 'r', fingerprint: 'a', labels: {}, severity: null }]];
    const open = incident(4, 'service:x', linked);
    const closed = incident(5, 'service:x', [...linked, [2 * MIN, { kind: 'status_changed', from: 'triggered', to: 'resolved' }], [3 * MIN, { kind: 'status_changed', from: 'resolved', to: 'closed' }]]);
    const change: AlertChange = { ruleId: 'r', fingerprint: 'a', labels: { alertname: 'A' }, to: 'resolved', at: T0 + 4 * MIN };
    expect(correlate(change, [open, closed], opts)).toEqual({ kind: 'resolve', incidentIds: [4] });
    expect(correlate({ ...change, fingerprint: 'zzz' }, [open], opts)).toEqual({ kind: 'ignore' });
  });
  it('a resolved incident under verification takes a new alert of its key (so verification fails and it reopens)', () => {
    const verifying = incident(6, 'service:checkout', [
      [MIN, { kind: 'status_changed', from: 'triggered', to: 'resolved' }],
      [MIN, { kind: 'verification_started', windowMs: 10 * MIN, endsAt: T0 + 11 * MIN, checks: [] }],
    ]);
    expect(correlate(firing({ service_name: 'checkout' }, 2 * MIN), [verifying], opts)).toMatchObject({ kind: 'link', incidentId: 6 });
    // Once verification ended (verified, closed) a new alert opens a new incident.
    const verified = incident(6, 'service:checkout', [
      [MIN, { kind: 'status_changed', from: 'triggered', to: 'resolved' }],
      [MIN, { kind: 'verification_started', windowMs: 10 * MIN, endsAt: T0 + 11 * MIN, checks: [] }],
      [11 * MIN, { kind: 'verification_finished', outcome: 'verified', reason: 'ok', checks: [] }],
    ]);
    expect(correlate(firing({ service_name: 'checkout' }, 12 * MIN), [verified], opts).kind).toBe('open');
  });
});

describe('recurrence', () => {
  const DAY = 86_400_000;
  it('the last incident of the key resolved within the window is the one a new incident recurs', () => {
    expect(recurrenceOf({ id: 4, resolvedAt: T0 }, T0 + 3 * DAY, 14 * DAY)).toBe(4);
    expect(recurrenceOf({ id: 4, resolvedAt: T0 }, T0 + 15 * DAY, 14 * DAY)).toBeUndefined();
    expect(recurrenceOf(undefined, T0, 14 * DAY)).toBeUndefined();
  });
  it('the description says so', () => {
    expect(recurrenceDescription('Opened by Vigil.', { id: 4, resolvedAt: T0 }, T0 + 3 * DAY)).toBe('Opened by Vigil. The same signature recurs: incident #4 was resolved 3 days before.');
    expect(recurrenceDescription('x', { id: 9, resolvedAt: T0 }, T0 + 60_000)).toBe('x The same signature recurs: incident #9 was resolved 1 minute before.');
  });
});
