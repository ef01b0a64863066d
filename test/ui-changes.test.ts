/**
 * Changes in the web UI, in a real browser against a real Vigil: changes posted through the API (as a
 * pipeline and a person would) and one detected from spans whose service.version moves are listed on
 * `/changes` with time, service, kind, version ← previous, description, author and source, filtered by
 * kind and service (an empty result explains how to post one); the service page marks them on every
 * chart, with hover titles and a legend naming kind, version and author; the sidebar links the list.
 */
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangesResponse } from '../src/api/contract.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, signIn } from './helpers/ui.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';

const PASSWORD = 'correct-horse-battery';
const XSS = '<img src=x onerror="window.__xss=1">';
let v: TestVigil;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const MIN = 60_000;

/** Server spans of checkout at `version`, spread over [from, to). */
async function sendSpans(version: string, from: number, to: number, n: number): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.namespace': 'shop', 'service.version': version, 'service.instance.id': `checkout-${version}`, 'host.name': 'shop-1' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${v.server.urls.otlp}/v1/traces`, headers: { Authorization: `Bearer ${v.ingestToken}` } }))],
  });
  const tracer = provider.getTracer('ui-changes');
  for (let i = 0; i < n; i++) {
    const start = from + ((to - from) * i) / n;
    const span = tracer.startSpan('POST /api/pay', { kind: SpanKind.SERVER, startTime: new Date(start), attributes: { 'http.route': '/api/pay', 'http.request.method': 'POST', 'http.response.status_code': 200 } });
    span.end(new Date(start + 30 + (i % 5) * 10));
  }
  await provider.forceFlush();
  await provider.shutdown();
}

async function post(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${base}/api/v1/changes`, { method: 'POST', headers: { authorization: `Bearer ${v.ingestToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  ensureWebBuilt();
  v = await startTestVigil({ alerting: { defaultRules: false } });
  base = v.server.urls.api;
  await v.server.users.create({ username: 'alice', password: PASSWORD, role: 'admin' });
  const now = Date.now();
  // 4.0 for a while, then 4.1: Vigil detects the deploy.
  await sendSpans('4.0', now - 40 * MIN, now - 20 * MIN, 60);
  await v.server.changes.idle();
  await sendSpans('4.1', now - 20 * MIN, now, 60);
  await v.server.changes.idle();
  await post({ service: 'checkout', namespace: 'shop', kind: 'config', description: `payment retries 3 → 5 ${XSS}`, author: 'alice', timestamp: now - 30 * MIN, source: 'ansible' });
  await post({ service: 'checkout', kind: 'feature_flag', description: 'new-pricing on for 10%', author: 'bob', timestamp: now - 10 * MIN, attributes: { flag: 'new-pricing' } });
  await post({ service: 'lms-api', namespace: 'lms', kind: 'deploy', version: '2.5.0', previousVersion: '2.4.1', description: 'lms-api deployed', author: 'ci', commit: '9fceb02aa1', timestamp: now - 5 * MIN });
  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/login?next=${encodeURIComponent('/changes?since=1h')}`);
  await signIn(page, 'alice', PASSWORD);
  await page.waitForURL(`${base}/changes?since=1h`);
}, 120_000);

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await browser?.close();
  await v?.stop();
});

const shot = (name: string) => page.screenshot({ path: `${OUTPUT}/ui-changes-${name}.png`, fullPage: true });
const rows = () => page.getByTestId('change-row');

describe('change list', () => {
  it('lists every change newest first with service, kind, version ← previous, description, author and source', async () => {
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(4);
    const texts = await rows().allTextContents();
    expect(texts[0]).toMatch(/lms-api.*deploy.*2\.5\.0 ← 2\.4\.1.*lms-api deployed.*commit 9fceb02aa1.*ci.*api/);
    expect(texts[1]).toMatch(/checkout.*feature flag.*new-pricing on for 10%.*bob.*api/);
    expect(texts[2]).toMatch(/checkout.*deploy.*4\.1 ← 4\.0.*detected/);
    expect(texts[3]).toMatch(/checkout.*config.*payment retries 3 → 5.*alice.*api/);
    // Description text stays text.
    expect(texts[3]).toContain('<img src=x');
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // What the table shows is what the API holds.
    const api = (await (await fetch(`${base}/api/v1/changes?since=1h`, { headers: { authorization: `Bearer ${v.adminToken}` } })).json()) as ChangesResponse;
    expect(api.changes.map((c) => c.kind)).toEqual(['deploy', 'feature_flag', 'deploy', 'config']);
    await shot('list');
  }, 60_000);

  it('filters by kind and service, in the URL; no match explains how to post a change', async () => {
    await page.getByLabel('kind').selectOption('config');
    await page.waitForURL(/kind=config/);
    await expect.poll(async () => (await rows().allTextContents()).join('|'), { timeout: 15_000 }).toMatch(/^[^|]*checkout[^|]*config[^|]*$/);
    await page.getByLabel('kind').selectOption('');
    await page.getByLabel('service').fill('lms-api');
    await page.waitForURL(/service=lms-api/);
    await expect.poll(async () => (await rows().allTextContents()).join('|'), { timeout: 15_000 }).toMatch(/^[^|]*lms-api[^|]*2\.5\.0 ← 2\.4\.1[^|]*$/);
    await page.getByLabel('service').fill('nothing-here');
    await expect.poll(() => page.locator('.state.empty').textContent(), { timeout: 15_000 }).toContain('No changes match');
    const help = (await page.locator('.state.empty').textContent())!;
    expect(help).toContain(`curl -X POST ${base}/api/v1/changes`);
    expect(help).toContain('vigil change --service');
    await shot('empty');
  }, 60_000);

  it('is linked from the sidebar', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: 'Changes' }).click();
    await page.waitForURL(/\/changes/);
    await expect.poll(() => rows().count(), { timeout: 15_000 }).toBeGreaterThan(0);
  }, 30_000);
});

describe('service page', () => {
  it('marks the service’s changes on every chart, with titles and a legend naming kind, version and author', async () => {
    await page.goto(`${base}/services/checkout?since=1h`);
    const legend = page.getByTestId('change-legend');
    await expect.poll(() => legend.count(), { timeout: 30_000 }).toBe(1);
    const items = legend.getByTestId('change-legend-item');
    expect(await items.count()).toBe(3);
    const titles = await items.evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
    expect(titles[0]).toMatch(/^feature flag by bob at .* — new-pricing on for 10%$/);
    expect(titles[1]).toMatch(/^deploy 4\.1 ← 4\.0 \(detected by Vigil\) at /);
    expect(titles[2]).toMatch(/^config by alice at /);
    // The other service's deploy is not on this page.
    expect(titles.join(' ')).not.toContain('2.5.0');
    // Every chart (throughput, errors, latency, apdex) has a hover target per change, titled.
    const charts = page.locator('.chart');
    await expect.poll(() => charts.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    await expect.poll(() => page.locator('.chart .chart-marker-hit').count(), { timeout: 15_000 }).toBe(3 * (await charts.count()));
    const first = await charts.first().locator('.chart-marker-hit').evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
    expect(first.some((t) => t.startsWith('deploy 4.1 ← 4.0'))).toBe(true);
    // The legend leads to the list filtered to the service.
    await items.first().click();
    await page.waitForURL(/\/changes\?.*service=checkout/);
    await expect.poll(() => rows().count(), { timeout: 15_000 }).toBe(3);
    await page.goBack();
    await expect.poll(() => page.getByTestId('change-legend').count(), { timeout: 15_000 }).toBe(1);
    await shot('service');
  }, 90_000);
});

/** Sideways scrolling, tables wider than their box, panels clipping their content (a string: no DOM types here). */
const LAYOUT_PROBLEMS = `(() => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1) problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + vw);
  for (const t of document.querySelectorAll('main table')) if (t.offsetWidth > t.parentElement.clientWidth + 1) problems.push('table ' + t.getAttribute('aria-label') + ' is wider than its container');
  for (const el of document.querySelectorAll('main .panel-body')) if (el.scrollWidth > el.clientWidth + 1) problems.push('a panel clips its content: ' + el.scrollWidth + ' > ' + el.clientWidth);
  return problems;
})()`;

describe('layout', () => {
  it('the change list fits 1024 px, with rows and empty', async () => {
    await page.setViewportSize({ width: 1024, height: 900 });
    const found: string[] = [];
    for (const path of ['/changes?since=1h', '/changes?since=1h&service=nothing-here']) {
      await page.goto(`${base}${path}`);
      await expect.poll(() => page.locator('.state.loading').count(), { timeout: 15_000 }).toBe(0);
      await page.waitForTimeout(300);
      found.push(...((await page.evaluate(LAYOUT_PROBLEMS)) as string[]).map((p) => `${path}: ${p}`));
    }
    await page.screenshot({ path: `${OUTPUT}/ui-changes-1024.png`, fullPage: true });
    expect(found).toEqual([]);
    await page.setViewportSize({ width: 1400, height: 1000 });
  }, 60_000);
});
