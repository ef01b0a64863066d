import { describe, expect, it } from 'vitest';
import type { LinkedAlert } from './reducer.ts';
import {
  alertCheck,
  alertCheckName,
  errorRateCheck,
  errorRateLimit,
  incidentMonitors,
  latencyCheck,
  latencyLimit,
  monitorCheck,
  namesService,
  outcomeOf,
  type MonitorNow,
} from './verify.ts';

const T0 = 1_700_000_000_000;
const alert = (over: Partial<LinkedAlert> = {}): LinkedAlert => ({
  ruleId: 'r1',
  fingerprint: 'abcdef0123',
  labels: { alertname: 'CheckoutErrors', service_name: 'checkout' },
  state: 'resolved',
  linkedAt: T0 - 60_000,
  firedAt: T0 - 60_000,
  resolvedAt: T0 - 10_000,
  ...over,
});
const monitor = (over: Partial<MonitorNow> = {}): MonitorNow => ({ id: 'm1', name: 'Checkout health', system: 'shop', targets: ['http://checkout:8080/health'], state: 'up', lastCheckAt: T0 + 5000, ...over });

describe('thresholds', () => {
  it('allow 1.5× the baseline or an absolute margin, whichever is larger', () => {
    expect(errorRateLimit({ requests: 100, errors: 1, p95Ms: 50 })).toBeCloseTo(0.03);
    expect(errorRateLimit({ requests: 100, errors: 20, p95Ms: 50 })).toBeCloseTo(0.3);
    expect(errorRateLimit(null)).toBe(0.05);
    expect(errorRateLimit({ requests: 5, errors: 5, p95Ms: 50 })).toBe(0.05);
    expect(latencyLimit({ requests: 100, errors: 0, p95Ms: 40 })).toBe(140);
    expect(latencyLimit({ requests: 100, errors: 0, p95Ms: 1000 })).toBe(1500);
    expect(latencyLimit({ requests: 3, errors: 0, p95Ms: 40 })).toBeNull();
  });
});

describe('alert checks', () => {
  it('pass while the alert stays clear', () => {
    const c = alertCheck(alert(), [alert()], { state: 'inactive', firedAt: T0 - 60_000 }, T0, false);
    expect(c).toMatchObject({ name: 'alert:CheckoutErrors', kind: 'alert', state: 'passing', href: '/alerts/rules/r1/edit' });
  });
  it('fail at once when the alert fires again after verification began', () => {
    const c = alertCheck(alert(), [alert()], { state: 'firing', firedAt: T0 + 2000 }, T0, false);
    expect(c.state).toBe('failed');
    expect(c.detail).toContain('fired again');
  });
  it('fail from the incident record alone (the alert linked again) when the rule is gone', () => {
    const a = alert({ state: 'firing', firedAt: T0 + 3000, resolvedAt: null });
    expect(alertCheck(a, [a], undefined, T0, false).state).toBe('failed');
  });
  it('wait for an alert still firing from before, and fail it if it never clears', () => {
    const now = { state: 'firing' as const, firedAt: T0 - 60_000 };
    expect(alertCheck(alert(), [alert()], now, T0, false).state).toBe('pending');
    expect(alertCheck(alert(), [alert()], now, T0, true).state).toBe('failed');
  });
  it('name instances of one rule apart', () => {
    const a = alert();
    const b = alert({ fingerprint: 'ff', labels: { alertname: 'CheckoutErrors', service_name: 'cart' } });
    expect(alertCheckName(a, [a, b])).toBe('alert:CheckoutErrors:checkout');
    expect(alertCheckName(b, [a, b])).toBe('alert:CheckoutErrors:cart');
  });
});

describe('error rate and latency checks', () => {
  const baseline = { requests: 600, errors: 6, p95Ms: 80 };
  it('wait for enough requests, then judge against the baseline', () => {
    expect(errorRateCheck('checkout', baseline, { requests: 5, errors: 5, p95Ms: 900 }, false).state).toBe('pending');
    const ok = errorRateCheck('checkout', baseline, { requests: 100, errors: 2, p95Ms: 90 }, false, '/logs?q=x');
    expect(ok).toMatchObject({ name: 'error_rate:checkout', kind: 'error_rate', state: 'passing', href: '/logs?q=x' });
    expect(ok.detail).toBe('2.0% errors (2 of 100); limit 3.0%, baseline 1.0% of 600');
    const bad = errorRateCheck('checkout', baseline, { requests: 100, errors: 40, p95Ms: 90 }, false);
    expect(bad.state).toBe('failed');
    expect(bad.detail).toContain('40% errors (40 of 100)');
  });
  it('pass an idle service at the end (too little traffic to judge)', () => {
    const c = errorRateCheck('checkout', baseline, { requests: 3, errors: 0, p95Ms: 10 }, true);
    expect(c.state).toBe('passing');
    expect(c.detail).toContain('too little traffic');
  });
  it('judge p95 against the baseline p95', () => {
    expect(latencyCheck('checkout', baseline, { requests: 50, errors: 0, p95Ms: 150 }, false)).toMatchObject({ name: 'p95:checkout', kind: 'latency', state: 'passing' });
    const slow = latencyCheck('checkout', baseline, { requests: 50, errors: 0, p95Ms: 400 }, false);
    expect(slow.state).toBe('failed');
    expect(slow.detail).toBe('p95 400 ms over 50 requests; limit 180 ms, baseline 80 ms');
    expect(latencyCheck('checkout', null, { requests: 50, errors: 0, p95Ms: 4000 }, false).state).toBe('passing');
  });
});

describe('monitor checks', () => {
  it('find the monitors of the incident’s systems, alerts and services', () => {
    const all = [
      monitor(),
      monitor({ id: 'm2', name: 'Cart', system: 'other', targets: ['http://cart/health'] }),
      monitor({ id: 'm3', name: 'Checkout DB', system: 'other', targets: ['db-1'] }),
      monitor({ id: 'm4', name: 'Checkouts', system: 'other', targets: ['http://checkouts/'] }),
      monitor({ id: 'm5', name: 'Payments', system: 'pay', targets: [] }),
    ];
    const view = { systems: ['pay'], services: ['checkout'], alerts: [alert({ labels: { alertname: 'Down', monitor: 'm2' } })] };
    expect(incidentMonitors(view, all).map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm5']);
  });
  it('names a service only as a whole word', () => {
    expect(namesService('http://checkout:8080/x', 'checkout')).toBe(true);
    expect(namesService('http://checkout-v2/x', 'checkout')).toBe(false);
    expect(namesService('Checkout health', 'checkout')).toBe(true);
    expect(namesService('precheckout', 'checkout')).toBe(false);
  });
  it('count only checks since verification began', () => {
    expect(monitorCheck(monitor({ lastCheckAt: T0 - 1 }), T0, false).state).toBe('pending');
    expect(monitorCheck(monitor({ lastCheckAt: T0 - 1 }), T0, true).state).toBe('failed');
    expect(monitorCheck(monitor(), T0, false)).toMatchObject({ state: 'passing', href: '/monitors/m1', name: 'monitor:Checkout health' });
    expect(monitorCheck(monitor({ state: 'down', lastResult: 'HTTP 503' }), T0, false)).toMatchObject({ state: 'failed' });
    expect(monitorCheck(monitor({ state: 'down', lastResult: 'HTTP 503' }), T0, false).detail).toContain('HTTP 503');
  });
});

describe('outcome', () => {
  const pass = { name: 'a', kind: 'alert' as const, state: 'passing' as const, detail: 'clear' };
  const pend = { ...pass, name: 'b', state: 'pending' as const, detail: 'waiting' };
  const fail = { ...pass, name: 'c', state: 'failed' as const, detail: 'fired again' };
  it('runs until the end, fails at once on a failed check', () => {
    expect(outcomeOf([pass, pend], false)).toEqual({ outcome: 'running' });
    expect(outcomeOf([pass, fail, { ...fail, name: 'd' }], false)).toEqual({ outcome: 'failed', reason: 'c failed: fired again (and 1 more check)' });
  });
  it('verifies at the end only when everything passed', () => {
    expect(outcomeOf([pass], true)).toMatchObject({ outcome: 'verified' });
    expect(outcomeOf([], true)).toMatchObject({ outcome: 'verified' });
    expect(outcomeOf([pass, pend], true)).toMatchObject({ outcome: 'failed', reason: 'b did not pass before the window ended: waiting' });
  });
});
