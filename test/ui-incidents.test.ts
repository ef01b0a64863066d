/**
 * Incidents in the web UI, in a real browser against a real Vigil: a responder opens an incident from
 * the list page, moves it with the status buttons (only the moves the state machine allows are
 * offered), adds a note and a commander, resolves it (MTTR shown) and finds it under the Resolved
 * filter; an incident Vigil opened from a firing alert lists the alert and its timeline event; a viewer
 * sees no actions; titles stay text; the sidebar links the page (no longer "soon").
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentListResponse } from '../src/api/contract.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, signIn } from './helpers/ui.ts';
import { startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';
import { sendErrorSpans } from './helpers/otlp-send.ts';

const PASSWORD = 'correct-horse-battery';
const XSS = '<img src=x onerror="window.__xss=1">';
const dirs = tempDir('vigil-ui-incidents-');
let v: TestVigil;
let base: string;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const RULES = `groups:
  - name: checkout
    interval: 1h
    rules:
      - alert: CheckoutErrors
        expr: 'from spans service.name=checkout status=error | stats count() as value by service.name | where value > 0'
        range: 10m
        labels: { severity: critical }
`;

beforeAll(async () => {
  ensureWebBuilt();
  const rulesDir = join(dirs.dir, 'rules');
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(join(rulesDir, 'checkout.yml'), RULES);
  v = await startTestVigil({ alerting: { rulesDir, defaultRules: false }, agent: { selfMonitor: false } });
  base = v.server.urls.api;
  await v.server.users.create({ username: 'rita', password: PASSWORD, role: 'responder' });
  await v.server.users.create({ username: 'victor', password: PASSWORD, role: 'viewer' });
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  page = await ctx.newPage();
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

const shot = (name: string, p: Page = page) => p.screenshot({ path: `${OUTPUT}/ui-incidents-${name}.png`, fullPage: true });
const rows = () => page.getByTestId('incident-row');
const actions = () => page.getByRole('group', { name: 'status actions' }).getByRole('button');
const timeline = () => page.getByTestId('timeline-event');
let incidentPath = '';

describe('an incident opened by hand', () => {
  it('the list starts empty and explains how incidents are opened', async () => {
    await expect.poll(() => page.locator('.state.empty').textContent(), { timeout: 15_000 }).toContain('No open incidents.');
    expect(await page.locator('.state.empty').textContent()).toContain('vigil incident open');
  });

  it('is opened from the form and shown with the moves its state allows', async () => {
    await page.getByRole('button', { name: 'Open incident' }).click();
    await page.getByLabel('title').fill(`LMS course registration fails ${XSS}`);
    await page.getByLabel('severity').selectOption('SEV2');
    await page.getByLabel('services').fill('lms-api, lms-web');
    await page.getByLabel('systems').fill('lms');
    await page.getByLabel('description').fill('Students report an error when registering.');
    await page.getByRole('button', { name: 'Open incident' }).last().click();
    await page.waitForURL(/\/incidents\/\d+$/);
    incidentPath = new URL(page.url()).pathname;
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toContain(`LMS course registration fails ${XSS}`);
    expect(await page.getByTestId('incident-status').first().textContent()).toBe('triggered');
    expect(await actions().allTextContents()).toEqual(['Acknowledge', 'Investigating', 'Cause identified', 'Monitoring a fix', 'Resolve']);
    expect(await timeline().allTextContents()).toEqual([expect.stringMatching(/user:rita\s*Opened: LMS course registration fails .*\(SEV2\)/)]);
    const details = (await page.getByRole('table', { name: 'incident details' }).textContent())!;
    expect(details).toContain('lms-api, lms-web');
    expect(details).toContain('opened by hand');
    await shot('opened');
  }, 60_000);

  it('acknowledging with a note moves it and changes the buttons; notes and people go on the timeline', async () => {
    await page.getByLabel('status note').fill('looking at the registration service');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => page.getByTestId('incident-status').first().textContent(), { timeout: 15_000 }).toBe('acknowledged');
    await expect.poll(() => actions().allTextContents()).toEqual(['Investigating', 'Cause identified', 'Monitoring a fix', 'Resolve']);
    await expect.poll(() => timeline().last().textContent()).toMatch(/user:rita\s*triggered → acknowledged — looking at the registration service/);
    expect(await page.locator('.incident-sub').textContent()).toMatch(/MTTA \d+s/);

    await page.getByLabel('note', { exact: true }).fill('The role mapping changed at 09:12');
    await page.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => timeline().last().textContent(), { timeout: 15_000 }).toMatch(/user:rita\s*The role mapping changed at 09:12/);

    await page.getByLabel('change severity').selectOption('SEV1');
    await expect.poll(() => timeline().last().textContent(), { timeout: 15_000 }).toMatch(/user:rita\s*Severity SEV2 → SEV1/);
    expect(await page.locator('.incident-sub .badge').first().textContent()).toBe('SEV1');
    await page.getByLabel('change severity').selectOption('SEV2');
    await expect.poll(() => timeline().last().textContent(), { timeout: 15_000 }).toMatch(/Severity SEV1 → SEV2/);

    await page.getByLabel('commander').fill('rita');
    await page.getByLabel('assignees').fill('bo, cy');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => timeline().last().textContent(), { timeout: 15_000 }).toMatch(/Assigned: commander rita; assignees bo, cy/);
    await shot('acknowledged');
  }, 60_000);

  it('resolving shows MTTR and offers close or reopen; the Resolved filter lists it', async () => {
    await page.getByRole('button', { name: 'Resolve' }).click();
    await expect.poll(() => page.getByTestId('incident-status').first().textContent(), { timeout: 15_000 }).toBe('resolved');
    expect(await actions().allTextContents()).toEqual(['Close', 'Reopen']);
    expect(await page.locator('.incident-sub').textContent()).toMatch(/resolved after \d+s.*MTTR \d+s/);

    await page.getByRole('link', { name: 'All incidents' }).click();
    await page.waitForURL(`${base}/incidents`);
    await page.getByRole('group', { name: 'status filter' }).getByRole('button', { name: 'Resolved' }).click();
    await page.waitForURL(/status=resolved/);
    await expect.poll(() => rows().count(), { timeout: 15_000 }).toBe(1);
    expect(await rows().first().textContent()).toMatch(/SEV2resolvedLMS course registration fails .*lms, lms-api, lms-web.*ago\d+s.*rita/);
    await page.getByLabel('service').fill('nothing-here');
    await expect.poll(() => page.locator('.state.empty').textContent(), { timeout: 15_000 }).toContain('No resolved incidents of nothing-here.');
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await shot('resolved-list');
  }, 60_000);
});

describe('an incident opened by an alert', () => {
  it('is listed as open, with its firing alert linked and on the timeline', async () => {
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'checkout', 3);
    await expect
      .poll(async () => ((await (await fetch(`${base}/api/v1/incidents`, { headers: { authorization: `Bearer ${v.adminToken}` } })).json()) as IncidentListResponse).incidents.length, { timeout: 20_000 })
      .toBe(1);
    await page.goto(`${base}/incidents`);
    await expect.poll(() => rows().count(), { timeout: 15_000 }).toBe(1);
    expect(await rows().first().textContent()).toMatch(/SEV2triggeredCheckoutErrors on checkoutcheckout/);
    await rows().first().getByRole('link').click();
    await page.waitForURL(/\/incidents\/\d+$/);
    const alerts = page.getByRole('table', { name: 'linked alerts' });
    await expect.poll(() => alerts.textContent(), { timeout: 15_000 }).toMatch(/CheckoutErrors\s*firing.*service_name=checkout/);
    // The diagnosis run as the incident opened lands on the timeline when it finishes.
    expect((await timeline().allTextContents()).filter((t) => !t.includes('Diagnosis'))).toEqual([
      expect.stringMatching(/vigil\s*Opened: CheckoutErrors on checkout/),
      expect.stringMatching(/vigil\s*Alert firing: CheckoutErrors/),
    ]);
    expect(await page.getByRole('table', { name: 'incident details' }).textContent()).toContain('alerts (service:checkout)');
    await shot('from-alert');
  }, 60_000);
});

describe('access and navigation', () => {
  it('a viewer sees the incident but no status buttons, note or assignment forms', async () => {
    const viewer = await browser.newPage();
    viewer.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await viewer.goto(`${base}/login?next=${encodeURIComponent(incidentPath)}`);
      await signIn(viewer, 'victor', PASSWORD);
      await viewer.waitForURL(`${base}${incidentPath}`);
      await expect.poll(() => viewer.locator('h1').textContent(), { timeout: 15_000 }).toContain('LMS course registration fails');
      expect(await viewer.getByRole('group', { name: 'status actions' }).count()).toBe(0);
      expect(await viewer.getByRole('form', { name: 'add a note' }).count()).toBe(0);
      expect(await viewer.getByRole('button', { name: 'Open incident' }).count()).toBe(0);
    expect(await viewer.getByLabel('change severity').count()).toBe(0);
    } finally {
      await viewer.close();
    }
  }, 60_000);

  it('the sidebar links Incidents, no longer marked soon', async () => {
    await page.goto(`${base}/`);
    const link = page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: 'Incidents' });
    expect(await link.textContent()).not.toContain('soon');
    await link.click();
    await page.waitForURL(/\/incidents/);
    await expect.poll(() => rows().count(), { timeout: 15_000 }).toBe(1);
  }, 30_000);
});
