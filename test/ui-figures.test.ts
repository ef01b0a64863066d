/**
 * Every figure on the overview and service pages is the API's figure, and the main pages fit 1024 and
 * 1440 px wide screens: no sideways scrolling, no table wider than its panel, no chart legend entries on
 * top of each other. A real Vigil with RMS/LMS telemetry from the OpenTelemetry SDK (test/helpers/ui.ts),
 * plus an LMS route refusing most registrations (403) and a failing LMS monitor, in Debian's chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { fmt } from '../web/src/format.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, seedTelemetry, signIn, waitForSpans } from './helpers/ui.ts';
import { countRows, startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
let base: string;
let browser: Browser;
let page: Page;
let headers: Record<string, string>;
const PASSWORD = 'correct-horse-battery';
// A fixed range ending a minute ago: the page and the API compute over exactly the same time.
const TO = Date.now() - 60_000;
const FROM = TO - 3_600_000;
const RANGE = `from=${FROM}&to=${TO}`;

/** 40 registrations on lms-api in the five minutes before TO, 36 of them refused with 403. */
async function sendRefusals(): Promise<void> {
  const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
  const spans = Array.from({ length: 40 }, (_, i) => {
    const start = TO - 300_000 + i * 7_000;
    return {
      traceId: (0xabc000 + i).toString(16).padStart(32, '0'),
      spanId: (0xdef000 + i).toString(16).padStart(16, '0'),
      name: 'POST /api/courses/:id/enrol',
      kind: 2,
      startTimeUnixNano: ns(start),
      endTimeUnixNano: ns(start + 30),
      attributes: [
        { key: 'http.route', value: { stringValue: '/api/courses/:id/enrol' } },
        { key: 'http.request.method', value: { stringValue: 'POST' } },
        { key: 'http.response.status_code', value: { intValue: i < 36 ? 403 : 200 } },
      ],
      status: {},
    };
  });
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'lms-api' } }, { key: 'service.namespace', value: { stringValue: 'lms' } }] };
  const res = await fetch(`${v.server.urls.otlp}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${v.ingestToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'ui-figures' }, spans }] }] }),
  });
  if (!res.ok) throw new Error(`refusals: ${res.status} ${await res.text()}`);
}

/** A monitor of the LMS that fails (its URL answers 404), checked once so it is down with an error. */
async function failingMonitor(): Promise<void> {
  const body = { id: 'lms-enrol', name: 'LMS enrolment', type: 'http', system: 'lms', url: `${base}/api/v1/no-such-endpoint`, interval: '60s', retries: 0 };
  const created = await fetch(`${base}/api/v1/monitors`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (created.status !== 201 && created.status !== 200) throw new Error(`monitor: ${created.status} ${await created.text()}`);
  await fetch(`${base}/api/v1/monitors/lms-enrol/check`, { method: 'POST', headers, body: '{}' });
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    const m = (await (await fetch(`${base}/api/v1/monitors/lms-enrol`, { headers })).json()) as { status?: { state: string } };
    if (m.status?.state === 'down') return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the monitor lms-enrol did not go down');
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  ensureWebBuilt();
  v = await startTestVigil();
  base = v.server.urls.api;
  headers = { authorization: `Bearer ${v.adminToken}`, 'content-type': 'application/json' };
  await v.server.users.create({ username: 'alice', password: PASSWORD, role: 'admin' });
  await seedTelemetry(v, { traces: 240, minutes: 30 });
  await sendRefusals();
  await waitForSpans(v, 240 * 4 + 40);
  // The refusals are committed apart from the SDK's batches: wait for them, not for a total.
  for (let end = Date.now() + 20_000; (await countRows(v.server, 'otel_traces', 'HttpStatusCode = 403')) < 36; ) {
    if (Date.now() > end) throw new Error('the 403 answers did not arrive');
    await new Promise((r) => setTimeout(r, 200));
  }
  await failingMonitor();
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  await page.goto(`${base}/login`);
  await signIn(page, 'alice', PASSWORD);
  await page.waitForURL(`${base}/`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await v?.stop();
});

interface Figures {
  requests: number;
  throughput_rps: number | null;
  error_rate: number | null;
  client_error_rate: number | null;
  client_errors: number;
  p95_ms: number | null;
  apdex: number | null;
}

describe('figures on screen are the API figures', () => {
  it('overview tiles show the grouped overview: throughput over the covered time, 5xx, 4xx, p95', async () => {
    const body = await api<{ groups: { group: string; summary: Figures }[] }>(`/api/v1/apm/overview?group_by=service.namespace&${RANGE}`);
    const lms = body.groups.find((g) => g.group === 'lms')!.summary;
    // 30 minutes of data in a one-hour range: the rate is taken over the half hour reported, not the hour.
    expect(lms.client_errors).toBe(36);
    await page.goto(`${base}/?${RANGE}`);
    const tile = page.locator('[data-testid="system-tile"][data-system="lms"]');
    await expect.poll(() => tile.getByTestId('tile-throughput').textContent(), { timeout: 20_000 }).toBe(fmt(lms.throughput_rps, 'rps'));
    expect(await tile.getByTestId('tile-errors').textContent()).toBe(fmt(lms.error_rate, 'percent'));
    expect(await tile.getByTestId('tile-4xx').textContent()).toBe(fmt(lms.client_error_rate, 'percent'));
    expect(await tile.getByTestId('tile-p95').textContent()).toBe(fmt(lms.p95_ms, 'ms'));
  });

  it('a down system says which monitor fails, links to it and shows its last error', async () => {
    const monitor = await api<{ status: { lastResult: { error?: string } } }>('/api/v1/monitors/lms-enrol');
    const tile = page.locator('[data-testid="system-tile"][data-system="lms"]');
    await expect.poll(() => tile.locator('.badge').textContent()).toBe('down');
    const reasons = tile.getByTestId('down-reasons');
    await expect.poll(() => reasons.textContent()).toContain('LMS enrolment is down');
    expect(monitor.status.lastResult.error).toBeTruthy();
    expect(await reasons.textContent()).toContain(monitor.status.lastResult.error!);
    await reasons.getByRole('link', { name: 'LMS enrolment' }).click();
    await page.waitForURL(/\/monitors\/lms-enrol$/);
  });

  it('the service page shows the overview figures and flags the operation refusing most requests', async () => {
    const body = await api<{ summary: Figures }>(`/api/v1/apm/overview?service=lms-api&${RANGE}`);
    await page.goto(`${base}/services/lms-api?${RANGE}`);
    await expect.poll(() => page.getByTestId('stat-throughput').locator('.stat-value').textContent()).toBe(fmt(body.summary.throughput_rps, 'rps'));
    expect(await page.getByTestId('stat-errors').locator('.stat-value').textContent()).toBe(fmt(body.summary.error_rate, 'percent'));
    expect(await page.getByTestId('stat-4xx').locator('.stat-value').textContent()).toBe(fmt(body.summary.client_error_rate, 'percent'));
    const ops = await api<{ operations: { operation: string; client_error_alert: boolean; client_error_rate: number }[] }>(`/api/v1/apm/operations?service=lms-api&${RANGE}`);
    const enrol = ops.operations.find((o) => o.operation === 'POST /api/courses/:id/enrol')!;
    expect(enrol).toMatchObject({ client_error_alert: true, client_error_rate: 0.9 });
    const row = page.getByRole('table', { name: 'operations' }).getByRole('row').filter({ hasText: 'POST /api/courses/:id/enrol' });
    await expect.poll(() => row.getByTestId('client-error-alert').textContent()).toContain(fmt(0.9, 'percent'));
    // The only flag is on the refusing route.
    expect(await page.getByTestId('client-error-alert').count()).toBe(1);
  });

  it('the metrics explorer lists attribute keys with sample values and groups by one on click', async () => {
    await page.goto(`${base}/explore/metrics?name=process.cpu.utilization&${RANGE}`);
    const attrs = page.getByTestId('metric-attributes');
    await expect.poll(() => attrs.textContent()).toContain('host.name');
    await attrs.getByRole('button', { name: /^host\.name/ }).click();
    await page.waitForURL((u) => u.searchParams.get('group_by') === 'host.name');
    await expect.poll(() => page.locator('.u-legend .u-series').count()).toBeGreaterThanOrEqual(4);
    // CPU time reads in cores, not on a percent axis.
    expect(await page.locator('.panel:not(.metric-list)').textContent()).toContain('cores');
  });
});

/**
 * Layout problems on the current page: sideways page scroll, tables wider than their container, panels
 * and tiles clipping their content, chart legends whose entries overlap each other or the plot. A string
 * so this Node-side file needs no DOM types.
 */
const LAYOUT_PROBLEMS = `(() => {
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.getAttribute('aria-label') ? '[' + el.getAttribute('aria-label') + ']' : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1) problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + vw);
  for (const t of document.querySelectorAll('main table')) {
    const box = t.parentElement;
    if (t.offsetWidth > box.clientWidth + 1) problems.push(name(t) + ' is wider than its container: ' + t.offsetWidth + ' > ' + box.clientWidth);
  }
  for (const el of document.querySelectorAll('main .panel-body, main .tile, main .stat, main .figures > div, main .dash-panel-body')) {
    if (el.scrollWidth > el.clientWidth + 1) problems.push(name(el) + ' clips its content: ' + el.scrollWidth + ' > ' + el.clientWidth);
  }
  const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (const lg of document.querySelectorAll('main .u-legend')) {
    const items = [...lg.querySelectorAll('.u-series')].map((s) => s.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0);
    for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) if (overlap(items[i], items[j])) problems.push('legend entries overlap in ' + name(lg.closest('.chart')));
    const plot = lg.closest('.uplot')?.querySelector('.u-over')?.getBoundingClientRect();
    const l = lg.getBoundingClientRect();
    if (plot && overlap(plot, l)) problems.push('legend covers the plot in ' + name(lg.closest('.chart')));
    const box = lg.closest('.chart').getBoundingClientRect();
    if (l.right > box.right + 1) problems.push('legend runs past its chart: ' + name(lg.closest('.chart')));
  }
  return problems;
})()`;

describe('layout at 1024 and 1440 px', () => {
  const pages = ['/', '/services', '/services/lms-api', '/services/rms-api', '/explore/metrics?name=process.cpu.utilization&group_by=service.name', '/dashboards', '/monitors/lms-enrol'];

  it.each([1024, 1440])('main pages fit %i px', async (width) => {
    await page.setViewportSize({ width, height: 900 });
    const dashboards = await api<{ dashboards: { id: string; title: string }[] }>('/api/v1/dashboards');
    const all = [...pages, ...dashboards.dashboards.map((d) => `/dashboards/${d.id}`)];
    const found: string[] = [];
    for (const path of all) {
      await page.goto(`${base}${path}${path.includes('?') ? '&' : '?'}${RANGE}`);
      await page.waitForLoadState('networkidle');
      // Charts draw after their data: wait for the loading states to go.
      await expect.poll(() => page.locator('.state.loading').count(), { timeout: 15_000 }).toBe(0);
      await page.waitForTimeout(300);
      const problems = (await page.evaluate(LAYOUT_PROBLEMS)) as string[];
      found.push(...problems.map((p) => `${path}: ${p}`));
      await page.screenshot({ path: `${OUTPUT}/figures-${width}-${path.replace(/[^a-z0-9]+/gi, '_').slice(0, 60)}.png`, fullPage: true });
    }
    expect(found).toEqual([]);
  }, 120_000);
});
