/**
 * Public status pages: admins choose components; the public HTML and JSON show only those, under
 * their public names, escaped, with a strict CSP and no script.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
let writeToken: string;
const EVIL = '<script>alert("x")</script> & "LMS"';

beforeAll(async () => {
  v = await startTestVigil({ demo: { enabled: false }, agent: { selfMonitor: false } });
  writeToken = await v.server.tokens.create('writer', 'write');
  const svc = v.server.monitoring.service;
  await svc.create({ id: 'lms-login', name: 'internal: LMS login via sso-10.0.0.7', system: 'lms', description: '', enabled: true, interval: '1h', timeout: '1s', retries: 0, type: 'tcp', host: '127.0.0.1', port: 1 });
  await svc.create({ id: 'secret-db', name: 'Secret payroll database', system: 'rms', description: '', enabled: true, interval: '1h', timeout: '1s', retries: 0, type: 'tcp', host: '127.0.0.1', port: 1 });
  await v.server.monitoring.scheduler.runNow('lms-login');
  await v.server.monitoring.scheduler.flushState();
});
afterAll(async () => {
  await v?.stop();
});

const call = (method: string, path: string, token: string | undefined, body?: unknown) =>
  fetch(`${v.server.urls.api}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

describe('status pages', () => {
  const page = { slug: 'lms', title: 'LMS <b>status</b>', description: 'Learning platform', components: [{ monitorId: 'lms-login', name: EVIL }] };

  it('only admins define pages, and components must be monitors', async () => {
    expect((await call('POST', '/api/v1/status-pages', writeToken, page)).status).toBe(403);
    expect((await call('POST', '/api/v1/status-pages', undefined, page)).status).toBe(401);
    const bad = await call('POST', '/api/v1/status-pages', v.adminToken, { ...page, components: [{ monitorId: 'nope', name: 'x' }] });
    expect(bad.status).toBe(400);
    expect((await call('POST', '/api/v1/status-pages', v.adminToken, page)).status).toBe(201);
    expect((await call('POST', '/api/v1/status-pages', v.adminToken, page)).status).toBe(409);
  });

  it('serves public JSON with only the chosen components under their public names', async () => {
    const res = await call('GET', '/api/v1/public/status/lms', undefined);
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { status: string; components: { name: string; status: string; bars: unknown[] }[]; incidents: { active: unknown[]; past: unknown[] } };
    expect(body.components).toHaveLength(1);
    expect(body.components[0]).toMatchObject({ name: EVIL, status: 'outage' });
    expect(body.components[0]!.bars).toHaveLength(90);
    expect(body.status).toBe('outage');
    expect(body.incidents).toEqual({ active: [], past: [] });
    // Nothing not chosen: no other monitor, no ids, no internal names, targets or errors.
    for (const secret of ['Secret payroll', 'secret-db', 'lms-login', 'sso-10.0.0.7', '127.0.0.1', 'ECONNREFUSED']) expect(text).not.toContain(secret);
    expect((await call('GET', '/api/v1/public/status/none', undefined)).status).toBe(404);
  });

  it('renders escaped HTML under a strict CSP with no script at all', async () => {
    const res = await call('GET', '/status/lms', undefined);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<b>');
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#34;LMS&#34;');
    expect(html).toContain('LMS &#60;b&#62;status&#60;/b&#62;');
    expect(html).not.toContain('Secret payroll');
    expect(html).not.toMatch(/style="/);
    const css = await call('GET', '/status/assets/status.css', undefined);
    expect(css.headers.get('content-type')).toMatch(/text\/css/);
  });

  it('updates and deletes pages', async () => {
    const put = await call('PUT', '/api/v1/status-pages/lms', v.adminToken, { title: 'LMS', components: [] });
    expect(put.status).toBe(200);
    const body = (await (await call('GET', '/api/v1/public/status/lms', undefined)).json()) as { components: unknown[]; status: string };
    expect(body).toMatchObject({ components: [], status: 'unknown' });
    expect((await call('DELETE', '/api/v1/status-pages/lms', v.adminToken)).status).toBe(204);
    expect((await call('GET', '/status/lms', undefined)).status).toBe(404);
  });
});
