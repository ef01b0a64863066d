/**
 * The notifier end to end against real receivers on loopback and a real SQLite state store: the
 * webhook gets Alertmanager's JSON within the latency goal (group_wait 0), 500/500/200 is one
 * delivery, group_wait/group_interval/repeat_interval on a fake clock, a restart neither repeats a
 * firing notification nor loses a resolved one, inhibited and silenced alerts are not sent,
 * reloads re-route, receivers can be tested, and alerts are forwarded to an Alertmanager.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStateDb, type StateDb } from '../src/store/state/db.ts';
import { DeliveryRepo } from '../src/store/state/deliveries.ts';
import { NotificationLogRepo } from '../src/store/state/notification-log.ts';
import { DEFAULT_OUTBOUND_POLICY } from '../src/net/outbound.ts';
import { DEFAULT_PAGERDUTY_URL, type NotificationConfig, type Receiver, type Route } from '../src/alerting/notify/config.ts';
import { newMatcher } from '../src/alerting/notify/matchers.ts';
import { Silences } from '../src/alerting/notify/silences.ts';
import { SilenceRepo } from '../src/store/state/silences.ts';
import { Notifier, UnknownReceiverError } from '../src/alerting/notify/notifier.ts';
import type { RetryClock } from '../src/alerting/notify/retry.ts';
import type { Labels, NotifyAlert } from '../src/alerting/types.ts';
import { fingerprint } from '../src/alerting/types.ts';
import { FakeTimers } from './helpers/fake-timers.ts';
import { startReceiver, type TestReceiver } from './helpers/notify-receiver.ts';

// A temporary directory without the server harness (this file needs no server).
function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const H = 3_600_000;
const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
// Real sleeps, shortened: retries happen for real against the receiver, just faster.
const fastRetry: RetryClock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms / 50, 50))), random: () => 0.5 };

const route = (over: Partial<Route> = {}): Route => ({
  id: '{}',
  key: '{}',
  receiver: 'team',
  groupBy: ['alertname'],
  groupByAll: false,
  matchers: [],
  continue: false,
  groupWaitMs: 0,
  groupIntervalMs: 5 * 60_000,
  repeatIntervalMs: 4 * H,
  muteTimeIntervals: [],
  activeTimeIntervals: [],
  routes: [],
  line: null,
  ...over,
});

const receiver = (name: string, urls: string[], sendResolved = true): Receiver => ({
  name,
  webhookConfigs: urls.map((url) => ({ url, sendResolved, maxAlerts: 0 })),
  slackConfigs: [],
  msteamsConfigs: [],
  emailConfigs: [],
  pagerdutyConfigs: [],
  line: null,
});

const config = (over: Partial<NotificationConfig> = {}): NotificationConfig => ({
  global: { resolveTimeoutMs: 5 * 60_000, smtpHello: 'localhost', smtpRequireTls: true, pagerdutyUrl: DEFAULT_PAGERDUTY_URL },
  route: route(),
  inhibitRules: [],
  timeIntervals: new Map(),
  receivers: [],
  ...over,
});

function alertOf(labels: Labels, startsAt: number, resolvedAt: number | null = null): NotifyAlert {
  return { fingerprint: fingerprint(labels), labels, annotations: { summary: 'it broke' }, startsAt, endsAt: resolvedAt, generatorURL: 'http://vigil.test/alerts/rules/r', resolved: resolvedAt !== null };
}

const noRequestWithin = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let cleanup: () => void;
let rx: TestReceiver;
const open: { db: StateDb; notifier?: Notifier }[] = [];
beforeAll(async () => {
  ({ dir, cleanup } = tempDir('vigil-notifier-'));
  rx = await startReceiver();
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.notifier?.stop();
    await o.db.destroy();
  }
  rx.requests.length = 0;
  rx.script.length = 0;
});
afterAll(async () => {
  await rx.close();
  cleanup();
});

let files = 0;
async function make(cfg: NotificationConfig, over: { file?: string; timers?: FakeTimers; forwardTo?: string[]; beforeStart?: (silences: Silences) => Promise<void> } = {}) {
  const db = await openStateDb(join(dir, over.file ?? `state-${++files}.sqlite`));
  const silences = new Silences(new SilenceRepo(db));
  await silences.load();
  await over.beforeStart?.(silences);
  const deliveries = new DeliveryRepo(db);
  const notifier = new Notifier({
    config: cfg,
    silences,
    nflog: new NotificationLogRepo(db),
    deliveries,
    policy: DEFAULT_OUTBOUND_POLICY,
    log: silentLog,
    externalUrl: 'http://vigil.test',
    timers: over.timers,
    retryClock: fastRetry,
    forwardTo: over.forwardTo,
  });
  open.push({ db, notifier });
  await notifier.start();
  return { notifier, deliveries, db };
}

describe('Notifier', () => {
  it('group_wait 0: the webhook gets Alertmanager JSON well within a second', async () => {
    const { notifier } = await make(config({ receivers: [receiver('team', [`${rx.url}/hook`])] }));
    const sent = performance.now();
    notifier.update([alertOf({ alertname: 'HighErrorRate', service_name: 'checkout' }, Date.now())]);
    const [req] = await rx.waitFor(1);
    expect(performance.now() - sent).toBeLessThan(1000);
    expect(req!.body).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'team',
      groupKey: '{}:{alertname="HighErrorRate"}',
      groupLabels: { alertname: 'HighErrorRate' },
      commonLabels: { alertname: 'HighErrorRate', service_name: 'checkout' },
      externalURL: 'http://vigil.test',
      truncatedAlerts: 0,
      alerts: [{ status: 'firing', endsAt: '0001-01-01T00:00:00Z', fingerprint: fingerprint({ alertname: 'HighErrorRate', service_name: 'checkout' }) }],
    });
  });

  it('group_wait 0: p95 from update to the webhook over 50 new groups stays far below the 1 s goal', async () => {
    const { notifier } = await make(config({ receivers: [receiver('team', [rx.url])] }));
    const latencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      notifier.update([alertOf({ alertname: `Latency${i}` }, Date.now())]);
      await rx.waitFor(i + 1);
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[Math.ceil(0.95 * latencies.length) - 1]!).toBeLessThan(500);
  });

  it('500, 500, 200: exactly one successful delivery, logged with 3 attempts', async () => {
    rx.script.push(500, 500);
    const { notifier, deliveries } = await make(config({ receivers: [receiver('team', [rx.url])] }));
    notifier.update([alertOf({ alertname: 'Retry' }, Date.now())]);
    await rx.waitFor(3);
    await noRequestWithin(200);
    expect(rx.requests.map((r) => r.headers['idempotency-key'])).toEqual(Array(3).fill(rx.requests[0]!.headers['idempotency-key']));
    const log = await deliveries.list(10);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 'ok', attempts: 3, httpStatus: 200, receiver: 'team', integration: 'webhook', firing: 1, resolved: 0, groupKey: '{}:{alertname="Retry"}' });
    // Re-sent by the next evaluation: nothing new goes out.
    notifier.update([alertOf({ alertname: 'Retry' }, Date.now())]);
    await noRequestWithin(100);
    expect(rx.requests).toHaveLength(3);
  });

  it('group_wait, group_interval and repeat_interval on a fake clock', async () => {
    const timers = new FakeTimers();
    const t0 = timers.t;
    const { notifier } = await make(config({ route: route({ groupWaitMs: 30_000, groupIntervalMs: 5 * 60_000, repeatIntervalMs: H }), receivers: [receiver('team', [rx.url])] }), { timers });
    // As the rule manager does: firing alerts lapse 4 evaluation intervals after their last refresh.
    const refresh = (labels: Labels[]) => notifier.update(labels.map((l) => ({ ...alertOf(l, t0), endsAt: timers.t + 20 * 60_000 })));
    refresh([{ alertname: 'A', i: '1' }]);
    await timers.advance(29_000);
    await noRequestWithin(50);
    expect(rx.requests).toHaveLength(0);
    await timers.advance(1000);
    await rx.waitFor(1);
    await notifier.idle();
    // A second alert joins the group; it goes out with the next group_interval flush, not before.
    await timers.advance(10_000);
    refresh([{ alertname: 'A', i: '1' }, { alertname: 'A', i: '2' }]);
    await timers.advance(4 * 60_000);
    await noRequestWithin(50);
    expect(rx.requests).toHaveLength(1);
    await timers.advance(50_000);
    await rx.waitFor(2);
    await notifier.idle();
    expect((rx.requests[1]!.body as { alerts: unknown[] }).alerts).toHaveLength(2);
    // Unchanged: silent at each group_interval flush until one comes strictly after repeat_interval
    // (1h) since the last send (at 5:30): the flushes at 10:30 … 65:30 send nothing, 70:30 repeats.
    for (let i = 0; i < 12; i++) {
      refresh([{ alertname: 'A', i: '1' }, { alertname: 'A', i: '2' }]);
      await timers.advance(5 * 60_000);
      await notifier.idle();
    }
    await noRequestWithin(50);
    expect(rx.requests).toHaveLength(2);
    refresh([{ alertname: 'A', i: '1' }, { alertname: 'A', i: '2' }]);
    await timers.advance(5 * 60_000);
    await rx.waitFor(3);
  });

  it('a restart while firing sends no duplicate, and the resolved notification still arrives', async () => {
    const cfg = config({ route: route({ groupWaitMs: 10_000, groupIntervalMs: 60_000 }), receivers: [receiver('team', [rx.url])] });
    const timers = new FakeTimers();
    const labels = { alertname: 'Down', service_name: 'api' };
    const first = await make(cfg, { file: 'restart.sqlite', timers });
    first.notifier.update([alertOf(labels, timers.t - 60_000)]);
    await rx.waitFor(1);
    const o = open.pop()!;
    await o.notifier!.stop();
    await o.db.destroy();

    const timers2 = new FakeTimers();
    timers2.t = timers.t + 5 * 60_000;
    const second = await make(cfg, { file: 'restart.sqlite', timers: timers2 });
    // The manager hands over its persisted firing alert before evaluating: the group flushes at once
    // (the alert is older than group_wait) and the log says it was sent.
    second.notifier.update([alertOf(labels, timers.t - 60_000)]);
    await timers2.advance(0);
    await noRequestWithin(150);
    expect(rx.requests).toHaveLength(1);
    second.notifier.update([alertOf(labels, timers.t - 60_000, timers2.t)]);
    await timers2.advance(60_000);
    await rx.waitFor(2);
    expect(rx.requests[1]!.body).toMatchObject({ status: 'resolved', alerts: [{ status: 'resolved' }] });
  });

  it('a resolved notification owed at a restart goes out after it', async () => {
    const cfg = config({ route: route({ groupWaitMs: 10_000 }), receivers: [receiver('team', [rx.url])] });
    const labels = { alertname: 'Owed' };
    const first = await make(cfg, { file: 'owed.sqlite' });
    first.notifier.update([alertOf(labels, Date.now() - 60_000)]);
    await rx.waitFor(1);
    const o = open.pop()!;
    await o.notifier!.stop();
    await o.db.destroy();
    const second = await make(cfg, { file: 'owed.sqlite' });
    second.notifier.update([alertOf(labels, Date.now() - 60_000, Date.now() - 1000)]);
    await rx.waitFor(2);
    expect(rx.requests[1]!.body).toMatchObject({ status: 'resolved' });
  });

  it('inhibited and silenced alerts are not sent; the API shows them suppressed', async () => {
    let silenceId = '';
    const cfg = config({
      route: route({ groupBy: ['alertname'] }),
      receivers: [receiver('team', [rx.url])],
      inhibitRules: [{ sourceMatchers: [newMatcher('=', 'severity', 'critical')], targetMatchers: [newMatcher('=', 'severity', 'warning')], equal: ['service_name'], line: null }],
    });
    const { notifier } = await make(cfg, {
      beforeStart: async (silences) => {
        const now = Date.now();
        silenceId = await silences.upsert({ matchers: [{ name: 'alertname', value: 'Silenced', isRegex: false, isEqual: true }], startsAt: new Date(now - 1000).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'test', comment: 'quiet' }, now);
      },
    });
    const now = Date.now();
    const source = alertOf({ alertname: 'Down', severity: 'critical', service_name: 'api' }, now);
    notifier.update([source, alertOf({ alertname: 'Slow', severity: 'warning', service_name: 'api' }, now), alertOf({ alertname: 'Slow', severity: 'warning', service_name: 'web' }, now), alertOf({ alertname: 'Silenced' }, now)]);
    await rx.waitFor(2);
    await noRequestWithin(200);
    const sent = rx.requests.flatMap((r) => (r.body as { alerts: { labels: Labels }[] }).alerts.map((a) => `${a.labels.alertname}/${a.labels.service_name ?? ''}`)).sort();
    expect(sent).toEqual(['Down/api', 'Slow/web']);
    const listed = notifier.alerts();
    const byName = (n: string, s?: string) => listed.find((a) => a.labels.alertname === n && (s === undefined || a.labels.service_name === s))!;
    expect(byName('Silenced').status).toEqual({ state: 'suppressed', silencedBy: [silenceId], inhibitedBy: [] });
    expect(byName('Slow', 'api').status).toEqual({ state: 'suppressed', silencedBy: [], inhibitedBy: [source.fingerprint] });
    expect(byName('Slow', 'web').status.state).toBe('active');
    expect(byName('Down').receivers).toEqual([{ name: 'team' }]);
    expect(notifier.alerts({ silenced: false, inhibited: false }).map((a) => a.labels.alertname).sort()).toEqual(['Down', 'Slow']);
  });

  it('a reload re-routes the groups to the new receiver', async () => {
    const other = await startReceiver();
    try {
      const cfg = config({ route: route({ groupWaitMs: 0, groupIntervalMs: 1000 }), receivers: [receiver('team', [rx.url]), receiver('ops', [other.url])] });
      const { notifier } = await make(cfg);
      notifier.update([alertOf({ alertname: 'A', team: 'ops' }, Date.now())]);
      await rx.waitFor(1);
      notifier.setConfig({ ...cfg, route: route({ groupWaitMs: 0, groupIntervalMs: 1000, routes: [route({ id: '{}/{team="ops"}/0', key: '{}/{team="ops"}', receiver: 'ops', matchers: [newMatcher('=', 'team', 'ops')] })] }) });
      const [req] = await other.waitFor(1);
      expect(req!.body).toMatchObject({ receiver: 'ops', groupKey: '{}/{team="ops"}:{alertname="A"}' });
      expect(notifier.groups().map((g) => g.receiver)).toEqual(['ops']);
    } finally {
      await other.close();
    }
  });

  it('testReceiver sends one synthetic alert through each integration and reports each', async () => {
    rx.script.push(200, 503);
    const { notifier, deliveries } = await make(config({ receivers: [receiver('team', [`${rx.url}/a`, `${rx.url}/b`])] }));
    const r = await notifier.testReceiver('team');
    expect(r.receiver).toBe('team');
    expect(r.results.map((x) => [x.integration, x.ok, x.status])).toEqual([
      ['webhook[0]', true, 200],
      ['webhook[1]', false, 503],
    ]);
    expect(rx.requests[0]!.body).toMatchObject({ alerts: [{ labels: { alertname: 'TestAlert' } }] });
    // Both attempts are in the delivery log, under the test group.
    const logged = (await deliveries.list(10)).filter((d) => d.receiver === 'team');
    expect(logged.map((d) => [d.groupKey, d.status, d.httpStatus]).sort()).toEqual([
      ['{}/test:{alertname="TestAlert"}', 'failed', 503],
      ['{}/test:{alertname="TestAlert"}', 'ok', 200],
    ]);
    await expect(notifier.testReceiver('nobody')).rejects.toBeInstanceOf(UnknownReceiverError);
  });

  it('forwards alerts to an existing Alertmanager in its postable format', async () => {
    const am = await startReceiver();
    try {
      const { notifier } = await make(config({ receivers: [receiver('team', [])] }), { forwardTo: [`${am.url}/`] });
      const startsAt = Date.UTC(2026, 11, 3, 10, 0, 0);
      notifier.update([{ ...alertOf({ alertname: 'Fwd' }, startsAt), endsAt: startsAt + 60_000 }]);
      const [req] = await am.waitFor(1);
      expect(req!.path).toBe('/api/v2/alerts');
      expect(req!.body).toEqual([{ labels: { alertname: 'Fwd' }, annotations: { summary: 'it broke' }, startsAt: '2026-12-03T10:00:00.000Z', endsAt: '2026-12-03T10:01:00.000Z', generatorURL: 'http://vigil.test/alerts/rules/r' }]);
    } finally {
      await am.close();
    }
  });

  it('alerts received before start are kept and routed at start', async () => {
    const db = await openStateDb(join(dir, 'early.sqlite'));
    const silences = new Silences(new SilenceRepo(db));
    await silences.load();
    const notifier = new Notifier({ config: config({ receivers: [receiver('team', [rx.url])] }), silences, nflog: new NotificationLogRepo(db), deliveries: new DeliveryRepo(db), policy: DEFAULT_OUTBOUND_POLICY, log: silentLog, externalUrl: 'http://vigil.test' });
    open.push({ db, notifier });
    notifier.update([alertOf({ alertname: 'Early' }, Date.now())]);
    await noRequestWithin(50);
    expect(rx.requests).toHaveLength(0);
    await notifier.start();
    await rx.waitFor(1);
  });
});
