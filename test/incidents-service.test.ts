/**
 * The incident service on a real state store (SQLite): concurrent alert changes of one service open one
 * incident; autoOpen off opens none but still links to incidents people opened with the key; a stale
 * incident past the correlation window makes way for a new one; status changes hand the notifier the
 * previous status resolved and the new one firing; refresh re-sends open incidents only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NotifyAlert } from '../src/alerting/types.ts';
import type { AlertChange } from '../src/incidents/correlate.ts';
import { IncidentService, TransitionRefusedError } from '../src/incidents/service.ts';
import { openStateDb, type StateDb } from '../src/store/state/db.ts';
import { IncidentRepo } from '../src/store/state/incidents.ts';

const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);
const MIN = 60_000;
let dir: string;
let db: StateDb;
let repo: IncidentRepo;
let now: number;
let sent: NotifyAlert[];

const service = (o: { autoOpen?: boolean } = {}) =>
  new IncidentService({ repo, notify: (a) => sent.push(...a), externalUrl: () => 'http://vigil.test', autoOpen: o.autoOpen ?? true, correlationWindowMs: 30 * MIN, log: { error: () => undefined }, now: () => now });

const firing = (alertname: string, labels: Record<string, string>, at = now): AlertChange => ({ ruleId: `r:${alertname}`, fingerprint: `fp-${alertname}-${JSON.stringify(labels)}`, labels: { alertname, ...labels }, to: 'firing', at });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-incident-service-'));
  db = await openStateDb(join(dir, 'state.sqlite'));
  repo = new IncidentRepo(db);
  now = T0;
  sent = [];
});
afterEach(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('IncidentService', () => {
  it('alerts of one service arriving at once open one incident', async () => {
    const s = service();
    await Promise.all([
      s.onAlertChanges([firing('Errors', { service_name: 'checkout', severity: 'warning' })]),
      s.onAlertChanges([firing('Latency', { service_name: 'checkout', severity: 'critical' }), firing('Saturation', { service_name: 'checkout' })]),
    ]);
    const list = await repo.list({ status: 'all' });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ severity: 'SEV2', source: 'alert', correlationKey: 'service:checkout', services: ['checkout'] });
    expect((await repo.alerts(list[0]!.id)).map((a) => a.labels.alertname)).toEqual(['Errors', 'Latency', 'Saturation']);
    // Opened at SEV3, raised to SEV2 by the critical alert: the SEV3 alert resolved, the SEV2 one fires
    // (sent again when the third alert joins; the notifier dedups).
    expect(sent.map((a) => `${a.labels.severity}:${a.resolved ? 'resolved' : 'firing'}`)).toEqual(['SEV3:firing', 'SEV3:resolved', 'SEV2:firing', 'SEV2:firing']);
  });

  it('with autoOpen off, alerts open nothing but still join an open incident of their key', async () => {
    const on = service();
    await on.onAlertChanges([firing('Errors', { system: 'lms' })]);
    const off = service({ autoOpen: false });
    await off.onAlertChanges([firing('Latency', { system: 'lms' }), firing('Errors', { system: 'rms' })]);
    const list = await repo.list({ status: 'all' });
    expect(list.map((i) => i.correlationKey)).toEqual(['system:lms']);
    expect(await repo.alerts(list[0]!.id)).toHaveLength(2);
  });

  it('an incident quiet past the window makes way for a new one; within it, it takes the alert', async () => {
    const s = service();
    const a = firing('Errors', { service_name: 'cart' });
    await s.onAlertChanges([a]);
    now += 5 * MIN;
    await s.onAlertChanges([{ ...a, to: 'resolved', at: now }]);
    now += 29 * MIN;
    await s.onAlertChanges([firing('Latency', { service_name: 'cart' })]);
    expect(await repo.list({ status: 'all' })).toHaveLength(1);
    now += 5 * MIN;
    await s.onAlertChanges([{ ...firing('Latency', { service_name: 'cart' }), to: 'resolved', at: now }]);
    now += 31 * MIN;
    await s.onAlertChanges([firing('Errors', { service_name: 'cart' })]);
    const list = await repo.list({ status: 'all' });
    expect(list).toHaveLength(2);
    const first = (await repo.timeline(list[1]!.id)).map((e) => e.data.kind);
    expect(first).toEqual(['opened', 'alert_firing', 'alert_resolved', 'alert_firing', 'alert_resolved']);
  });

  it('status changes notify (previous resolved, new firing); refused ones throw and notify nothing; refresh re-sends open ones', async () => {
    const s = service();
    const id = await s.open({ title: 'Registration fails', severity: 'SEV1', systems: ['lms'] }, 'user:ana');
    const other = await s.open({ title: 'Old one' }, 'user:ana');
    await s.setStatus(other, 'resolved', undefined, 'user:ana');
    sent = [];
    now += MIN;
    await s.setStatus(id, 'investigating', 'db?', 'user:ana');
    expect(sent.map((a) => [a.labels.status, a.resolved, a.labels.incident_id])).toEqual([
      ['triggered', true, String(id)],
      ['investigating', false, String(id)],
    ]);
    sent = [];
    await expect(s.setStatus(id, 'acknowledged', undefined, 'user:ana')).rejects.toBeInstanceOf(TransitionRefusedError);
    expect(sent).toEqual([]);
    expect(await s.setStatus(999, 'resolved', undefined, 'user:ana')).toBeUndefined();
    await s.refresh();
    expect(sent.map((a) => [a.labels.incident_id, a.labels.status, a.resolved])).toEqual([[String(id), 'investigating', false]]);
    const d = await s.detail(id);
    expect(d?.view.acknowledgedAt).toBe(T0 + MIN);
    expect(d?.allowed).toEqual(['identified', 'monitoring', 'resolved']);
  });
});
