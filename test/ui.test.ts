/**
 * The web UI in a real browser (Debian chromium through playwright-core) against a real Vigil holding
 * RMS/LMS telemetry sent with the OpenTelemetry SDK: sign-in with the return path, every page with
 * real data, a search round-trip, a log record's trace, a dashboard created, saved and reloaded, XSS
 * payloads staying inert; plus the static route (caching, SPA fallback, traversal) and the dashboards
 * and saved-searches API. Screenshots of each page go to test-output/.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { installDemoContent } from '../demo/content.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, seedTelemetry, signIn, waitForSpans, XSS, type Seeded } from './helpers/ui.ts';

let v: TestVigil;
let base: string;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let seeded: Seeded;
const dialogs: string[] = [];
const pageErrors: string[] = [];
const PASSWORD = 'correct-horse-battery';

beforeAll(async () => {
  ensureWebBuilt();
  v = await startTestVigil();
  base = v.server.urls.api;
  await v.server.users.create({ username: 'alice', password: PASSWORD, role: 'admin' });
  await v.server.users.create({ username: 'victor', password: PASSWORD, role: 'viewer' });
  seeded = await seedTelemetry(v, { traces: 300 });
  // The demo's RMS and LMS dashboards, created through the API as `vigil start` has the demo do it.
  await installDemoContent({ vigilUrl: base, token: v.adminToken, adminUrl: 'http://127.0.0.1:4480', only: 'dashboards' });
  await waitForSpans(v, 300 * 4);
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await ctx.newPage();
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await v?.stop();
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${OUTPUT}/ui-${name}.png`, fullPage: true });
}

/** Counts elements matching a selector in the page (no DOM types needed in this Node-side file). */
async function count(selector: string): Promise<number> {
  return page.locator(selector).count();
}

describe('sign-in', () => {
  it('sends an anonymous visitor to the login page and back to the page asked for', async () => {
    await page.goto(`${base}/logs?q=${encodeURIComponent('severity>=WARN')}`);
    await page.waitForURL(/\/login\?next=/);
    await shot('login');
    await signIn(page, 'alice', 'wrong-password-here');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Wrong username or password/);
    await signIn(page, 'alice', PASSWORD);
    await page.waitForURL((u) => u.pathname === '/logs' && u.searchParams.get('q') === 'severity>=WARN');
  });

  it('ignores an off-site return path', async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${base}/login?next=${encodeURIComponent('//evil.example/x')}`);
    await signIn(p, 'victor', PASSWORD);
    await p.waitForURL(`${base}/`);
    await other.close();
  });
});

describe('pages with real data', () => {
  it('overview shows a tile per system with figures and drills down to a service', async () => {
    await page.goto(`${base}/`);
    const tiles = page.getByTestId('system-tile');
    await expect.poll(() => tiles.count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => tiles.first().textContent()).toMatch(/LMS.*Rate.*5xx.*4xx.*p95.*auth-service.*lms-api/s);
    await expect.poll(() => page.getByTestId('tile-p95').first().textContent()).toMatch(/ms$/);
    await shot('overview');
    await page.evaluate("document.documentElement.dataset.theme = 'dark'; window.dispatchEvent(new Event('vigil:theme'))");
    await shot('overview-dark');
    await page.evaluate("document.documentElement.dataset.theme = 'light'; window.dispatchEvent(new Event('vigil:theme'))");
    await page.getByRole('link', { name: 'rms-api' }).click();
    await page.waitForURL(/\/services\/rms-api/);
  });

  it('service page charts throughput, errors, latency and lists operations, errors and dependencies', async () => {
    await expect.poll(() => count('.uplot canvas'), { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
    await expect.poll(() => page.getByRole('table', { name: 'operations' }).textContent()).toMatch(/POST \/api\/payouts/);
    await expect.poll(() => page.getByRole('table', { name: 'error groups' }).textContent()).toMatch(/PayoutRejected/);
    await expect.poll(() => page.getByRole('img', { name: 'service dependencies' }).textContent()).toMatch(/payment-gateway/);
    await expect.poll(() => page.getByText('Process memory (RSS)').count()).toBe(1);
    // Sorting the operations table by p95 puts the slowest first.
    await page.getByRole('table', { name: 'operations' }).getByRole('button', { name: 'p95' }).click();
    await shot('service');
  });

  it('log search round-trips a typed query, with highlighting, autocomplete and inline errors', async () => {
    await page.goto(`${base}/logs?since=1h`);
    const bar = page.getByLabel('query');
    await bar.fill('service.name=lms-');
    await expect.poll(() => page.getByRole('listbox', { name: 'suggestions' }).textContent()).toContain('lms-api');
    await bar.fill('service.name=lms-api severity>=ERROR');
    await bar.press('Enter');
    await page.waitForURL((u) => u.searchParams.get('q') === 'service.name=lms-api severity>=ERROR');
    await expect.poll(() => page.getByTestId('result-count').textContent()).toMatch(/^\d+ records/);
    const lines = page.locator('.event-line');
    await expect
      .poll(async () => {
        const texts = await lines.allTextContents();
        return texts.length > 3 && texts.every((t) => /ERROR.*lms-api/.test(t));
      })
      .toBe(true);
    expect(await count('.qb-hl .tk-field')).toBeGreaterThanOrEqual(2);
    await expect.poll(() => count('.histogram .uplot')).toBe(1);
    await shot('logs');
    // A parse error is shown inline, at its position.
    await bar.fill('service.name= | stats');
    await expect.poll(() => page.locator('.qb-error').textContent(), { timeout: 5000 }).toMatch(/expected/);
    expect(await count('.qb-hl .tk-error')).toBe(1);
    await shot('logs-error');
  });

  it('a click on a log record opens its trace waterfall with the critical path', async () => {
    await page.goto(`${base}/logs?since=1h&q=${encodeURIComponent('service.name=lms-api severity=ERROR')}`);
    const first = page.locator('.event-line').first();
    await first.click();
    await page.getByRole('link', { name: /Open trace/ }).first().click();
    await page.waitForURL(/\/traces\/[0-9a-f]{32}\?around=/);
    const rows = page.getByTestId('span-row');
    await expect.poll(() => rows.count()).toBe(4);
    expect(await count('.wf-row.critical')).toBeGreaterThanOrEqual(2);
    expect(await count('.wf-row.error')).toBe(1);
    await rows.first().click();
    await expect.poll(() => page.getByRole('complementary', { name: 'span details' }).textContent()).toMatch(/Exception: (LockTimeoutError|PayoutRejected)/);
    await rows.nth(3).click();
    await expect.poll(() => page.getByRole('complementary', { name: 'span details' }).textContent()).toMatch(/Database statement.*SELECT \* FROM users/s);
    await expect.poll(() => page.getByText(/Logs of this trace \(\d+\)/).textContent()).toMatch(/\((2|3)\)/);
    await shot('trace');
  });

  it('trace explorer finds failed requests of a service', async () => {
    await page.goto(`${base}/traces?since=1h`);
    await page.getByLabel('service').selectOption('lms-api');
    await page.getByLabel('status').selectOption('error');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.waitForURL((u) => u.searchParams.get('status') === 'error' && u.searchParams.get('service') === 'lms-api');
    const table = page.getByRole('table', { name: 'traces' });
    await expect
      .poll(async () => {
        const rows = await table.locator('tbody tr').allTextContents();
        return rows.length > 3 && rows.every((t) => /lms-api.*500Error/.test(t));
      })
      .toBe(true);
    await shot('traces');
    await page.goto(`${base}/traces/${seeded.errorTraceId}`);
    await expect.poll(() => page.getByTestId('span-row').count()).toBe(4);
  });

  it('metrics explorer charts a metric by service', async () => {
    await page.goto(`${base}/explore/metrics?since=1h`);
    await page.getByRole('button', { name: 'process.memory.usage' }).first().click();
    await page.getByLabel('group by').fill('service.name');
    await expect.poll(() => count('.uplot canvas')).toBe(1);
    await expect.poll(() => page.locator('.u-legend').textContent()).toMatch(/rms-api/);
    await shot('metrics');
  });

  it('monitors page lists monitors with their status and a monitor page shows its checks', async () => {
    // A monitor of Vigil's own health endpoint, created through the API and checked at once.
    const headers = { authorization: `Bearer ${v.adminToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/api/v1/monitors`, { method: 'POST', headers, body: JSON.stringify({ id: 'vigil-health', name: 'Vigil <health>', type: 'http', system: 'ops', url: `${base}/healthz`, interval: '30s' }) });
    expect(created.status).toBe(201);
    expect((await fetch(`${base}/api/v1/monitors/vigil-health/check`, { method: 'POST', headers, body: '{}' })).status).toBe(200);
    // Check results are written as telemetry; wait until the store has the first one.
    await expect
      .poll(async () => ((await (await fetch(`${base}/api/v1/monitors/vigil-health/results?since=1h`, { headers })).json()) as { results: unknown[] }).results.length, { timeout: 15_000 })
      .toBeGreaterThan(0);
    await page.goto(`${base}/monitors`);
    const link = page.getByRole('link', { name: 'Vigil <health>' });
    await expect.poll(() => link.count()).toBe(1);
    await shot('monitors');
    await link.click();
    await page.waitForURL(/\/monitors\/vigil-health$/);
    await expect.poll(() => page.locator('.page-head .badge').first().textContent()).toBe('up');
    await expect.poll(() => count('.uplot canvas'), { timeout: 15_000 }).toBe(1);
    await page.getByRole('button', { name: 'Check now' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Check now' }).isEnabled()).toBe(true);
    await shot('monitor');
  });

  it('built-in and demo dashboards render their panels', async () => {
    await page.goto(`${base}/dashboards`);
    await expect.poll(() => page.locator('.dash-list li').count()).toBe(3);
    await shot('dashboards');
    await page.getByRole('link', { name: 'RMS overview' }).click();
    await expect.poll(() => page.getByTestId('dash-panel').count()).toBe(10);
    await expect.poll(() => count('.dash-panel .uplot'), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    await expect.poll(() => page.locator('.dash-panel .stat-big').first().textContent()).toMatch(/^\d+$/);
    await shot('dashboard-rms');
    await page.goto(`${base}/dashboards/builtin-hosts`);
    await expect.poll(() => count('.dash-panel .uplot'), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await shot('dashboard-hosts');
  });

  it('a dashboard is created, edited, saved and reloaded', async () => {
    await page.goto(`${base}/dashboards`);
    await page.getByRole('button', { name: 'New dashboard' }).click();
    await page.waitForURL(/\/dashboards\/[\w-]+$/);
    await page.getByLabel('dashboard title').fill('Checkout health');
    await page.getByRole('button', { name: 'Add panel' }).click();
    await page.getByLabel('panel title').fill('Errors by service');
    await page.getByLabel('panel type').selectOption('bar');
    await page.getByLabel('panel query').fill('from spans kind=server status=error | stats count() by service.name');
    await page.getByRole('button', { name: 'Apply' }).click();
    // Resize the panel by its corner: wider by about three columns.
    const handle = page.getByLabel('resize');
    const box = (await handle.boundingBox())!;
    await page.mouse.move(box.x + 5, box.y + 5);
    await page.mouse.down();
    await page.mouse.move(box.x + 5 + 330, box.y + 5 + 40, { steps: 5 });
    await page.mouse.up();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.form-ok').textContent()).toBe('Saved.');
    await page.reload();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Checkout health');
    await expect.poll(() => page.locator('.dash-panel .barlist li').count()).toBe(2);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const saved = await (await fetch(`${base}/api/v1/dashboards/${id}`, { headers: { authorization: `Bearer ${v.adminToken}` } })).json() as { spec: { panels: { w: number; type: string }[] } };
    expect(saved.spec.panels).toHaveLength(1);
    expect(saved.spec.panels[0]!.type).toBe('bar');
    expect(saved.spec.panels[0]!.w).toBeGreaterThan(6);
    await shot('dashboard-new');
  });

  it('saves a search per user and runs it again', async () => {
    await page.goto(`${base}/logs?since=1h&q=${encodeURIComponent('severity>=WARN')}`);
    await page.getByRole('button', { name: 'Save search' }).click();
    await page.getByLabel('name of the saved search').fill('warnings');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.goto(`${base}/logs?since=1h`);
    await page.getByRole('button', { name: /Saved \(1\)/ }).click();
    await page.getByRole('button', { name: 'warnings', exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get('q') === 'severity>=WARN');
  });

  it('with a development API token instead of a session, the UI opens as that token (the me answer is a token)', async () => {
    const token = await v.server.tokens.create('ui-dev-token', 'read');
    const dev = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      // A script string: the server type-check has no DOM types for a function body run in the page.
      await dev.addInitScript(`localStorage.setItem('vigil.devToken', ${JSON.stringify(token)})`);
      const p = await dev.newPage();
      await p.goto(`${base}/services`);
      await expect.poll(() => p.locator('.who').textContent(), { timeout: 10_000 }).toContain('ui-dev-token');
      await expect.poll(() => p.locator('.who .role').textContent()).toBe('viewer');
    } finally {
      await dev.close();
    }
  });

  it('shows the coming sections with an empty state', async () => {
    for (const p of ['knowledge', 'reports']) {
      await page.goto(`${base}/${p}`);
      await expect.poll(() => page.locator('.state.empty').textContent()).toMatch(/coming/);
    }
    await shot('coming');
  });
});

describe('telemetry is never markup', () => {
  it('keeps XSS payloads in log bodies and attributes inert, in lists, details and traces', async () => {
    await page.goto(`${base}/logs?since=1h&q=${encodeURIComponent('severity=WARN NOT body="slow password hash"')}`);
    const lines = page.locator('.event-line');
    await expect.poll(() => lines.count()).toBe(2);
    await expect.poll(() => page.getByTestId('event-list').textContent()).toContain(XSS.body);
    await lines.nth(0).click();
    await lines.nth(1).click();
    await expect.poll(() => page.locator('.event-detail').count()).toBe(2);
    await expect.poll(() => page.locator('.event-detail').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining(XSS.attr)]));
    // Clicking a payload value to filter on it puts it into the query as text.
    await page.locator('.event-detail button.value', { hasText: XSS.attr }).first().click();
    await expect.poll(() => page.getByLabel('query').inputValue()).toContain('svg onload');
    await page.waitForTimeout(500);
    await shot('xss');
    expect(dialogs).toEqual([]);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await count('img[src="x"], svg[onload], script:not([src])')).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});

function raw(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static UI route', () => {
  it('serves the shell for client routes, assets with long caching, and a strict CSP', async () => {
    const shell = await raw('/services/rms-api?since=1h');
    expect(shell.status).toBe(200);
    expect(shell.headers['content-type']).toMatch(/^text\/html/);
    expect(shell.headers['cache-control']).toBe('no-cache');
    expect(shell.headers['content-security-policy']).toMatch(/script-src 'self'/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(shell.body)![1]!;
    const js = await raw(asset);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.headers['cache-control']).toMatch(/immutable/);
    const etag = String(shell.headers.etag);
    const again = await fetch(`${base}/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect((await raw('/assets/nope.js')).status).toBe(404);
    expect((await raw('/favicon.svg')).headers['content-type']).toBe('image/svg+xml');
    const api404 = await raw('/api/v1/nothing-here');
    expect(api404.status).toBe(404);
    expect(api404.body).toMatch(/"error"/);
  });

  it('refuses path traversal, plain, encoded and double-encoded', async () => {
    for (const p of [
      '/../package.json',
      '/assets/../../package.json',
      '/%2e%2e/package.json',
      '/%2e%2e%2fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/%252e%252e%252fpackage.json',
      '/assets/%252e%252e%252f%252e%252e%252fsrc%252fserver%252fapp.ts',
      '/..%5c..%5cpackage.json',
      '/%2e%2e%5cpackage.json',
      '/%00index.html',
    ]) {
      const r = await raw(p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toMatch(/"name": "vigil"|<div id="root">/);
    }
  });
});

describe('dashboards and saved-searches API', () => {
  const auth = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });

  it('lets read scope view and write scope edit; validates specs', async () => {
    const read = await v.server.tokens.create('ui-read', 'read');
    const write = await v.server.tokens.create('ui-write', 'write');
    const list = await fetch(`${base}/api/v1/dashboards`, { headers: auth(read) });
    expect(((await list.json()) as { dashboards: { id: string; builtin: boolean }[] }).dashboards.filter((d) => d.builtin).map((d) => d.id)).toEqual(['builtin-hosts']);
    const body = JSON.stringify({ title: 'x', spec: { panels: [] } });
    expect((await fetch(`${base}/api/v1/dashboards`, { method: 'POST', headers: auth(read, { 'content-type': 'application/json' }), body })).status).toBe(403);
    const created = await fetch(`${base}/api/v1/dashboards`, { method: 'POST', headers: auth(write, { 'content-type': 'application/json' }), body });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const bad = await fetch(`${base}/api/v1/dashboards/${id}`, {
      method: 'PUT',
      headers: auth(write, { 'content-type': 'application/json' }),
      body: JSON.stringify({ title: 'x', spec: { panels: [{ id: 'a', title: 'a', type: 'pie', source: 'search', x: 0, y: 0, w: 4, h: 4 }] } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^spec\.panels\.0\.type/);
    expect((await fetch(`${base}/api/v1/dashboards/${id}`, { method: 'DELETE', headers: auth(write) })).status).toBe(204);
    expect((await fetch(`${base}/api/v1/dashboards/${id}`, { headers: auth(read) })).status).toBe(404);
    expect((await fetch(`${base}/api/v1/dashboards`)).status).toBe(401);
  });

  it('keeps saved searches private to whoever saved them', async () => {
    const a = await v.server.tokens.create('ui-a', 'read');
    const b = await v.server.tokens.create('ui-b', 'read');
    const save = await fetch(`${base}/api/v1/saved-searches`, { method: 'POST', headers: auth(a, { 'content-type': 'application/json' }), body: JSON.stringify({ name: 'mine', query: 'severity>=ERROR', range: '1h' }) });
    expect(save.status).toBe(201);
    const { id } = (await save.json()) as { id: number };
    expect(((await (await fetch(`${base}/api/v1/saved-searches`, { headers: auth(b) })).json()) as { searches: unknown[] }).searches).toEqual([]);
    expect((await fetch(`${base}/api/v1/saved-searches/${id}`, { method: 'DELETE', headers: auth(b) })).status).toBe(404);
    expect((await fetch(`${base}/api/v1/saved-searches/${id}`, { method: 'DELETE', headers: auth(a) })).status).toBe(204);
  });
});
