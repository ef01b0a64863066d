/**
 * Management in the web UI, in a real browser against a real Vigil: an admin creates a user and an API
 * token (its secret shown once, then only its name and scope) and revokes it; creates an HTTP monitor
 * through the form against a local server, tests it before saving, and edits it without the saved
 * credential ever reaching the page; creates a status page with that monitor and previews it. A viewer
 * sees none of it. Plus the unsaved-test route (`POST /api/v1/monitors/test`) through the API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';
import { ensureWebBuilt, launchBrowser, OUTPUT, signIn } from './helpers/ui.ts';

let v: TestVigil;
let base: string;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let target: Server;
let targetUrl: string;
const seenAuth: string[] = [];
const pageErrors: string[] = [];
const PASSWORD = 'correct-horse-battery';
const SECRET_HEADER = 'Bearer s3cret-monitor-credential';

beforeAll(async () => {
  ensureWebBuilt();
  // The endpoint the monitor checks: healthy, and it records the credential it was sent.
  target = createServer((req, res) => {
    seenAuth.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('all systems healthy');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/health`;
  v = await startTestVigil();
  base = v.server.urls.api;
  await v.server.users.create({ username: 'alice', password: PASSWORD, role: 'admin' });
  await v.server.users.create({ username: 'victor', password: PASSWORD, role: 'viewer' });
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/login`);
  await signIn(page, 'alice', PASSWORD);
  await page.waitForURL(`${base}/`);
}, 90_000);

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await browser?.close();
  await v?.stop();
  await new Promise((r) => target?.close(r));
});

const shot = (name: string) => page.screenshot({ path: `${OUTPUT}/ui-manage-${name}.png`, fullPage: true });
const asToken = (token: string) => fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
/** Every input and textarea value in the page (values are properties, not in the HTML). */
const inputValues = (p: Page) => p.locator('input, textarea').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));

describe('users', () => {
  it('an admin creates a user with a generated password shown once; the API error lands next to its field', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.waitForURL(`${base}/users`);
    const form = page.getByRole('form', { name: 'new user' });
    await form.getByLabel('Username', { exact: true }).fill('rita');
    await form.getByRole('combobox', { name: /^Role/ }).selectOption('responder');
    await form.getByLabel('Initial password', { exact: true }).fill('short');
    await form.getByRole('button', { name: 'Create user' }).click();
    await expect.poll(() => form.locator('.field.has-error .field-error').textContent()).toMatch(/at least 10 characters/);
    await form.getByLabel('Initial password', { exact: true }).fill('');
    await form.getByRole('button', { name: 'Create user' }).click();
    const shown = page.getByTestId('shown-password');
    await expect.poll(() => shown.count()).toBe(1);
    const generated = (await shown.textContent())!;
    expect((await v.server.users.authenticate('rita', generated))?.role).toBe('responder');
    await expect.poll(() => page.getByRole('table', { name: 'users' }).getByText('rita').count()).toBe(1);
    await shot('users');
    // Role change from the list.
    await page.getByLabel('Role of rita', { exact: true }).selectOption('viewer');
    await expect.poll(async () => (await v.server.users.byName('rita'))?.role).toBe('viewer');
  });
});

describe('API tokens', () => {
  it('shows a new token once, then only its name and scope; revoking stops it', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.waitForURL(`${base}/tokens`);
    const form = page.getByRole('form', { name: 'new token' });
    await form.getByLabel('Token name', { exact: true }).fill('bad name!');
    await form.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => form.locator('.field.has-error .field-error').textContent()).toMatch(/invalid token name/);
    await form.getByLabel('Token name', { exact: true }).fill('ci-reader');
    await form.getByRole('combobox', { name: /^Scope/ }).selectOption('read');
    await form.getByRole('button', { name: 'Create token' }).click();
    const shown = page.getByTestId('new-token');
    await expect.poll(() => shown.count()).toBe(1);
    const secret = (await shown.textContent())!;
    expect(secret).toMatch(/^vgl_/);
    expect((await asToken(secret)).status).toBe(200);
    await shot('token-created');

    await page.reload();
    const table = page.getByRole('table', { name: 'tokens' });
    const row = table.getByRole('row').filter({ hasText: 'ci-reader' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('read');
    expect(await page.content()).not.toContain(secret);
    expect(await page.getByTestId('new-token').count()).toBe(0);

    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Revoke ci-reader' }).click();
    await expect.poll(() => row.textContent()).toMatch(/revoked/);
    expect((await asToken(secret)).status).toBe(401);
  });
});

describe('monitors', () => {
  it('creates an HTTP monitor through the form, tests it unsaved, and sees it in the list', async () => {
    await page.getByRole('link', { name: 'Monitors' }).click();
    await page.getByRole('link', { name: 'New monitor' }).click();
    await page.waitForURL(`${base}/monitors/new`);
    const form = page.getByRole('form', { name: 'monitor' });
    await form.getByLabel('Name', { exact: true }).fill('Local health');
    await form.getByLabel('ID', { exact: true }).fill('local-health');
    await form.getByLabel('System', { exact: true }).fill('ops');
    await form.getByLabel('URL', { exact: true }).fill('not a url');
    await form.getByRole('button', { name: 'Create monitor' }).click();
    // The API's message appears under the URL field.
    await expect.poll(() => form.locator('.field.has-error').filter({ hasText: 'URL' }).locator('.field-error').textContent()).toMatch(/absolute http\(s\) URL/);

    await form.getByLabel('URL', { exact: true }).fill(targetUrl);
    await form.getByRole('button', { name: 'Add header' }).click();
    await form.getByLabel('header 1 name', { exact: true }).fill('Authorization');
    await form.getByLabel('header 1 value', { exact: true }).fill(SECRET_HEADER);
    await form.getByLabel('Body must contain', { exact: true }).fill('healthy');
    await form.getByRole('button', { name: 'Test now' }).click();
    await expect.poll(() => page.getByTestId('test-result').locator('.badge').textContent()).toBe('up');
    expect(seenAuth).toContain(SECRET_HEADER);
    // Testing saved nothing.
    expect(await v.server.monitoring.service.get('local-health')).toBeUndefined();
    await shot('monitor-form');

    await form.getByRole('button', { name: 'Create monitor' }).click();
    await page.waitForURL(`${base}/monitors/local-health`);
    const stored = await v.server.monitoring.service.get('local-health');
    expect(stored?.spec).toMatchObject({ type: 'http', url: targetUrl, headers: { Authorization: SECRET_HEADER }, expect: { keyword: 'healthy' } });
    await page.getByRole('link', { name: 'Monitors' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'Local health' }).count()).toBe(1);
  });

  it('edits the monitor without the saved credential reaching the page, and keeps it', async () => {
    await page.goto(`${base}/monitors/local-health/edit`);
    const form = page.getByRole('form', { name: 'monitor' });
    await expect.poll(() => form.getByLabel('Name', { exact: true }).inputValue()).toBe('Local health');
    expect(await form.getByLabel('header 1 value', { exact: true }).getAttribute('placeholder')).toBe('set — type to replace');
    expect((await inputValues(page)).join('\n')).not.toContain('s3cret');
    // Test now with the kept credential: the server restores it, the target gets the real one.
    seenAuth.length = 0;
    await form.getByRole('button', { name: 'Test now' }).click();
    await expect.poll(() => page.getByTestId('test-result').locator('.badge').textContent()).toBe('up');
    expect(seenAuth).toEqual([SECRET_HEADER]);
    await form.getByLabel('Name', { exact: true }).fill('Local health check');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${base}/monitors/local-health`);
    const stored = await v.server.monitoring.service.get('local-health');
    expect(stored?.spec).toMatchObject({ name: 'Local health check', headers: { Authorization: SECRET_HEADER } });
    await expect.poll(() => page.locator('h1').textContent()).toMatch(/Local health check/);
    expect(await page.content()).not.toContain('s3cret');
  });

  it('shows a monitor defined in a file read-only, naming the file', async () => {
    const dir = v.server.monitoring.dir;
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/ops.yaml`, `monitors:\n  - id: file-health\n    name: File health\n    type: http\n    url: ${targetUrl}\n`);
    await expect.poll(async () => (await v.server.monitoring.service.get('file-health'))?.file ?? null, { timeout: 15_000 }).not.toBeNull();
    await page.goto(`${base}/monitors/file-health/edit`);
    await expect.poll(() => page.getByTestId('file-monitor').textContent()).toMatch(/ops\.yaml.*read-only/);
    expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0);
    expect(await page.getByRole('form', { name: 'monitor' }).getByLabel('Name', { exact: true }).isDisabled()).toBe(true);
  });
});

describe('status pages', () => {
  it('creates a status page with a monitor and previews it', async () => {
    await page.getByRole('link', { name: 'Status pages' }).click();
    await page.waitForURL(`${base}/status-pages`);
    await page.getByRole('button', { name: 'New status page' }).click();
    const form = page.getByRole('form', { name: 'status page' });
    await form.getByLabel('Title', { exact: true }).fill('Ops status');
    await form.getByLabel('Slug', { exact: true }).fill('Bad Slug');
    await form.getByRole('button', { name: 'Create status page' }).click();
    await expect.poll(() => form.locator('.field.has-error .field-error').textContent()).toMatch(/lower-case/);
    await form.getByLabel('Slug', { exact: true }).fill('ops');
    await form.getByRole('checkbox', { name: /Local health check/ }).check();
    await form.getByLabel('Public name of Local health check', { exact: true }).fill('Health endpoint');
    await form.getByRole('button', { name: 'Create status page' }).click();
    const preview = page.getByTestId('status-preview');
    await expect.poll(() => preview.textContent()).toMatch(/Ops status.*Health endpoint/);
    await shot('status-page');
    expect(await v.server.monitoring.store.statusPage('ops')).toMatchObject({ title: 'Ops status', components: [{ monitorId: 'local-health', name: 'Health endpoint' }] });
    const html = await (await fetch(`${base}/status/ops`)).text();
    expect(html).toContain('Health endpoint');
    expect(html).not.toContain('local-health');
  });
});

describe('a viewer', () => {
  let viewer: BrowserContext;
  let vp: Page;
  beforeAll(async () => {
    viewer = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    vp = await viewer.newPage();
    vp.on('pageerror', (e) => pageErrors.push(e.message));
    await vp.goto(`${base}/login`);
    await signIn(vp, 'victor', PASSWORD);
    await vp.waitForURL(`${base}/`);
  });
  afterAll(() => viewer?.close());

  it('sees no management entries and a clear state on their addresses', async () => {
    const nav = vp.getByRole('navigation', { name: 'main' });
    await expect.poll(() => nav.getByRole('link', { name: 'Monitors' }).count()).toBe(1);
    for (const name of ['Users', 'API tokens', 'Status pages']) expect(await nav.getByRole('link', { name }).count()).toBe(0);
    for (const path of ['/users', '/tokens', '/status-pages', '/monitors/new', '/monitors/local-health/edit']) {
      await vp.goto(`${base}${path}`);
      await expect.poll(() => vp.getByTestId('needs-role').count()).toBe(1);
      expect(await vp.locator('form').count()).toBe(0);
    }
    await vp.goto(`${base}/monitors`);
    await expect.poll(() => vp.getByRole('link', { name: 'Local health check' }).count()).toBe(1);
    expect(await vp.getByRole('link', { name: 'New monitor' }).count()).toBe(0);
    await vp.goto(`${base}/monitors/local-health`);
    await expect.poll(() => vp.locator('h1').textContent()).toMatch(/Local health check/);
    expect(await vp.getByRole('link', { name: 'Edit' }).count()).toBe(0);
  });

  it('is refused by the API behind those pages', async () => {
    // The browser's session, CSRF token and all: the server, not the page, decides.
    const status = await vp.evaluate(async () => {
      const me = (await (await fetch('/api/v1/auth/me')).json()) as { csrfToken: string };
      const post = (path: string, body: unknown) =>
        fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken }, body: JSON.stringify(body) }).then((r) => r.status);
      return {
        users: await fetch('/api/v1/users').then((r) => r.status),
        tokens: await post('/api/v1/tokens', { name: 'x', scope: 'admin' }),
        test: await post('/api/v1/monitors/test', { id: 'x', name: 'x', type: 'http', url: 'http://127.0.0.1:1/' }),
      };
    });
    expect(status).toEqual({ users: 403, tokens: 403, test: 403 });
  });
});

describe('POST /api/v1/monitors/test', () => {
  const post = (body: unknown, token = v.adminToken) =>
    fetch(`${base}/api/v1/monitors/test`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('names the field of a bad definition, and refuses push monitors', async () => {
    const bad = await post({ id: 'x', name: 'x', type: 'http', url: 'nope', interval: '1s' });
    expect(bad.status).toBe(400);
    const error = ((await bad.json()) as { error: string }).error;
    expect(error).toMatch(/(^|; )url: expected an absolute/);
    expect(error).toMatch(/(^|; )interval: /);
    const push = await post({ id: 'x', name: 'x', type: 'push' });
    expect(push.status).toBe(400);
    expect(((await push.json()) as { error: string }).error).toMatch(/^type: /);
  });

  it('keeps a saved secret only for its saved destination, and never runs the mask as a value', async () => {
    const spec = { id: 'local-health', name: 'x', type: 'http', url: targetUrl, headers: { Authorization: '********' } };
    seenAuth.length = 0;
    const same = await post(spec);
    expect(((await same.json()) as { result: { status: string } }).result.status).toBe('up');
    expect(seenAuth).toEqual([SECRET_HEADER]);
    const moved = await post({ ...spec, url: 'http://127.0.0.2:9/steal' });
    expect(moved.status).toBe(400);
    expect(((await moved.json()) as { error: string }).error).toMatch(/^headers\.Authorization: the saved secret cannot be kept/);
    const unsaved = await post({ ...spec, id: 'never-saved' });
    expect(unsaved.status).toBe(400);
    expect(((await unsaved.json()) as { error: string }).error).toMatch(/^headers\.Authorization: .*none is saved here/);
  });

  it('goes through the outbound guard, stores nothing and is audited', async () => {
    const r = await post({ id: 'metadata', name: 'x', type: 'http', url: 'http://169.254.169.254/latest/meta-data/' });
    expect(r.status).toBe(200);
    const { result } = (await r.json()) as { result: { status: string; error: string } };
    expect(result.status).toBe('down');
    expect(result.error).toMatch(/169\.254\.169\.254 is link-local/);
    expect(await v.server.monitoring.service.get('metadata')).toBeUndefined();
    const audit = await fetch(`${base}/api/v1/audit?action=monitor.tested`, { headers: { authorization: `Bearer ${v.adminToken}` } });
    const entries = ((await audit.json()) as { entries: { target: string; actor: string }[] }).entries;
    expect(entries.map((e) => e.target)).toEqual(expect.arrayContaining(['monitor:metadata', 'monitor:local-health']));
  });
});
