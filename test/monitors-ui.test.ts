/**
 * Issue 11.9 in a real browser: an admin opening a workflow monitor's page must not see its saved
 * password (nor a database monitor's), only the write-only mask and a word that it is set.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchBrowser, signIn } from './helpers/ui.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';

const PASSWORD = 'correct-horse-battery';
let v: TestVigil;
let browser: Browser;
let page: Page;
let target: http.Server;

beforeAll(async () => {
  ensureWebBuilt();
  target = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t"}'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  v = await startTestVigil({ agent: { selfMonitor: false } });
  await v.server.users.create({ username: 'alice', password: PASSWORD, role: 'admin' });
  const post = (body: unknown) => fetch(`${v.server.urls.api}/api/v1/monitors`, { method: 'POST', headers: { authorization: `Bearer ${v.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(
    (
      await post({
        id: 'lms-login',
        name: 'LMS login',
        type: 'workflow',
        interval: '1h',
        vars: { password: 'ui-var-secret-1' },
        steps: [{ name: 'log in', method: 'POST', url: `${base}/login`, body: { email: 'sami@uni.example', password: 'ui-body-secret-2' }, headers: { 'X-Api-Key': 'ui-header-secret-3' } }],
      })
    ).status,
  ).toBe(201);
  expect((await post({ id: 'rms-db', name: 'RMS DB', type: 'postgres', database: 'test', password: 'ui-db-secret-4', interval: '1h' })).status).toBe(201);
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  await page.goto(`${v.server.urls.api}/login`);
  await signIn(page, 'alice', PASSWORD);
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await v?.stop();
  await new Promise((r) => target.close(r));
});

describe('monitor page', () => {
  it.each([['lms-login'], ['rms-db']])('shows an admin no saved secret of %s, only that one is set', async (id) => {
    await page.goto(`${v.server.urls.api}/monitors/${id}`);
    await page.getByText('Saved secrets are write-only').waitFor();
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/ui-(var|body|header|db)-secret/);
    expect(text).toContain('"password": "********"');
    // Nor anywhere in the page's markup (attributes, hidden elements).
    expect(await page.content()).not.toMatch(/ui-(var|body|header|db)-secret/);
  });
});
