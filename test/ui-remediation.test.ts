/**
 * Remediation in the web UI, in a real browser against a real Vigil and a real loopback HTTP target:
 * the incident page shows the runbook of its service rendered as Markdown (HTML in it stays text, a
 * `javascript:` link is no link) with its action as a button; the button opens a confirmation with the
 * rendered request (secret header masked) that follows the input typed; confirming calls the target
 * with the secret in clear and the timeline shows the run. A runbook written on the Runbooks page
 * appears on the incident; a viewer sees runbooks but cannot run or edit.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentCreated } from '../src/api/contract.ts';
import { startReceiver, type TestReceiver } from './helpers/notify-receiver.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, signIn } from './helpers/ui.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';

const PASSWORD = 'correct-horse-battery';
const XSS = '<img src=x onerror="window.__xss=1">';
const SECRET = 'Bearer ui-s3cret';
let v: TestVigil;
let base: string;
let browser: Browser;
let page: Page;
let target: TestReceiver;
let incidentId: number;
const pageErrors: string[] = [];

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${v.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  ensureWebBuilt();
  target = await startReceiver();
  v = await startTestVigil({ alerting: { defaultRules: false }, agent: { selfMonitor: false } });
  base = v.server.urls.api;
  await v.server.users.create({ username: 'rita', password: PASSWORD, role: 'responder' });
  await v.server.users.create({ username: 'victor', password: PASSWORD, role: 'viewer' });
  await post('/api/v1/actions', {
    name: 'restart-checkout',
    description: 'Restart the checkout service',
    url: `${target.url}/restart?incident={{ .Incident.ID }}`,
    headers: { Authorization: SECRET },
    body: '{"reason": {{ .Input.reason | toJson }}}',
    inputs: { reason: 'why restart' },
  });
  await post('/api/v1/runbooks', {
    title: 'Checkout answers 5xx',
    scope: { kind: 'service', value: 'checkout' },
    body: `# Checkout is failing\n\nFirst check the **error logs**. ${XSS}\n\n1. Open [the service](/services/checkout)\n2. Do not [click](javascript:alert(1))\n\n\`\`\`\ncurl -X POST /restart\n\`\`\``,
    actions: ['restart-checkout'],
  });
  incidentId = (await post<IncidentCreated>('/api/v1/incidents', { title: 'Checkout fails', services: ['checkout'] })).id;
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 1100 } })).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/login?next=/incidents/${incidentId}`);
  await signIn(page, 'rita', PASSWORD);
  await page.waitForURL(`${base}/incidents/${incidentId}`);
}, 180_000);

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await browser?.close();
  await v?.stop();
  await target?.close();
});

const shot = (name: string, p: Page = page) => p.screenshot({ path: `${OUTPUT}/ui-remediation-${name}.png`, fullPage: true });
const panel = (p: Page = page) => p.getByTestId('incident-remediation');
const timeline = () => page.getByTestId('timeline-event');

describe('the incident page', () => {
  it("shows its service's runbook as Markdown, HTML kept as text, with its action", async () => {
    const runbook = panel().getByRole('article', { name: 'runbook Checkout answers 5xx' });
    await expect.poll(() => runbook.count(), { timeout: 15_000 }).toBe(1);
    expect(await runbook.getByRole('heading', { name: 'Checkout is failing' }).count()).toBe(1);
    expect(await runbook.locator('strong').textContent()).toBe('error logs');
    expect(await runbook.locator('pre').textContent()).toBe('curl -X POST /restart');
    expect(await runbook.textContent()).toContain(XSS);
    expect(await runbook.locator('img').count()).toBe(0);
    expect(await runbook.getByRole('link', { name: 'the service' }).getAttribute('href')).toBe('/services/checkout');
    expect(await runbook.getByRole('link', { name: 'click' }).count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await runbook.getByRole('button', { name: '▶ restart-checkout' }).isEnabled()).toBe(true);
    await shot('runbook');
  }, 60_000);

  it('an action asks for confirmation showing the rendered request, then runs and shows on the timeline', async () => {
    await panel().getByRole('button', { name: '▶ restart-checkout' }).click();
    const dialog = page.getByRole('dialog', { name: 'run restart-checkout' });
    const preview = dialog.getByTestId('action-preview');
    await expect.poll(() => preview.textContent(), { timeout: 15_000 }).toContain(`POST ${target.url}/restart?incident=${incidentId}`);
    expect(await preview.textContent()).toContain('Authorization: <secret>');
    expect(await preview.textContent()).not.toContain('ui-s3cret');
    await dialog.getByLabel('input reason').fill('pool "stuck"');
    await expect.poll(() => preview.textContent(), { timeout: 15_000 }).toContain('{"reason": "pool \\"stuck\\""}');
    expect(target.requests).toHaveLength(0);
    await shot('confirm');

    await dialog.getByRole('button', { name: 'Run action' }).click();
    const [got] = await target.waitFor(1);
    expect(got).toMatchObject({ method: 'POST', path: `/restart?incident=${incidentId}`, headers: { authorization: SECRET }, body: { reason: 'pool "stuck"' } });
    await expect.poll(() => page.getByRole('dialog').count(), { timeout: 15_000 }).toBe(0);
    expect(await page.getByTestId('action-result').textContent()).toMatch(/restart-checkout succeeded \(HTTP 200\)/);
    await expect.poll(() => timeline().last().textContent(), { timeout: 15_000 }).toMatch(/user:rita\s*Action restart-checkout succeeded \(HTTP 200\): ok/);
    await shot('ran');
  }, 60_000);

  it('cancelling the confirmation sends nothing', async () => {
    await panel().getByRole('button', { name: '▶ restart-checkout' }).click();
    const dialog = page.getByRole('dialog', { name: 'run restart-checkout' });
    await expect.poll(() => dialog.getByTestId('action-preview').textContent(), { timeout: 15_000 }).toContain('POST');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(target.requests).toHaveLength(1);
  }, 30_000);
});

describe('the Runbooks page', () => {
  it('is linked from the sidebar and writes a general runbook that the incident then shows', async () => {
    await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: 'Runbooks' }).click();
    await page.waitForURL(/\/runbooks/);
    await expect.poll(() => page.getByTestId('runbook-row').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('action-row').textContent()).toContain('restart-checkout');
    await page.getByRole('button', { name: 'New runbook' }).click();
    const form = page.getByRole('form', { name: 'new runbook' });
    await form.getByLabel('Title').fill('Every incident');
    await form.getByLabel('For').selectOption('general');
    await form.getByLabel('Steps (Markdown)').fill('- Post in **#incidents**');
    expect(await form.getByLabel('runbook preview').locator('strong').textContent()).toBe('#incidents');
    await form.getByRole('button', { name: 'Create runbook' }).click();
    await expect.poll(() => page.getByTestId('runbook-row').count(), { timeout: 15_000 }).toBe(2);
    await shot('page');

    await page.goto(`${base}/incidents/${incidentId}`);
    await expect.poll(() => panel().getByRole('article').count(), { timeout: 15_000 }).toBe(2);
    expect(await panel().getByRole('article', { name: 'runbook Every incident' }).locator('li').textContent()).toBe('Post in #incidents');
  }, 60_000);

  it('a refused field is shown next to it', async () => {
    await page.goto(`${base}/runbooks`);
    await page.getByRole('button', { name: 'New action' }).click();
    const form = page.getByRole('form', { name: 'new action' });
    await form.getByLabel('Name', { exact: true }).fill('flush-cache');
    await form.getByLabel('URL', { exact: true }).fill('http://ops.internal/{{ .Input.nope }}');
    await form.getByRole('button', { name: 'Create action' }).click();
    await expect.poll(() => form.locator('.field-error').textContent(), { timeout: 15_000 }).toContain('.Input.nope');
  }, 30_000);
});

describe('a viewer', () => {
  it('reads runbooks but cannot run actions or edit', async () => {
    const viewer = await browser.newPage();
    viewer.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await viewer.goto(`${base}/login?next=/incidents/${incidentId}`);
      await signIn(viewer, 'victor', PASSWORD);
      await viewer.waitForURL(`${base}/incidents/${incidentId}`);
      await expect.poll(() => panel(viewer).getByRole('article').count(), { timeout: 15_000 }).toBe(2);
      expect(await panel(viewer).getByRole('button', { name: '▶ restart-checkout' }).isDisabled()).toBe(true);
      await viewer.goto(`${base}/runbooks`);
      await expect.poll(() => viewer.getByTestId('runbook-row').count(), { timeout: 15_000 }).toBe(2);
      expect(await viewer.getByRole('button', { name: 'New runbook' }).count()).toBe(0);
    } finally {
      await viewer.close();
    }
  }, 60_000);
});
