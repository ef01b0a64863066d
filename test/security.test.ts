/**
 * Security controls end to end: the route matrix (every registered route as anonymous, viewer,
 * responder and admin), sessions and CSRF, brute-force lockout, audit log, security headers, injection
 * attempts through every route parameter, redaction before storage and per-token ingest limits.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';
import { safeRedirect } from '../src/server/routes/auth.ts';
import { countRows, startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
const PASSWORD = 'correct horse battery';

interface Session {
  cookie: string;
  csrf: string;
}

async function login(username: string, password = PASSWORD): Promise<Response> {
  return fetch(`${v.server.urls.api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
}

async function session(username: string): Promise<Session> {
  const res = await login(username);
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
}

function api(path: string, init: RequestInit & { as?: Session; token?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.as) {
    headers.cookie = init.as.cookie;
    if (init.method && init.method !== 'GET') headers['x-csrf-token'] = init.as.csrf;
  }
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  return fetch(`${v.server.urls.api}${path}`, { ...init, headers });
}

beforeAll(async () => {
  v = await startTestVigil();
  for (const [username, role] of [
    ['alice', 'admin'],
    ['rita', 'responder'],
    ['victor', 'viewer'],
  ] as const) {
    await v.server.users.create({ username, password: PASSWORD, role });
  }
});
afterAll(async () => {
  await v?.stop();
});

describe('route matrix', () => {
  // Who may pass each rule — written out here, independently of the server's own table.
  const EXPECTED: Record<string, Record<string, boolean>> = {
    public: { anonymous: true, viewer: true, responder: true, admin: true },
    read: { anonymous: false, viewer: true, responder: true, admin: true },
    write: { anonymous: false, viewer: false, responder: true, admin: true },
    admin: { anonymous: false, viewer: false, responder: false, admin: true },
    ingest: { anonymous: false, viewer: false, responder: false, admin: false },
    announce: { anonymous: false, viewer: false, responder: true, admin: true },
  };
  const INJECTION = `x' OR '1'='1'; DROP TABLE users; --`;

  it('every registered route answers each role as its rule says', async () => {
    const who: Record<string, Session | undefined> = {
      anonymous: undefined,
      viewer: await session('victor'),
      responder: await session('rita'),
      admin: await session('alice'),
    };
    const routes = v.server.routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    expect(routes.length).toBeGreaterThan(20);
    const failures: string[] = [];
    // Logout ends the session it is sent with: walk it last.
    const ordered = [...routes].sort((a, b) => Number(a.url.endsWith('/logout')) - Number(b.url.endsWith('/logout')));
    for (const route of ordered) {
      const path = route.url.replace(/:[A-Za-z_]+/g, encodeURIComponent(INJECTION)).replace('*', 'x');
      for (const [name, s] of Object.entries(who)) {
        const controller = new AbortController();
        const res = await api(`${path}${path.includes('?') ? '&' : '?'}q=${encodeURIComponent(INJECTION)}&since=${encodeURIComponent(INJECTION)}`, {
          method: route.method,
          as: s,
          body: route.method === 'GET' ? undefined : JSON.stringify({ name: INJECTION, query: INJECTION }),
          signal: controller.signal,
        });
        controller.abort(); // streams (live tail) would otherwise stay open
        const passed = res.status !== 401 && res.status !== 403;
        const want = EXPECTED[route.access]![name]!;
        if (passed !== want) failures.push(`${route.method} ${route.url} (${route.access}) as ${name}: ${res.status}`);
        if (!want && s === undefined && res.status !== 401) failures.push(`${route.method} ${route.url} anonymous should be 401, got ${res.status}`);
        if (res.status >= 500) failures.push(`${route.method} ${route.url} as ${name}: ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    // The injection attempts changed nothing.
    expect((await v.server.users.list()).map((u) => u.username).sort()).toEqual(['alice', 'rita', 'victor']);
    expect(await countRows(v.server, 'otel_logs')).toBeGreaterThanOrEqual(0);
  });

  it('API tokens pass by scope', async () => {
    const tokens = { read: await v.server.tokens.create('m-read', 'read'), write: await v.server.tokens.create('m-write', 'write'), ingest: v.ingestToken };
    expect((await api('/api/v1/services', { token: tokens.read })).status).toBe(200);
    expect((await api('/api/v1/services', { token: tokens.ingest })).status).toBe(403);
    expect((await api('/api/v1/users', { token: tokens.write })).status).toBe(403);
    expect((await api('/api/v1/users', { token: v.adminToken })).status).toBe(200);
  });
});

describe('sessions', () => {
  it('sets an HttpOnly SameSite=Lax cookie, and /me returns the user and CSRF token', async () => {
    const res = await login('victor');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^vigil_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const me = (await (await api('/api/v1/auth/me', { headers: { cookie: cookie.split(';')[0]! } })).json()) as { user: { username: string; role: string }; csrfToken: string };
    expect(me.user).toMatchObject({ username: 'victor', role: 'viewer' });
    expect(me.csrfToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('logout ends the session on the server: the old cookie no longer works', async () => {
    const s = await session('victor');
    expect((await api('/api/v1/auth/logout', { method: 'POST', as: s })).status).toBe(204);
    expect((await api('/api/v1/auth/me', { as: s })).status).toBe(401);
  });

  it('a password change ends every other session of the user', async () => {
    await v.server.users.create({ username: 'paula', password: PASSWORD, role: 'viewer' });
    const a = await session('paula');
    const b = await session('paula');
    const res = await api('/api/v1/auth/password', { method: 'POST', as: a, body: JSON.stringify({ current: PASSWORD, next: 'a much better passphrase' }) });
    expect(res.status).toBe(204);
    expect((await api('/api/v1/auth/me', { as: b })).status).toBe(401);
    expect((await api('/api/v1/auth/me', { as: a })).status).toBe(200);
    expect((await login('paula')).status).toBe(401);
    expect((await login('paula', 'a much better passphrase')).status).toBe(200);
    const weak = await api('/api/v1/auth/password', { method: 'POST', as: a, body: JSON.stringify({ current: 'a much better passphrase', next: 'short' }) });
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as { error: string }).error).toMatch(/^next: password must have at least 10 characters/);
  });

  it('expires idle sessions', async () => {
    const short = await startTestVigil({ auth: { sessionIdle: '1s' } });
    try {
      await short.server.users.create({ username: 'ivy', password: PASSWORD, role: 'viewer' });
      const res = await fetch(`${short.server.urls.api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ivy', password: PASSWORD }) });
      const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
      expect((await fetch(`${short.server.urls.api}/api/v1/auth/me`, { headers: { cookie } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1300));
      expect((await fetch(`${short.server.urls.api}/api/v1/auth/me`, { headers: { cookie } })).status).toBe(401);
    } finally {
      await short.stop();
    }
  });

  it('refuses state-changing requests without the CSRF token or from another origin', async () => {
    const s = await session('alice');
    const body = JSON.stringify({ username: 'csrf-victim', role: 'viewer' });
    const noToken = await fetch(`${v.server.urls.api}/api/v1/users`, { method: 'POST', body, headers: { cookie: s.cookie, 'content-type': 'application/json' } });
    expect(noToken.status).toBe(403);
    const wrongToken = await api('/api/v1/users', { method: 'POST', body, as: { ...s, csrf: 'x'.repeat(32) } });
    expect(wrongToken.status).toBe(403);
    const crossOrigin = await api('/api/v1/users', { method: 'POST', body, as: s, headers: { origin: 'https://evil.example' } });
    expect(crossOrigin.status).toBe(403);
    expect(await v.server.users.byName('csrf-victim')).toBeUndefined();
    const ok = await api('/api/v1/users', { method: 'POST', body, as: s });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { password: string }).password).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('only ever redirects to same-origin relative paths after login', () => {
    expect(safeRedirect('/logs?q=error#x')).toBe('/logs?q=error#x');
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '/\t/evil.example', undefined, 42]) {
      expect(safeRedirect(bad)).toBe('/');
    }
  });
});

describe('brute force', () => {
  it('locks a user out after 5 failures (429 + Retry-After), even for the right password, and audits it', async () => {
    await v.server.users.create({ username: 'bruno', password: PASSWORD, role: 'viewer' });
    for (let i = 0; i < 5; i++) expect((await login('bruno', `guess-${i}`)).status).toBe(401);
    const locked = await login('bruno');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    const admin = await session('alice');
    const audit = (await (await api('/api/v1/audit?action=auth.login', { as: admin })).json()) as { entries: { actor: string; action: string; ip: string }[] };
    expect(audit.entries.filter((e) => e.actor === 'user:bruno' && e.action === 'auth.login_failed')).toHaveLength(5);
    expect(audit.entries.some((e) => e.actor === 'user:bruno' && e.action === 'auth.login_locked')).toBe(true);
    expect(audit.entries[0]!.ip).toBeTruthy();
  });

  it('throttles and audits wrong current passwords on password change, so a stolen session cannot guess it', async () => {
    await v.server.users.create({ username: 'petra', password: PASSWORD, role: 'viewer' });
    const s = await session('petra');
    const change = (current: string) => api('/api/v1/auth/password', { method: 'POST', as: s, body: JSON.stringify({ current, next: 'a brand new passphrase' }) });
    for (let i = 0; i < 5; i++) {
      const res = await change(`guess-${i}`);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toMatch(/^current: /);
    }
    // Locked now, even for the right password: the guesser learns nothing more.
    const locked = await change(PASSWORD);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await v.server.users.authenticate('petra', PASSWORD)).toBeTruthy();
    const admin = await session('alice');
    const audit = (await (await api('/api/v1/audit?action=auth.password_change', { as: admin })).json()) as { entries: { actor: string; action: string; target: string; ip: string }[] };
    const mine = audit.entries.filter((e) => e.target === 'user:petra');
    expect(mine.filter((e) => e.action === 'auth.password_change_failed')).toHaveLength(5);
    expect(mine.some((e) => e.action === 'auth.password_change_locked')).toBe(true);
    expect(mine.every((e) => e.actor === 'user:petra' && e.ip)).toBe(true);
  });

  it('answers unknown users and wrong passwords alike', async () => {
    const unknown = await login('nobody-here', 'whatever-password');
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({ error: 'wrong username or password' });
  });
});

describe('audit log', () => {
  it('records who changed what, when and from where; admins only', async () => {
    const admin = await session('alice');
    await api('/api/v1/tokens', { method: 'POST', as: admin, body: JSON.stringify({ name: 'audited', scope: 'read' }) });
    await api('/api/v1/users/victor', { method: 'PATCH', as: admin, body: JSON.stringify({ role: 'responder' }) });
    const { entries } = (await (await api('/api/v1/audit', { as: admin })).json()) as { entries: { actor: string; action: string; target: string; at: string }[] };
    expect(entries).toContainEqual(expect.objectContaining({ actor: 'user:alice', action: 'token.created', target: 'token:audited' }));
    expect(entries).toContainEqual(expect.objectContaining({ actor: 'user:alice', action: 'user.role_changed', target: 'user:victor' }));
    expect((await api('/api/v1/audit', { as: await session('rita') })).status).toBe(403);
    await api('/api/v1/users/victor', { method: 'PATCH', as: admin, body: JSON.stringify({ role: 'viewer' }) });
  });

  it('records configuration changes made through any write route, with who and which item', async () => {
    const admin = await session('alice');
    const created = await api('/api/v1/monitors', { method: 'POST', as: admin, body: JSON.stringify({ id: 'audited-monitor', name: 'Audited', type: 'tcp', system: 'ops', host: '127.0.0.1', port: 9, interval: '60s' }) });
    expect(created.status).toBe(201);
    expect((await api('/api/v1/monitors/audited-monitor', { method: 'DELETE', as: admin })).status).toBeLessThan(300);
    const { entries } = (await (await api('/api/v1/audit?action=config.changed', { as: admin })).json()) as { entries: { actor: string; target: string; details: { params: Record<string, string> } }[] };
    expect(entries).toContainEqual(expect.objectContaining({ actor: 'user:alice', target: 'POST /api/v1/monitors' }));
    expect(entries).toContainEqual(expect.objectContaining({ actor: 'user:alice', target: 'DELETE /api/v1/monitors/:id', details: expect.objectContaining({ params: { id: 'audited-monitor' } }) }));
    // Routes that write their own entries are not recorded twice.
    expect(entries.some((e) => e.target.startsWith('POST /api/v1/tokens'))).toBe(false);
  });

  it('keeps the last admin', async () => {
    const admin = await session('alice');
    expect((await api('/api/v1/users/alice', { method: 'DELETE', as: admin })).status).toBe(409);
    expect((await api('/api/v1/users/alice', { method: 'PATCH', as: admin, body: JSON.stringify({ role: 'viewer' }) })).status).toBe(409);
  });
});

describe('hardening', () => {
  it('sends security headers and a strict CSP, and never caches API answers', async () => {
    const res = await api('/api/v1/auth/me', { as: await session('victor') });
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('bounds request bodies and answers malformed ones without internals', async () => {
    const big = await api('/api/v1/auth/login', { method: 'POST', body: JSON.stringify({ username: 'x'.repeat(2 * 1024 * 1024), password: 'y' }) });
    expect(big.status).toBe(413);
    const bad = await api('/api/v1/auth/login', { method: 'POST', body: '{"username": ' });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).not.toMatch(/at .*\.ts:\d+|node_modules|SELECT|sqlite/i);
  });

  it('ignores a malformed session cookie or Origin instead of failing: public pages, sign-in and sessions keep working', async () => {
    const s = await session('victor');
    for (const cookie of ['vigil_session=%', 'vigil_session=%E0%A4%A', 'vigil_session=%; other=1']) {
      expect((await api('/healthz', { headers: { cookie } })).status, cookie).toBe(200);
      expect((await api('/api/v1/auth/login', { method: 'POST', headers: { cookie }, body: JSON.stringify({ username: 'victor', password: PASSWORD }) })).status, cookie).toBe(200);
      // Anonymous with the broken cookie: 401 (sign in again), never 500.
      expect((await api('/api/v1/auth/me', { headers: { cookie } })).status, cookie).toBe(401);
    }
    // Someone else's broken cookie beside a real session does not end it.
    expect((await api('/api/v1/auth/me', { headers: { cookie: `other=%; ${s.cookie}` } })).status).toBe(200);
    for (const origin of ['garbage', 'http://[::1', '://']) {
      expect((await api('/healthz', { headers: { origin } })).status, origin).toBe(200);
      expect((await api('/api/v1/auth/login', { method: 'POST', headers: { origin }, body: JSON.stringify({ username: 'victor', password: PASSWORD }) })).status, origin).toBe(200);
      // A state change whose Origin cannot be read is not provably same-origin: refused like a cross-site one.
      const res = await api('/api/v1/auth/logout', { method: 'POST', as: s, headers: { origin } });
      expect(res.status, origin).toBe(403);
      expect(await res.json()).toEqual({ error: 'cross-origin request refused' });
    }
    expect((await api('/api/v1/auth/me', { as: s })).status).toBe(200);
  });

  it('answers path traversal attempts with 404, sent raw (clients would normalise them away)', async () => {
    const { port } = new URL(v.server.urls.api);
    const rawGet = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: Number(port), path, method: 'GET' }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const path of ['/../../etc/passwd', '/assets/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%252e%252e%252f%252e%252e%252fetc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd', '/assets/%2e%2e%5c%2e%2e%5cetc%5cpasswd']) {
      const res = await rawGet(path);
      expect(res.status, path).toBe(404);
      expect(res.body).not.toContain('root:');
    }
  });
});

describe('ingest protections', () => {
  function logs(bodies: string[], attributes: Record<string, string> = {}): Uint8Array {
    const T = otlpTypes().logs.request;
    const attrs = Object.entries(attributes).map(([key, value]) => ({ key, value: { stringValue: value } }));
    return T.encode(T.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: bodies.map((b) => ({ body: { stringValue: b }, attributes: attrs })) }] }] })).finish();
  }
  const send = (body: Uint8Array, token: string) =>
    fetch(`${v.server.urls.otlp}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` } });

  it('redacts e-mail addresses, card numbers and secrets before storage, and counts them', async () => {
    const res = await send(logs(['redact-check: refund to jane@example.com card 4111 1111 1111 1111 via /cb?token=abc123'], { 'user.password': 'hunter2hunter2', 'http.url': 'https://u:p@pay.example/x' }), v.ingestToken);
    expect(res.status).toBe(200);
    const [row] = await v.server.store.query(`SELECT Body, LogAttributes FROM otel_logs WHERE Body LIKE 'redact-check%'`);
    expect(row!.Body).toBe('redact-check: refund to [REDACTED:email] card [REDACTED:card] via /cb?token=[REDACTED]');
    expect(JSON.parse(String(row!.LogAttributes))).toEqual({ 'user.password': '[REDACTED]', 'http.url': 'https://[REDACTED]@pay.example/x' });
    const text = await (await api('/metrics', { token: v.adminToken })).text();
    expect(text).toMatch(/vigil_redactions_total\{rule="email"\} [1-9]/);
    expect(text).toMatch(/vigil_redactions_total\{rule="card"\} [1-9]/);
  });

  it('applies per-token ingest rate limits with Retry-After', async () => {
    const limited = await v.server.tokens.create('limited', 'ingest', new Date(), 100);
    const batch = logs(Array.from({ length: 300 }, (_, i) => `limited ${i}`));
    expect((await send(batch, limited)).status).toBe(200);
    const refused = await send(batch, limited);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Other tokens are not affected.
    expect((await send(logs(['unlimited']), v.ingestToken)).status).toBe(200);
  });
});
