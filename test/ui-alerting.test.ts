/**
 * Alerting in the web UI, in a real browser against a real Vigil: a rule file and real spans (sent
 * with the OpenTelemetry SDK) that cross its threshold make an alert fire, and the alerts page shows it
 * with the value `/api/v1/alerts` gives; a rule created in the editor is saved, listed and served by
 * `/api/v1/rules`; a backtest draws a chart with a firing band; a silence is created from the alert and
 * expired; the notifications page lists the receiver, sends a test and shows the deliveries a webhook
 * receiver (started here, on loopback) got; the service page marks the alert on its charts. Label and
 * annotation text stays text.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmGettableAlert, AmGettableSilence, BacktestResponse, DeliveriesResponse, PromAlertsResponse, PromRulesResponse } from '../src/api/contract.ts';
import { fmtAlertValue } from '../web/src/alert-format.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, signIn } from './helpers/ui.ts';
import { startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';

const PASSWORD = 'correct-horse-battery';
const XSS = '<img src=x onerror="window.__xss=1">';
let v: TestVigil;
let base: string;
let browser: Browser;
let page: Page;
let hook: Server;
const posts: { path: string; body: { status?: string; alerts?: { labels: Record<string, string>; status: string }[] } }[] = [];
const pageErrors: string[] = [];
const dirs = tempDir('vigil-ui-alerting-');

const RULES = `# Checkout rules (this comment stays when the UI edits the file)
groups:
  - name: checkout
    interval: 1s
    rules:
      - alert: CheckoutErrors
        # a fifth of payments failing pages the payments team
        expr: 'from spans service.name=checkout kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by service.name, http.route | where n >= 5 and value > 0.2'
        range: 10m
        for: 0s
        labels: { severity: critical, team: payments }
        annotations:
          summary: 'Checkout fails {{ $value | humanizePercentage }} of requests ${XSS}'
`;

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${v.adminToken}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Server spans of `checkout`, half of them failed: `n` over the last four minutes (the live alert) and
 * as many again from three to two hours ago (an hour the backtest finds firing).
 */
async function sendSpans(n: number): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.namespace': 'shop', 'host.name': 'shop-1' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${v.server.urls.otlp}/v1/traces`, headers: { Authorization: `Bearer ${v.ingestToken}` } }))],
  });
  const tracer = provider.getTracer('ui-alerting');
  const now = Date.now();
  const starts = [...Array.from({ length: n }, (_, i) => now - 4 * 60_000 + (i / n) * 4 * 60_000), ...Array.from({ length: n * 3 }, (_, i) => now - 3 * 3_600_000 + (i / (n * 3)) * 3_600_000)];
  for (const [i, start] of starts.entries()) {
    const fail = i % 2 === 0;
    const span = tracer.startSpan('POST /api/pay', { kind: SpanKind.SERVER, startTime: new Date(start), attributes: { 'http.route': '/api/pay', 'http.request.method': 'POST', 'http.response.status_code': fail ? 500 : 200 } });
    if (fail) span.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined by the bank' });
    span.end(new Date(start + 40 + (i % 7) * 10));
  }
  await provider.forceFlush();
  await provider.shutdown();
}

/** Polls outside a test (expect.poll only works inside one). */
async function until(check: () => Promise<unknown>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const firing = async () => (await get<PromAlertsResponse>('/api/v1/alerts')).data.alerts.find((a) => a.labels.alertname === 'CheckoutErrors' && a.state === 'firing');

beforeAll(async () => {
  ensureWebBuilt();
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', body: JSON.parse(body || '{}') as (typeof posts)[number]['body'] });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  const rulesDir = join(dirs.dir, 'rules');
  mkdirSync(rulesDir);
  writeFileSync(join(rulesDir, 'checkout.yml'), RULES);
  const notificationsFile = join(dirs.dir, 'alertmanager.yml');
  writeFileSync(
    notificationsFile,
    `route:
  receiver: team-webhook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: team-webhook
    webhook_configs:
      - url: ${hookUrl}
        send_resolved: true
`,
  );
  v = await startTestVigil({ alerting: { rulesDir, notificationsFile, defaultRules: false } });
  base = v.server.urls.api;
  await v.server.users.create({ username: 'alice', password: PASSWORD, role: 'admin' });
  await v.server.users.create({ username: 'victor', password: PASSWORD, role: 'viewer' });
  await sendSpans(40);
  await until(firing, 30_000, 'CheckoutErrors to fire');
  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/login?next=/alerts`);
  await signIn(page, 'alice', PASSWORD);
  await page.waitForURL(`${base}/alerts`);
}, 120_000);

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await browser?.close();
  await v?.stop();
  await new Promise((r) => hook?.close(r));
  dirs.cleanup();
});

const shot = (name: string) => page.screenshot({ path: `${OUTPUT}/ui-alerting-${name}.png`, fullPage: true });
const alertRow = () => page.getByRole('table', { name: 'alerts' }).getByRole('row').filter({ hasText: 'CheckoutErrors' });

describe('alerts', () => {
  it('shows the firing alert with the value /api/v1/alerts gives, its labels, duration and summary as text', async () => {
    const row = alertRow();
    await expect.poll(() => row.count(), { timeout: 60_000 }).toBe(1);
    const api = (await firing())!;
    // The value cell carries the raw value and shows it in its unit (a share of requests here).
    await expect.poll(() => row.getByTestId('alert-value').getAttribute('data-value'), { timeout: 15_000 }).toBe((await firing())!.value);
    expect(await row.getByTestId('alert-value').textContent()).toBe(fmtAlertValue(api.value, 'percent'));
    expect(Number(api.value)).toBeCloseTo(0.5, 1);
    const text = (await row.textContent())!;
    expect(text).toContain('firing');
    expect(text).toMatch(/firing for \d+(s|m)/);
    expect(text).toContain('severity=critical');
    expect(text).toContain('service_name=checkout');
    expect(text).toContain('http_route=/api/pay');
    // The annotation's markup is shown as text, never run.
    expect(text).toContain('<img src=x');
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // The sidebar counts what fires.
    expect(await page.getByTestId('nav-firing').textContent()).toBe('1');
    // The notifier sent it to the webhook (group_wait 0).
    await expect.poll(() => posts.some((p) => p.body.status === 'firing' && p.body.alerts?.some((a) => a.labels.alertname === 'CheckoutErrors')), { timeout: 30_000 }).toBe(true);
    await shot('alerts');
  }, 90_000);
});

describe('rules', () => {
  it('lists the file rule with its file and line, and a rule created in the editor is saved, listed and served by /api/v1/rules', async () => {
    await page.getByRole('navigation', { name: 'alerting' }).getByRole('link', { name: 'Rules' }).click();
    await page.waitForURL(`${base}/alerts/rules`);
    const table = page.getByRole('table', { name: 'rules of checkout' });
    const fileRow = table.getByRole('row').filter({ hasText: 'CheckoutErrors' });
    await expect.poll(() => fileRow.count(), { timeout: 30_000 }).toBe(1);
    expect(await fileRow.textContent()).toMatch(/checkout\.yml:\d+/);
    expect(await fileRow.textContent()).toContain('ok');

    await page.getByRole('link', { name: 'New rule' }).click();
    await page.waitForURL(`${base}/alerts/rules/new`);
    const form = page.getByRole('form', { name: 'alert rule' });
    await form.getByLabel('Alert name').fill('CheckoutSlow');
    await form.getByLabel('query', { exact: true }).fill('from spans service.name=checkout kind=server | stats p95(duration_ms) as value count() as n by service.name');
    await form.getByLabel(/^For/).fill('1 minute');
    await form.getByRole('button', { name: 'Create rule' }).click();
    // A duration the form can tell is wrong is shown under its field, and nothing is saved.
    await expect.poll(() => form.locator('.field.has-error .field-error').textContent()).toMatch(/expected a duration/);
    await form.getByLabel(/^For/).fill('2m');
    // What only the server can tell (the condition's syntax) comes back under its field too.
    await form.getByLabel(/^Condition/).fill('value >>> 60000');
    await form.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => form.locator('.field.has-error .field-error').textContent(), { timeout: 15_000 }).toMatch(/expected a value after '>'/);
    await form.getByLabel(/^Condition/).fill('value > 60000 and n >= 10');
    await form.getByRole('button', { name: 'Create rule' }).click();
    await page.waitForURL(/\/alerts\/rules\/ui\.yml/, { timeout: 30_000 });
    await expect.poll(() => page.getByTestId('rule-yaml').textContent(), { timeout: 15_000 }).toContain('alert: CheckoutSlow');
    expect(await page.getByTestId('rule-yaml').textContent()).toContain('for: 2m');

    await expect
      .poll(async () => (await get<PromRulesResponse>('/api/v1/rules')).data.groups.flatMap((g) => g.rules).find((r) => r.name === 'CheckoutSlow'), { timeout: 15_000 })
      .toMatchObject({ file: 'ui.yml', duration: 120, condition: 'value > 60000 and n >= 10' });
    await page.getByRole('navigation', { name: 'alerting' }).getByRole('link', { name: 'Rules' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'CheckoutSlow' }).count(), { timeout: 15_000 }).toBe(1);
    await shot('rules');
  }, 90_000);

  it('backtests the rule under the editor: the chart has a firing band, and the summary agrees with the API', async () => {
    await page.getByRole('link', { name: 'CheckoutErrors' }).first().click();
    await page.waitForURL(/\/alerts\/rules\/checkout\.yml/);
    await expect.poll(() => page.getByTestId('rule-yaml').textContent(), { timeout: 15_000 }).toContain('# a fifth of payments failing pages the payments team');
    await page.getByRole('group', { name: 'backtest days' }).getByRole('button', { name: '1 day' }).click();
    const chart = page.getByTestId('backtest-chart');
    await expect.poll(() => chart.count(), { timeout: 60_000 }).toBe(1);
    const firings = Number(await chart.getAttribute('data-firings'));
    // The hour two to three hours ago, and now.
    expect(firings).toBeGreaterThanOrEqual(2);
    const summary = (await page.getByTestId('backtest-summary').textContent())!;
    expect(summary).toMatch(/would have fired \d+ times, for (1h|\d+h \d+m) in total, sending \d+ notifications/);
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-2)!);
    const res = await fetch(`${base}/api/v1/rules/backtest`, { method: 'POST', headers: { authorization: `Bearer ${v.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ id, days: 1 }) });
    const api = (await res.json()) as BacktestResponse;
    expect(api.firings.length).toBe(firings);
    expect(summary).toContain(`sending ${api.notifications} notification`);
    // The band is painted: the faint red of a firing period fills part of the plot (the threshold line is solid red).
    const tinted = await chart.locator('canvas').first().evaluate((c) => {
      type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const canvas = c as unknown as Canvas;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      // The canvas is transparent: a band pixel is the firing red at low opacity (lines are opaque).
      for (let i = 0; i < data.length; i += 4) if (data[i]! > 200 && data[i + 1]! < 110 && data[i + 3]! >= 20 && data[i + 3]! <= 60) n++;
      return n;
    });
    expect(tinted).toBeGreaterThan(1000);
    await shot('backtest');
  }, 120_000);
});

describe('silences', () => {
  it('creates a silence from the alert (prefilled with its labels, previewing what it silences) and expires it', async () => {
    await page.goto(`${base}/alerts`);
    await alertRow().getByRole('link', { name: 'Silence…' }).click();
    await page.waitForURL(/\/alerts\/silences\?matchers=/);
    const form = page.getByRole('form', { name: 'new silence' });
    expect(await form.getByLabel(/^Matchers/).inputValue()).toContain('alertname="CheckoutErrors"');
    await form.getByLabel(/^Matchers/).fill('alertname="CheckoutErrors" service_name=~"check.*"');
    await expect.poll(() => page.getByTestId('silence-preview').textContent()).toMatch(/Would silence 1 of \d+ current alert/);
    await form.getByLabel(/^Matchers/).fill('alertname="CheckoutErrors" service_name=~"check"');
    await expect.poll(() => page.getByTestId('silence-preview').textContent()).toMatch(/Would silence 0 of/);
    await form.getByLabel(/^Matchers/).fill('alertname="CheckoutErrors" service_name=~"check.*"');
    await form.getByLabel(/^Duration/).fill('2h');
    await form.getByLabel(/^Comment/).fill('bank outage, card team on it');
    await form.getByRole('button', { name: 'Create silence' }).click();
    await expect.poll(() => page.getByTestId('silence-created').count(), { timeout: 15_000 }).toBe(1);
    const id = /Silence (\S+) created/.exec((await page.getByTestId('silence-created').textContent())!)![1]!;
    const silence = (await get<AmGettableSilence[]>('/api/v2/silences')).find((s) => s.id === id)!;
    expect(silence.status.state).toBe('active');
    expect(silence.createdBy).toBe('alice');
    expect(silence.matchers).toEqual(expect.arrayContaining([{ name: 'service_name', value: 'check.*', isRegex: true, isEqual: true }]));
    await expect.poll(async () => (await get<AmGettableAlert[]>('/api/v2/alerts')).find((a) => a.labels.alertname === 'CheckoutErrors')?.status.silencedBy, { timeout: 15_000 }).toEqual([id]);
    const row = page.getByRole('table', { name: 'silences' }).getByRole('row').filter({ hasText: 'bank outage' });
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    expect(await row.textContent()).toContain('service_name=~"check.*"');
    await shot('silences');

    // The alerts page marks it silenced.
    await page.goto(`${base}/alerts`);
    await expect.poll(async () => (await alertRow().textContent()) ?? '', { timeout: 20_000 }).toContain('silenced');

    await page.goto(`${base}/alerts/silences`);
    await row.getByRole('button', { name: 'Expire' }).click();
    await row.getByRole('button', { name: 'Expire now' }).click();
    await expect.poll(async () => (await get<AmGettableSilence[]>('/api/v2/silences')).find((s) => s.id === id)?.status.state, { timeout: 15_000 }).toBe('expired');
    await page.getByRole('group', { name: 'silence state' }).getByRole('button', { name: /^Expired/ }).click();
    await expect.poll(() => page.getByRole('table', { name: 'silences' }).getByRole('row').filter({ hasText: 'bank outage' }).count()).toBe(1);
  }, 90_000);
});

describe('notifications', () => {
  it('shows the configuration, the receiver with a working Send test, and the delivery log', async () => {
    await page.getByRole('navigation', { name: 'alerting' }).getByRole('link', { name: 'Notifications' }).click();
    await page.waitForURL(`${base}/alerts/notifications`);
    const config = page.getByLabel('notification configuration');
    await expect.poll(() => config.inputValue(), { timeout: 15_000 }).toContain('team-webhook');
    const receiver = page.getByRole('listitem', { name: 'receiver team-webhook' });
    expect(await receiver.textContent()).toContain('webhook');
    const before = posts.length;
    await receiver.getByRole('button', { name: 'Send test' }).click();
    await expect.poll(() => receiver.getByRole('table').textContent(), { timeout: 30_000 }).toContain('delivered');
    expect(posts.length).toBeGreaterThan(before);

    const deliveries = await get<DeliveriesResponse>('/api/v1/alerting/deliveries');
    expect(deliveries.deliveries.some((d) => d.receiver === 'team-webhook' && d.status === 'ok')).toBe(true);
    const log = page.getByRole('table', { name: 'deliveries' });
    await expect.poll(() => log.getByRole('row').filter({ hasText: 'team-webhook' }).count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await log.textContent()).toContain('delivered');

    // A configuration Alertmanager would refuse is refused with its line; the file stays as it was.
    await config.fill(`${await config.inputValue()}\ninhibit_rules:\n  - source_matchers: ['severity="critical"']\n    target_matchers: ['severity=~"(unclosed"']\n`);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('config-error').textContent(), { timeout: 15_000 }).toMatch(/:\d+/);
    await shot('notifications');
    await page.getByRole('button', { name: 'Discard changes' }).click();
  }, 90_000);
});

describe('service page', () => {
  it('draws the firing alert on the service charts, with a legend entry', async () => {
    await page.goto(`${base}/services/checkout?since=1h`);
    const legend = page.getByTestId('alert-legend');
    await expect.poll(() => legend.count(), { timeout: 30_000 }).toBe(1);
    expect(await legend.textContent()).toContain('CheckoutErrors');
    await shot('service');
  }, 60_000);
});

describe('viewer', () => {
  it('reads alerts, rules and notifications but changes nothing', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const p = await ctx.newPage();
    p.on('pageerror', (e) => pageErrors.push(e.message));
    await p.goto(`${base}/login?next=/alerts/notifications`);
    await signIn(p, 'victor', PASSWORD);
    await p.waitForURL(`${base}/alerts/notifications`);
    const config = p.getByLabel('notification configuration');
    await expect.poll(() => config.inputValue(), { timeout: 15_000 }).toContain('team-webhook');
    expect(await config.getAttribute('readonly')).not.toBeNull();
    expect(await p.getByRole('button', { name: 'Send test' }).count()).toBe(0);
    await p.goto(`${base}/alerts/rules`);
    await expect.poll(() => p.getByRole('link', { name: 'CheckoutErrors' }).count(), { timeout: 15_000 }).toBe(1);
    expect(await p.getByRole('link', { name: 'New rule' }).count()).toBe(0);
    await p.goto(`${base}/alerts`);
    await expect.poll(() => p.getByRole('table', { name: 'alerts' }).count(), { timeout: 15_000 }).toBe(1);
    expect(await p.getByRole('link', { name: 'Silence…' }).count()).toBe(0);
    await ctx.close();
  }, 60_000);
});

/** Sideways scrolling, tables wider than their box, panels clipping their content (a string: no DOM types here). */
const LAYOUT_PROBLEMS = `(() => {
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.getAttribute('aria-label') ? '[' + el.getAttribute('aria-label') + ']' : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1) problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + vw);
  for (const t of document.querySelectorAll('main table')) if (t.offsetWidth > t.parentElement.clientWidth + 1) problems.push(name(t) + ' is wider than its container');
  for (const el of document.querySelectorAll('main .panel-body')) if (el.scrollWidth > el.clientWidth + 1) problems.push(name(el) + ' clips its content: ' + el.scrollWidth + ' > ' + el.clientWidth);
  return problems;
})()`;

describe('layout', () => {
  it('the alerting pages fit 1024 px', async () => {
    await page.setViewportSize({ width: 1024, height: 900 });
    const found: string[] = [];
    const id = (await get<PromRulesResponse>('/api/v1/rules')).data.groups.flatMap((g) => g.rules).find((r) => r.name === 'CheckoutErrors')!.id;
    for (const path of ['/alerts', '/alerts/rules', `/alerts/rules/${encodeURIComponent(id)}/edit`, '/alerts/rules/new', '/alerts/silences', '/alerts/notifications']) {
      await page.goto(`${base}${path}`);
      await expect.poll(() => page.locator('.state.loading').count(), { timeout: 15_000 }).toBe(0);
      await expect.poll(() => page.locator('main .panel').count(), { timeout: 15_000 }).toBeGreaterThan(0);
      await page.waitForTimeout(300);
      found.push(...((await page.evaluate(LAYOUT_PROBLEMS)) as string[]).map((p) => `${path}: ${p}`));
      await page.screenshot({ path: `${OUTPUT}/ui-alerting-1024-${path.replace(/[^a-z0-9]+/gi, '_').slice(0, 60)}.png`, fullPage: true });
    }
    expect(found).toEqual([]);
    await page.setViewportSize({ width: 1400, height: 1000 });
  }, 90_000);
});
