import { describe, expect, it } from 'vitest';
import { moreSevere, reduce, type IncidentEventData, type TimelineEvent } from './reducer.ts';

const T0 = 1_700_000_000_000;
let seq = 0;
const ev = (at: number, data: IncidentEventData, actor = 'vigil'): TimelineEvent => ({ id: ++seq, at: T0 + at, actor, data });
const opened = (o: Partial<Extract<IncidentEventData, { kind: 'opened' }>> = {}) =>
  ev(0, { kind: 'opened', title: 'Checkout fails', severity: 'SEV3', services: ['checkout'], systems: [], description: '', source: 'manual', correlationKey: null, ...o }, 'user:ana');

describe('reduce', () => {
  it('a timeline without `opened` is no incident', () => {
    expect(reduce([ev(1, { kind: 'note', text: 'x' })])).toBeUndefined();
  });
  it('opens triggered, at startedAt when the problem began earlier', () => {
    const v = reduce([opened({ startedAt: T0 - 600_000 })])!;
    expect(v.status).toBe('triggered');
    expect(v.openedAt).toBe(T0 - 600_000);
    expect(v.services).toEqual(['checkout']);
  });
  it('status changes follow the state machine and keep MTTA/MTTR times; a refused one changes nothing', () => {
    const v = reduce([
      opened(),
      ev(60_000, { kind: 'status_changed', from: 'triggered', to: 'acknowledged' }),
      ev(70_000, { kind: 'status_changed', from: 'acknowledged', to: 'closed' }),
      ev(120_000, { kind: 'status_changed', from: 'acknowledged', to: 'investigating', note: 'looking' }),
      ev(300_000, { kind: 'status_changed', from: 'investigating', to: 'resolved' }),
    ])!;
    expect(v.status).toBe('resolved');
    expect(v.acknowledgedAt).toBe(T0 + 60_000);
    expect(v.resolvedAt).toBe(T0 + 300_000);
    expect(v.closedAt).toBeNull();
  });
  it('linked alerts: firing adds services, systems and raises severity; resolving marks them', () => {
    const labels = { alertname: 'HighErrors', service_name: 'payments', system: 'shop', severity: 'critical' };
    const v = reduce([
      opened(),
      ev(10, { kind: 'alert_firing', ruleId: 'r1', fingerprint: 'f1', labels, severity: 'SEV2' }),
      ev(20, { kind: 'alert_firing', ruleId: 'r2', fingerprint: 'f2', labels: { alertname: 'Slow' }, severity: 'SEV4' }),
      ev(30, { kind: 'alert_resolved', ruleId: 'r1', fingerprint: 'f1', labels }),
    ])!;
    expect(v.severity).toBe('SEV2');
    expect(v.services).toEqual(['checkout', 'payments']);
    expect(v.systems).toEqual(['shop']);
    expect(v.alerts.map((a) => [a.fingerprint, a.state, a.linkedAt, a.resolvedAt])).toEqual([
      ['f1', 'resolved', T0 + 10, T0 + 30],
      ['f2', 'firing', T0 + 20, null],
    ]);
    expect(v.lastAlertActivityAt).toBe(T0 + 30);
  });
  it('an alert firing again keeps its first link time', () => {
    const a = { kind: 'alert_firing', ruleId: 'r', fingerprint: 'f', labels: { alertname: 'A' }, severity: null } as const;
    const v = reduce([opened(), ev(10, a), ev(20, { kind: 'alert_resolved', ruleId: 'r', fingerprint: 'f', labels: {} }), ev(30, a)])!;
    expect(v.alerts).toHaveLength(1);
    expect(v.alerts[0]).toMatchObject({ state: 'firing', linkedAt: T0 + 10, firedAt: T0 + 30, resolvedAt: null });
  });
  it('assignment and severity changes; notes change no field', () => {
    const v = reduce([
      opened(),
      ev(1, { kind: 'assigned', commander: 'ana', assignees: ['bo', 'cy'] }),
      ev(2, { kind: 'assigned', assignees: ['bo'] }),
      ev(3, { kind: 'severity_changed', from: 'SEV3', to: 'SEV1' }),
      ev(4, { kind: 'note', text: 'db looks fine' }),
    ])!;
    expect([v.commander, v.assignees, v.severity]).toEqual(['ana', ['bo'], 'SEV1']);
  });
  it('moreSevere', () => {
    expect(moreSevere('SEV3', 'SEV2')).toBe('SEV2');
    expect(moreSevere('SEV1', 'SEV4')).toBe('SEV1');
  });
});
