/**
 * The verification job on a real incident service and state store (SQLite), with a short window. Its
 * sources — the rule manager's alerts, the monitors, telemetry answers — are plain data here (the API
 * test, test/incidents-verification.test.ts, drives the real ones): the job starts on resolve, runs the
 * incident's monitors, reads baselines from the hour before the incident, shows live checks, records the
 * outcome and the close or reopen together, and a person's move cancels it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueryResult } from '../query/executor.ts';
import type { SearchOptions } from '../query/service.ts';
import { openStateDb, type StateDb } from '../store/state/db.ts';
import { IncidentRepo } from '../store/state/incidents.ts';
import { IncidentService } from './service.ts';
import { VerificationJob, trafficQuery, type VerificationSources } from './verification.ts';
import type { AlertNow, MonitorNow } from './verify.ts';

let dir: string;
let db: StateDb;
let incidents: IncidentService;
let job: VerificationJob;
let alerts: Map<string, AlertNow>;
let monitors: MonitorNow[];
let traffic: Map<string, { n: number; errors: number; p95: number }>;
let searches: { text: string; fromMs: number; toMs: number }[];
let ran: string[];
const WINDOW = 600;

const result = (row: Record<string, number>): QueryResult => ({ kind: 'aggregate', columns: [], rows: [row], truncated: false, elapsedMs: 1, warnings: [] });

const sources: VerificationSources = {
  alert: (ruleId, fp) => alerts.get(`${ruleId}/${fp}`),
  monitors: async () => monitors.map((m) => ({ ...m })),
  runMonitor: async (id) => {
    ran.push(id);
    const m = monitors.find((x) => x.id === id);
    if (m && m.state !== 'down') Object.assign(m, { state: 'up', lastCheckAt: Date.now(), lastResult: 'up in 12 ms' });
  },
  search: async (text: string, o: SearchOptions) => {
    const fromMs = Number(o.fromNs / 1_000_000n);
    const toMs = Number(o.toNs / 1_000_000n);
    searches.push({ text, fromMs, toMs });
    // Before "now" minus a minute is the baseline; after it, the verification window.
    const t = traffic.get(toMs < Date.now() - 30_000 ? 'baseline' : 'window');
    return result(t ? { n: t.n, errors: t.errors, p95: t.p95 } : { n: 0, errors: 0, p95: 0 });
  },
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-verification-job-'));
  db = await openStateDb(join(dir, 'state.sqlite'));
  alerts = new Map();
  monitors = [];
  traffic = new Map();
  searches = [];
  ran = [];
  const repo = new IncidentRepo(db);
  incidents = new IncidentService({
    repo,
    notify: () => undefined,
    externalUrl: () => 'http://vigil.test',
    autoOpen: true,
    correlationWindowMs: 30 * 60_000,
    log: { error: () => undefined },
    onStatusChanged: (id, from, to) => job.onStatusChanged(id, from, to),
    underVerification: () => job.underVerification(),
    liveVerification: (id) => job.live(id),
  });
  job = new VerificationJob({ incidents, sources, windowMs: WINDOW, intervalMs: 50, log: { error: () => undefined } });
});
afterEach(async () => {
  await job.stop();
  await incidents.stop();
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await fn();
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

const HOUR = 3_600_000;
const open = (o: { services?: string[]; systems?: string[] } = {}) => incidents.open({ title: 'Checkout fails', startedAt: Date.now() - HOUR, ...o }, 'user:ana');
const settled = (id: number) => until('verification finished', async () => ((await incidents.view(id))?.verification?.state ?? 'running') !== 'running' && (await incidents.view(id)));

describe('VerificationJob', () => {
  it('runs the incident’s monitors at once and closes the incident when everything held', async () => {
    monitors = [
      { id: 'shop-home', name: 'Shop home', system: 'shop', targets: ['http://shop/'], state: 'down', lastCheckAt: Date.now() - 60_000 },
      { id: 'other', name: 'Other', system: 'other', targets: ['http://other/'], state: 'down', lastCheckAt: null },
    ];
    monitors[0]!.state = 'up';
    const id = await open({ systems: ['shop'] });
    await incidents.setStatus(id, 'resolved', undefined, 'user:ana');
    const running = await until('started', async () => (await incidents.view(id))?.verification ?? undefined);
    expect(running).toMatchObject({ state: 'running', checks: [{ name: 'monitor:Shop home', kind: 'monitor', state: 'pending' }] });
    expect(running.endsAt - running.startedAt).toBe(WINDOW);
    await until('the monitor run', async () => ran.includes('shop-home'));
    expect(ran).toEqual(['shop-home']);
    // Live checks on the detail while it runs: the monitor passed since verification began.
    const live = await until('live check passing', async () => {
      const d = await incidents.detail(id);
      return d?.view.verification?.state === 'running' && d.view.verification.checks[0]?.state === 'passing' ? d : false;
    });
    expect(live.view.verification!.checks[0]!.detail).toMatch(/^up at .*: up in 12 ms$/);

    const done = await settled(id);
    expect(done).toMatchObject({ status: 'closed', verification: { state: 'verified', reason: 'all 1 checks passed for the verification window' } });
    const tail = (await incidents.detail(id))!.timeline.slice(-2);
    expect(tail.map((e) => [e.data.kind, e.actor, e.at - tail[0]!.at])).toEqual([
      ['verification_finished', 'vigil', 0],
      ['status_changed', 'vigil', 0],
    ]);
    expect(job.underVerification()).toEqual([]);
  });

  it('reads the baseline from the hour before the incident and reopens on a p95 regression, with the figures', async () => {
    traffic.set('baseline', { n: 600, errors: 6, p95: 80 });
    traffic.set('window', { n: 50, errors: 0, p95: 900 });
    const id = await open({ services: ['checkout'] });
    const openedAt = (await incidents.view(id))!.openedAt;
    await incidents.setStatus(id, 'resolved', undefined, 'user:ana');
    const done = await settled(id);
    expect(done.status).toBe('reopened');
    expect(done.verification).toMatchObject({ state: 'failed', reason: 'p95:checkout failed: p95 900 ms over 50 requests; limit 180 ms, baseline 80 ms' });
    expect(done.verification!.checks.find((c) => c.name === 'error_rate:checkout')).toMatchObject({ state: 'passing', detail: '0.0% errors (0 of 50); limit 3.0%, baseline 1.0% of 600' });
    expect(searches[0]).toEqual({ text: trafficQuery('checkout'), fromMs: openedAt - HOUR, toMs: openedAt });
    expect(searches.slice(1).every((s) => s.fromMs === done.verification!.startedAt)).toBe(true);
    const change = (await incidents.detail(id))!.timeline.at(-1)!;
    expect(change).toMatchObject({ actor: 'vigil', data: { kind: 'status_changed', from: 'resolved', to: 'reopened', note: `Verification failed: ${done.verification!.reason}` } });
  });

  it('an alert that fires again fails it at once', async () => {
    await incidents.onAlertChanges([{ ruleId: 'r', fingerprint: 'f', labels: { alertname: 'Errors', service_name: 'checkout' }, to: 'firing', at: Date.now() }]);
    const id = (await incidents.list({ status: 'open' }))[0]!.id;
    await incidents.onAlertChanges([{ ruleId: 'r', fingerprint: 'f', labels: { alertname: 'Errors', service_name: 'checkout' }, to: 'resolved', at: Date.now() }]);
    alerts.set('r/f', { state: 'resolved', firedAt: Date.now() - 1000 });
    await incidents.setStatus(id, 'resolved', undefined, 'user:ana');
    const started = await until('started', async () => (await incidents.view(id))?.verification ?? undefined);
    alerts.set('r/f', { state: 'firing', firedAt: started.startedAt + 5 });
    const done = await settled(id);
    expect(done.status).toBe('reopened');
    expect(done.verification!.reason).toMatch(/^alert:Errors failed: fired again at /);
  });

  it('a person closing it during verification cancels it; nothing else is recorded', async () => {
    const id = await open();
    await incidents.setStatus(id, 'resolved', undefined, 'user:ana');
    await until('started', async () => (await incidents.view(id))?.verification);
    await incidents.setStatus(id, 'closed', 'confirmed by the customer', 'user:bo');
    const done = await settled(id);
    expect(done).toMatchObject({ status: 'closed', verification: { state: 'cancelled', reason: 'the incident was closed by hand before verification ended' } });
    await new Promise((r) => setTimeout(r, WINDOW + 200));
    const kinds = (await incidents.detail(id))!.timeline.map((e) => `${e.data.kind}:${e.actor}`);
    expect(kinds.slice(-3)).toEqual(['verification_started:vigil', 'status_changed:user:bo', 'verification_finished:vigil']);
  });

  it('a monitor that never ran in the window is run at the end, and fails if it still has no check', async () => {
    monitors = [{ id: 'stuck', name: 'Stuck', system: 'shop', targets: [], state: 'down', lastCheckAt: null }];
    const id = await open({ systems: ['shop'] });
    await incidents.setStatus(id, 'resolved', undefined, 'user:ana');
    const done = await settled(id);
    expect(ran.filter((r) => r === 'stuck').length).toBeGreaterThanOrEqual(2);
    expect(done.verification).toMatchObject({ state: 'failed', reason: 'monitor:Stuck failed: no check since verification began' });
  });
});
