/**
 * Alerting through a real Vigil: a rule file and real spans sent over OTLP make an alert fire at
 * once (pushed on commit, though the group interval is a minute), the Prometheus and Alertmanager
 * APIs show it, a loopback webhook gets Alertmanager's JSON, a silence suppresses; rules round-trip
 * between files and the API (created in ui.yml, file edits shown within seconds, an API edit keeps the
 * file's comments); bad input is refused with its line; history, deliveries and /metrics report it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertHistoryResponse, AmGettableAlert, AmGettableSilence, DeliveriesResponse, NotificationConfigResponse, PromAlertsResponse, PromRulesResponse, RuleDetail } from '../src/api/contract.ts';
import { startReceiver, type TestReceiver } from './helpers/notify-receiver.ts';
import { runVigil, startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';
import { sendErrorSpans } from './helpers/otlp-send.ts';

const dirs = tempDir('vigil-alerting-api-');
const rulesDir = join(dirs.dir, 'rules');
const notificationsFile = join(dirs.dir, 'alertmanager.yml');
let v: TestVigil;
let hook: TestReceiver;
let readToken: string;
let target: http.Server;
const monitorsDir = join(dirs.dir, 'monitors');
let writeToken: string;

const RULES = `# Checkout rules: written by hand.
groups:
  - name: shop
    # A long interval: only evaluation on commit can alert within seconds.
    interval: 1m
    rules:
      # Errors of checkout.
      - alert: CheckoutErrors
        expr: 'from spans service.name=checkout status=error | stats count() as value by service.name | where value > 5'
        range: 5m
        labels: { severity: critical }   # pages someone
        annotations:
          summary: 'checkout has {{ $value }} errors'
      - alert: BillingErrors
        expr: 'from spans service.name=billing status=error | stats count() as value by service.name | where value > 5'
        range: 5m
        labels: { severity: warning }
  - name: probes
    interval: 1h
    rules:
      - alert: ProbeDown
        monitor: { states: [down] }
        labels: { severity: critical }
`;

const notificationsYaml = (url: string) => `route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: ${url}/hook
        send_resolved: true
`;

beforeAll(async () => {
  hook = await startReceiver();
  // A checked service that is down from the start: its monitor goes down on its first check.
  target = http.createServer((_req, res) => res.writeHead(503).end('down'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  mkdirSync(monitorsDir, { recursive: true });
  writeFileSync(join(monitorsDir, 'probe.yml'), `monitors:\n  - id: probe\n    name: Probe\n    system: shop\n    type: http\n    url: http://127.0.0.1:${(target.address() as AddressInfo).port}/health\n    interval: 10s\n`);
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(join(rulesDir, 'shop.yml'), RULES);
  writeFileSync(notificationsFile, notificationsYaml(hook.url));
  v = await startTestVigil({ alerting: { rulesDir, notificationsFile, defaultRules: false }, monitors: { dir: monitorsDir }, agent: { selfMonitor: false } });
  readToken = await v.server.tokens.create('reader', 'read');
  writeToken = await v.server.tokens.create('writer', 'write');
}, 60_000);

afterAll(async () => {
  await v?.stop();
  await hook?.close();
  await new Promise((r) => target?.close(r));
  dirs.cleanup();
});

async function api<T = Record<string, unknown>>(method: string, path: string, token: string | undefined = v.adminToken, body?: unknown): Promise<{ status: number; body: T; text: string; type: string }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${v.server.urls.api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // YAML or plain text
  }
  return { status: res.status, body: parsed as T, text, type: res.headers.get('content-type') ?? '' };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await fn();
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

type WebhookBody = { version: string; status: string; receiver: string; groupKey: string; alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; generatorURL: string; fingerprint: string }[]; commonLabels: Record<string, string> };
const hookBodies = () => hook.requests.map((r) => r.body as WebhookBody);
const notified = (alertname: string) => hookBodies().filter((b) => b.alerts.some((a) => a.labels.alertname === alertname));

describe('alerting API', () => {
  it('loads the rule file: /api/v1/rules in the Prometheus shape, with Vigil additions', async () => {
    const { status, body } = await api<PromRulesResponse>('GET', '/api/v1/rules', readToken);
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    const group = body.data.groups.find((g) => g.name === 'shop')!;
    expect(group).toMatchObject({ file: 'shop.yml', interval: 60 });
    const rule = group.rules.find((r) => r.name === 'CheckoutErrors')!;
    expect(rule).toMatchObject({ type: 'alerting', id: 'shop.yml:shop:CheckoutErrors', file: 'shop.yml', source: 'query', range: 300, duration: 0, labels: { severity: 'critical' }, state: 'inactive' });
    expect(rule.query).toMatch(/service\.name=checkout/);
    const filtered = await api<PromRulesResponse>('GET', '/api/v1/rules?rule_name[]=BillingErrors', readToken);
    expect(filtered.body.data.groups.flatMap((g) => g.rules.map((r) => r.name))).toEqual(['BillingErrors']);
    expect((await api<PromRulesResponse>('GET', '/api/v1/rules?type=record', readToken)).body.data.groups).toEqual([]);
  });

  it('fires on real spans within seconds of the ingest ack (pushed, not polled) and the webhook gets Alertmanager JSON', async () => {
    const ackAt = await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'checkout', 8);
    const [req] = await until('the webhook', async () => hook.requests.find((r) => (r.body as WebhookBody).alerts?.some((a) => a.labels.alertname === 'CheckoutErrors')) && hook.requests.filter((r) => (r.body as WebhookBody).alerts?.some((a) => a.labels.alertname === 'CheckoutErrors')));
    // The group interval is 1m: only evaluation on commit gets here this fast.
    expect(req!.at - ackAt).toBeLessThan(5000);
    const body = req!.body as WebhookBody;
    expect(body).toMatchObject({ version: '4', status: 'firing', receiver: 'hook', commonLabels: { alertname: 'CheckoutErrors', severity: 'critical', service_name: 'checkout' } });
    expect(body.alerts[0]).toMatchObject({ status: 'firing', endsAt: '0001-01-01T00:00:00Z', annotations: { summary: 'checkout has 8 errors' } });
    expect(body.alerts[0]!.generatorURL).toBe(`${v.server.urls.api}/alerts/rules/${encodeURIComponent('shop.yml:shop:CheckoutErrors')}`);

    const alerts = await api<PromAlertsResponse>('GET', '/api/v1/alerts', readToken);
    const a = alerts.body.data.alerts.find((x) => x.labels.alertname === 'CheckoutErrors')!;
    expect(a).toMatchObject({ state: 'firing', value: '8', ruleId: 'shop.yml:shop:CheckoutErrors', labels: { alertname: 'CheckoutErrors', service_name: 'checkout', severity: 'critical' } });
    const am = await api<AmGettableAlert[]>('GET', '/api/v2/alerts?filter=alertname%3D%22CheckoutErrors%22', readToken);
    expect(am.body).toHaveLength(1);
    expect(am.body[0]).toMatchObject({ receivers: [{ name: 'hook' }], status: { state: 'active', silencedBy: [], inhibitedBy: [] }, fingerprint: a.fingerprint });
    const rules = await api<PromRulesResponse>('GET', '/api/v1/rules', readToken);
    const rule = rules.body.data.groups.flatMap((g) => g.rules).find((r) => r.name === 'CheckoutErrors')!;
    expect(rule).toMatchObject({ state: 'firing', health: 'ok' });
    expect(rule.lastEvaluation).not.toMatch(/^0001/);
  });

  it('a monitor rule fires when the monitor goes down, woken by the state change (its group interval is an hour)', async () => {
    const fired = await until(
      'the monitor alert',
      async () => (await api<PromAlertsResponse>('GET', '/api/v1/alerts', readToken)).body.data.alerts.find((a) => a.labels.alertname === 'ProbeDown' && a.state === 'firing'),
      30_000,
    );
    expect(fired.labels).toMatchObject({ monitor: 'probe', monitor_name: 'Probe', system: 'shop', severity: 'critical' });
    await until('the monitor alert at the webhook', async () => notified('ProbeDown').length > 0);
  }, 40_000);

  it('a silence suppresses the alert: listed as suppressed, not notified until the silence is expired', async () => {
    const now = Date.now();
    // A reader may not silence.
    expect((await api('POST', '/api/v2/silences', readToken, { matchers: [{ name: 'alertname', value: 'BillingErrors', isRegex: false }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'test', comment: 'x' })).status).toBe(403);
    const created = await api<{ silenceID: string }>('POST', '/api/v2/silences', writeToken, {
      matchers: [{ name: 'alertname', value: 'BillingErrors', isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      createdBy: 'test',
      comment: 'maintenance',
    });
    expect(created.status).toBe(200);
    const id = created.body.silenceID;
    const one = await api<AmGettableSilence>('GET', `/api/v2/silence/${id}`, readToken);
    expect(one.body).toMatchObject({ id, status: { state: 'active' }, createdBy: 'test', comment: 'maintenance' });

    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'billing', 8);
    const suppressed = await until('the suppressed alert', async () => {
      const r = await api<AmGettableAlert[]>('GET', '/api/v2/alerts?filter=alertname%3DBillingErrors', readToken);
      return r.body.find((a) => a.status.state === 'suppressed');
    });
    expect(suppressed.status.silencedBy).toEqual([id]);
    expect((await api<AmGettableAlert[]>('GET', '/api/v2/alerts?silenced=false', readToken)).body.some((a) => a.labels.alertname === 'BillingErrors')).toBe(false);
    await new Promise((r) => setTimeout(r, 2500));
    expect(notified('BillingErrors')).toEqual([]);

    expect((await api('DELETE', `/api/v2/silence/${id}`, writeToken)).status).toBe(200);
    expect((await api<AmGettableSilence>('GET', `/api/v2/silence/${id}`, readToken)).body.status.state).toBe('expired');
    await until('the notification once unsilenced', async () => notified('BillingErrors').length > 0, 15_000);
    expect((await api('DELETE', '/api/v2/silence/00000000-0000-0000-0000-000000000000', writeToken)).status).toBe(404);
  });

  it('vigil alerts and vigil silence add|list|expire work against the server', async () => {
    const env = { VIGIL_URL: v.server.urls.api, VIGIL_TOKEN: writeToken };
    const alerts = await runVigil(['alerts'], env);
    expect(alerts.code).toBe(0);
    expect(alerts.stdout).toMatch(/^STATE\s+ALERTNAME\s+LABELS\s+SINCE\s+VALUE/);
    expect(alerts.stdout).toMatch(/firing\s+CheckoutErrors\s+service_name="checkout" severity="critical"\s+\d+[smh]\w*\s+8/);
    const json = await runVigil(['alerts', '--json', '--firing'], env);
    expect(json.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { state: string }).state)).not.toContain('pending');
    const added = await runVigil(['silence', 'add', 'alertname=CheckoutErrors', 'service_name=~"check.*"', '--duration', '1h30m', '--comment', 'deploy', '--author', 'cli-test'], env);
    expect(added.code, added.stderr).toBe(0);
    const id = added.stdout.trim();
    const listed = await runVigil(['silence', 'list'], env);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toMatch(/service_name=~"check\.\*"/);
    expect(listed.stdout).toContain('cli-test');
    const stored = await api<AmGettableSilence>('GET', `/api/v2/silence/${id}`, readToken);
    expect(Date.parse(stored.body.endsAt) - Date.parse(stored.body.startsAt)).toBeGreaterThan(90 * 60_000 - 5000);
    expect((await runVigil(['silence', 'expire', id], env)).code).toBe(0);
    expect((await runVigil(['silence', 'list'], env)).stdout).not.toContain(id);
    expect((await runVigil(['silence', 'list', '--expired'], env)).stdout).toContain(id);
    const bad = await runVigil(['silence', 'add', 'alertname=~"("', '--comment', 'x'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/regex/);
    const denied = await runVigil(['silence', 'add', 'alertname=X', '--comment', 'x'], { ...env, VIGIL_TOKEN: readToken });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/403/);
  }, 60_000);

  it('refuses an invalid silence as Alertmanager does (400 with a message)', async () => {
    const r = await api('POST', '/api/v2/silences', writeToken, { matchers: [], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString(), createdBy: 't', comment: 'c' });
    expect(r.status).toBe(400);
    expect(typeof r.body).toBe('string');
  });

  it('takes alerts from other tools on POST /api/v2/alerts and notifies them', async () => {
    const r = await api('POST', '/api/v2/alerts', writeToken, [{ labels: { alertname: 'ExternalDiskFull', instance: 'db-1' }, annotations: { summary: 'from another tool' } }]);
    expect(r.status).toBe(200);
    const listed = await api<AmGettableAlert[]>('GET', '/api/v2/alerts?filter=alertname%3DExternalDiskFull', readToken);
    expect(listed.body).toHaveLength(1);
    await until('the external alert at the webhook', async () => notified('ExternalDiskFull').length > 0);
    expect((await api('POST', '/api/v2/alerts', writeToken, [{ labels: {} }])).status).toBe(400);
  });

  it('creates a rule through the API: stored in ui.yml, listed in /api/v1/rules, exported as YAML', async () => {
    const created = await api<RuleDetail>('POST', '/api/v1/alerting/rules', writeToken, { rule: { alert: 'UiSlowSearch', expr: 'from spans service.name=search | stats p95(duration_ms) as value by service.name | where value > 2000', for: '2m', labels: { severity: 'warning' } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ file: 'ui.yml', group: 'ui', rule: { alert: 'UiSlowSearch', for: '2m' } });
    expect(readFileSync(join(rulesDir, 'ui.yml'), 'utf8')).toMatch(/alert: UiSlowSearch/);
    const rules = await api<PromRulesResponse>('GET', '/api/v1/rules', readToken);
    expect(rules.body.data.groups.find((g) => g.file === 'ui.yml')?.rules.map((r) => r.name)).toEqual(['UiSlowSearch']);
    const exported = await api('GET', `/api/v1/alerting/rules/${encodeURIComponent(created.body.id)}/export`, readToken);
    expect(exported.status).toBe(200);
    expect(exported.type).toMatch(/yaml/);
    expect(exported.text).toMatch(/groups:/);
    expect(exported.text).toMatch(/alert: UiSlowSearch/);
    // A viewer cannot write rules.
    expect((await api('POST', '/api/v1/alerting/rules', readToken, { rule: { alert: 'X', expr: 'from spans | stats count()' } })).status).toBe(403);
    const del = await api('DELETE', `/api/v1/alerting/rules/${encodeURIComponent(created.body.id)}`, writeToken);
    expect(del.status).toBe(204);
    expect((await api('GET', `/api/v1/alerting/rules/${encodeURIComponent(created.body.id)}`, readToken)).status).toBe(404);
  });

  it('refuses an invalid rule with 400 naming the field', async () => {
    const bad = await api<{ error: string; errors: { field: string | null; line: number | null; message: string }[] }>('POST', '/api/v1/alerting/rules', writeToken, { rule: { alert: 'Broken', expr: 'from spans | stats count( by' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.length).toBeGreaterThan(0);
    expect(bad.body.errors[0]!.field).toMatch(/expr/);
  });

  it('shows a file edit within 3 seconds, and keeps a broken file at its last good version', async () => {
    const started = Date.now();
    writeFileSync(join(rulesDir, 'extra.yml'), `groups:\n  - name: extra\n    rules:\n      - alert: ExtraRule\n        expr: 'from logs severity>=ERROR | stats count() as value | where value > 100'\n`);
    await until(
      'the new file in /api/v1/rules',
      async () => (await api<PromRulesResponse>('GET', '/api/v1/rules', readToken)).body.data.groups.some((g) => g.rules.some((r) => r.name === 'ExtraRule')),
      3000,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    writeFileSync(join(rulesDir, 'extra.yml'), `groups:\n  - name: extra\n    rules:\n      - alert: ExtraRule\n        expr: 'from logs | stats count( as value'\n`);
    const errors = await until('the file error', async () => {
      const r = await api<PromRulesResponse>('GET', '/api/v1/rules', readToken);
      return r.body.data.fileErrors.length > 0 && r.body;
    });
    expect(errors.data.fileErrors[0]).toMatchObject({ file: 'extra.yml', line: 5 });
    expect(errors.data.groups.some((g) => g.rules.some((r) => r.name === 'ExtraRule'))).toBe(true);
  });

  it('writes an API edit of a file rule back into its file, keeping its comments', async () => {
    const id = encodeURIComponent('shop.yml:shop:BillingErrors');
    const detail = await api<RuleDetail>('GET', `/api/v1/alerting/rules/${id}`, readToken);
    expect(detail.status).toBe(200);
    const put = await api<RuleDetail>('PUT', `/api/v1/alerting/rules/${id}`, writeToken, { rule: { ...detail.body.rule, labels: { severity: 'critical' }, for: '30s' } });
    expect(put.status).toBe(200);
    const text = readFileSync(join(rulesDir, 'shop.yml'), 'utf8');
    expect(text).toMatch(/# Checkout rules: written by hand\./);
    expect(text).toMatch(/# A long interval: only evaluation on commit can alert within seconds\./);
    expect(text).toMatch(/# Errors of checkout\./);
    expect(text).toMatch(/# pages someone/);
    expect(text).toMatch(/for: 30s/);
    const rules = await api<PromRulesResponse>('GET', '/api/v1/rules', readToken);
    expect(rules.body.data.groups.flatMap((g) => g.rules).find((r) => r.name === 'BillingErrors')).toMatchObject({ duration: 30, labels: { severity: 'critical' } });
  });

  it('backtests a draft over stored data', async () => {
    const r = await api<{ evaluations: number; firings: unknown[]; series: unknown[] }>('POST', '/api/v1/rules/backtest', readToken, { rule: { alert: 'Draft', expr: 'from spans service.name=checkout status=error | stats count() as value by service.name | where value > 5', range: '5m' }, days: 1, interval: '5m' });
    expect(r.status).toBe(200);
    expect(r.body.evaluations).toBeGreaterThan(0);
    expect(r.body.firings.length).toBeGreaterThan(0);
    expect((await api('POST', '/api/v1/rules/backtest', readToken, { rule: { alert: 'Draft', expr: 'from spans | stats count()' }, days: 31 })).status).toBe(400);
  });

  it('serves notification settings masked for non-admins, validates edits with their line, and tests a receiver', async () => {
    const asReader = await api<NotificationConfigResponse>('GET', '/api/v1/alerting/notifications', readToken);
    expect(asReader.status).toBe(200);
    expect(asReader.body.yaml).not.toContain(hook.url);
    expect(asReader.body.receivers.map((x) => x.name)).toEqual(['hook']);
    const asAdmin = await api<NotificationConfigResponse>('GET', '/api/v1/alerting/notifications', v.adminToken);
    expect(asAdmin.body.yaml).toContain(hook.url);
    const bad = await api<{ errors: { line: number | null; field: string | null }[] }>('PUT', '/api/v1/alerting/notifications', writeToken, { yaml: asAdmin.body.yaml.replace('receiver: hook', 'receiver: nobody') });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]!.line).toBeGreaterThan(0);
    const before = hook.requests.length;
    const test = await api<{ results: { ok: boolean }[] }>('POST', '/api/v1/alerting/receivers/hook/test', writeToken);
    expect(test.status).toBe(200);
    expect(test.body.results.map((x) => x.ok)).toEqual([true]);
    expect(hook.requests.length).toBe(before + 1);
    expect((await api('POST', '/api/v1/alerting/receivers/nobody/test', writeToken)).status).toBe(404);
  });

  it('audits every change with what changed, and not the alerts other tools post', async () => {
    const entries = (await api<{ entries: { actor: string; action: string; target: string | null; details: Record<string, unknown> | null }[] }>('GET', '/api/v1/audit?limit=1000')).body.entries;
    const actions = entries.map((e) => e.action);
    for (const a of ['silence.created', 'silence.expired', 'rule.created', 'rule.updated', 'rule.deleted', 'receiver.tested']) expect(actions, a).toContain(a);
    const silence = entries.find((e) => e.action === 'silence.created' && e.actor === 'token:writer' && e.details?.comment === 'maintenance')!;
    expect(silence.details).toMatchObject({ createdBy: 'test', comment: 'maintenance', matchers: [{ name: 'alertname', value: 'BillingErrors' }] });
    expect(entries.find((e) => e.action === 'rule.updated')!.target).toBe('rule:shop.yml:shop:BillingErrors');
    expect(entries.some((e) => e.target?.includes('/api/v2/alerts'))).toBe(false);
  });

  it('reports history for chart markers, deliveries, and its own metrics', async () => {
    const history = await api<AlertHistoryResponse>('GET', '/api/v1/alerting/history?since=1h&service=checkout', readToken);
    expect(history.status).toBe(200);
    expect(history.body.transitions.some((t) => t.alertname === 'CheckoutErrors' && t.to === 'firing')).toBe(true);
    expect(history.body.transitions.every((t) => t.labels.service_name === 'checkout')).toBe(true);
    const deliveries = await api<DeliveriesResponse>('GET', '/api/v1/alerting/deliveries?receiver=hook', readToken);
    expect(deliveries.body.deliveries.some((d) => d.status === 'ok' && d.integration.startsWith('webhook'))).toBe(true);
    const metrics = await api('GET', '/metrics', v.adminToken);
    expect(metrics.text).toMatch(/vigil_alerting_rule_evaluations_total \d+/);
    expect(metrics.text).toMatch(/vigil_alerts\{state="firing"\} [1-9]/);
    expect(metrics.text).toMatch(/vigil_notifications_total\{integration="webhook[^"]*",status="ok"\} [1-9]/);
  });
});
