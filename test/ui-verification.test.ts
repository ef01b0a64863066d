/**
 * Post-resolution verification in the web UI, in a real browser against a real Vigil (10 s window): a
 * responder resolves an alert-opened incident from its page; the Verification panel shows the progress
 * bar and each check (the alert, the service's error rate and p95) while it runs, then "verified" with
 * the reason once the incident closes. An incident whose alert fires again during verification shows
 * "failed" with the reason and is reopened. A recurrence names the earlier incident in Details.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentDetail, IncidentListResponse } from '../src/api/contract.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, signIn } from './helpers/ui.ts';
import { startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';
import { sendErrorSpans } from './helpers/otlp-send.ts';

const PASSWORD = 'correct-horse-battery';
const dirs = tempDir('vigil-ui-verification-');
let v: TestVigil;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const RULES = `groups:
  - name: errors
    interval: 1s
    rules:
      - alert: ServiceErrors
        expr: 'from spans status=error | stats count() as value by service.name | where value > 0'
        range: 2s
        labels: { severity: critical }
`;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${v.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await fn();
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 150));
  }
}

let nextId = 1;
async function sendGoodSpans(service: string, n: number, fromMs: number, stepMs: number): Promise<void> {
  const hex = (x: number, bytes: number) => x.toString(16).padStart(bytes * 2, '0');
  const spans = Array.from({ length: n }, (_, i) => {
    const t = BigInt(fromMs + i * stepMs);
    return { traceId: hex(nextId, 16), spanId: hex(nextId++, 8), name: 'GET /items', kind: 2, startTimeUnixNano: String(t * 1_000_000n), endTimeUnixNano: String((t + 30n) * 1_000_000n), status: { code: 1 } };
  });
  const res = await fetch(`${v.server.urls.otlp}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${v.ingestToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] }),
  });
  if (res.status !== 200) throw new Error(`OTLP answered ${res.status}`);
}

const openIncident = (service: string) => until(`the incident of ${service}`, async () => (await api<IncidentListResponse>('GET', `/api/v1/incidents?status=open&service=${service}`)).incidents[0]?.id);
const shot = (name: string) => page.screenshot({ path: `${OUTPUT}/ui-verification-${name}.png`, fullPage: true });
const panel = () => page.getByTestId('verification');
const checks = () => page.getByTestId('verification-check');

beforeAll(async () => {
  ensureWebBuilt();
  const rulesDir = join(dirs.dir, 'rules');
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(join(rulesDir, 'errors.yml'), RULES);
  v = await startTestVigil({ alerting: { rulesDir, defaultRules: false }, agent: { selfMonitor: false }, incidents: { verificationWindow: '10s', diagnose: false } });
  base = v.server.urls.api;
  await v.server.users.create({ username: 'rita', password: PASSWORD, role: 'responder' });
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/login?next=/incidents`);
  await signIn(page, 'rita', PASSWORD);
  await page.waitForURL(`${base}/incidents`);
}, 120_000);

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await browser?.close();
  await v?.stop();
  dirs.cleanup();
});

describe('the verification panel', () => {
  let first = 0;

  it('is absent until the incident is resolved, then shows progress and each check while it runs', async () => {
    await sendGoodSpans('inventory', 60, Date.now() - 50 * 60_000, 30_000);
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'inventory', 3);
    first = await openIncident('inventory');
    await page.goto(`${base}/incidents/${first}`);
    await page.getByRole('table', { name: 'incident details' }).waitFor();
    expect(await panel().count()).toBe(0);
    await page.getByRole('group', { name: 'status actions' }).getByRole('button', { name: 'Resolve' }).click();
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: 10_000 }).toBe('running');
    expect(await page.getByRole('progressbar', { name: 'verification progress' }).count()).toBe(1);
    expect(await panel().textContent()).toMatch(/verifying.*must hold until .*left/);
    expect(await checks().count()).toBe(3);
    const rows = await checks().allTextContents();
    expect(rows.some((r) => r.startsWith('ServiceErrors') && r.includes('alert stays clear'))).toBe(true);
    expect(rows.some((r) => r.startsWith('inventory') && r.includes('error rate'))).toBe(true);
    expect(rows.some((r) => r.startsWith('inventory') && r.includes('p95 latency'))).toBe(true);
    await shot('running');
    await sendGoodSpans('inventory', 25, Date.now(), 20);
  }, 60_000);

  it('shows the outcome once the window ends: verified, the incident closed', async () => {
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: 25_000 }).toBe('verified');
    expect(await page.getByRole('progressbar').count()).toBe(0);
    expect(await page.getByTestId('verification-reason').textContent()).toBe('Closed: all 3 checks passed for the verification window');
    expect(await checks().allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^inventory.*error rate.*passing.*0\.0% errors \(0 of 25\)/)]));
    // The error-rate check links to the failed spans in the explorer.
    expect(await checks().getByRole('link', { name: 'inventory' }).first().getAttribute('href')).toMatch(/^\/logs\?q=from%20spans/);
    expect(await page.locator('.incident-actions').getByRole('button').allTextContents()).toEqual(['Reopen']);
    await shot('verified');
  }, 60_000);

  it('shows a failed verification with its reason when the alert fires again; the incident reopens', async () => {
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'ledger', 3);
    const id = await openIncident('ledger');
    await until('the alert resolved', async () => (await api<IncidentDetail>('GET', `/api/v1/incidents/${id}`)).alerts.every((a) => a.state === 'resolved'));
    await api('POST', `/api/v1/incidents/${id}/status`, { status: 'resolved' });
    await until('verification running', async () => (await api<IncidentDetail>('GET', `/api/v1/incidents/${id}`)).verification?.state === 'running');
    await page.goto(`${base}/incidents/${id}`);
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: 10_000 }).toBe('running');
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'ledger', 3);
    await until('reopened', async () => (await api<IncidentDetail>('GET', `/api/v1/incidents/${id}`)).status === 'reopened');
    await page.reload();
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: 10_000 }).toBe('failed');
    expect(await page.getByTestId('verification-reason').textContent()).toMatch(/^Reopened: alert:ServiceErrors failed: fired again at /);
    expect(await checks().filter({ hasText: 'ServiceErrors' }).textContent()).toContain('failed');
    await shot('failed');
  }, 60_000);

  it('an incident of a signature that recurs names the earlier one in Details', async () => {
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'inventory', 2);
    const again = await until('the recurring incident', async () => {
      const id = await openIncident('inventory');
      return id !== first ? id : false;
    });
    await page.goto(`${base}/incidents/${again}`);
    const details = page.getByRole('table', { name: 'incident details' });
    await expect.poll(() => details.textContent(), { timeout: 10_000 }).toContain(`recurs#${first} (same signature, resolved before)`);
    expect(await page.locator('.incident-description').textContent()).toContain(`incident #${first} was resolved`);
    await details.getByRole('link', { name: `#${first}` }).click();
    await page.waitForURL(`${base}/incidents/${first}`);
    expect(await panel().getAttribute('data-state')).toBe('verified');
  }, 60_000);
});
