/**
 * End to end with `store.state` = a PostgreSQL URL: the CLI and a real Vigil share the state in
 * PostgreSQL; users, tokens, sessions, monitors, dashboards and status pages survive a restart on a
 * fresh data directory (so nothing of it was kept in the SQLite file).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import { startVigil, type VigilServer } from '../src/server/app.ts';
import { freshPostgresSchema, type TestSchema } from './helpers/postgres.ts';
import { runVigil, tempDir } from './helpers/vigil.ts';

const PASSWORD = 'a long enough password';

/**
 * Starts Vigil on a new temporary data directory with the given state store and secrets key (shared,
 * as every Vigil on one state store must share it: monitor secrets are sealed with it).
 */
async function start(state: string, keyFile: string): Promise<{ server: VigilServer; stop(): Promise<void> }> {
  const { dir, cleanup } = tempDir();
  const config = loadConfig({
    env: {},
    flags: { dataDir: dir, port: 0, otlpPort: 0, hecPort: 0, logLevel: 'silent', demo: { enabled: false }, store: { state }, secrets: { keyFile } },
  });
  const server = await startVigil(config);
  return { server, stop: async () => (await server.stop(), cleanup()) };
}

describe('store.state on PostgreSQL', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await freshPostgresSchema();
  });
  afterAll(async () => schema?.drop());

  it('keeps everything the API and the CLI wrote across a restart', async () => {
    const cliDir = tempDir();
    const env = { VIGIL_STORE__STATE: schema.url, VIGIL_DATA_DIR: cliDir.dir };
    const keyFile = join(cliDir.dir, 'secret.key');
    // The CLI opens the same state store (and migrates it, being first).
    const created = await runVigil(['token', 'create', '--name', 'ops', '--scope', 'admin'], env);
    expect(created.code, created.stderr).toBe(0);
    const adminToken = created.stdout.trim().split('\n').at(-1)!;

    const first = await start(schema.url, keyFile);
    let cookie: string;
    let csrf: string;
    try {
      const api = first.server.urls.api;
      const asAdmin = (path: string, init: RequestInit = {}) =>
        fetch(`${api}${path}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...init.headers } });
      expect((await asAdmin('/api/v1/users', { method: 'POST', body: JSON.stringify({ username: 'dana', role: 'admin', password: PASSWORD }) })).status).toBe(201);
      const login = await fetch(`${api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dana', password: PASSWORD }) });
      expect(login.status).toBe(200);
      cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      csrf = ((await login.json()) as { csrfToken: string }).csrfToken;
      const asDana = (path: string, body: unknown) =>
        fetch(`${api}${path}`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const monitor = await asDana('/api/v1/monitors', { id: 'nightly-export', name: 'Nightly export', system: 'rms', type: 'push' });
      expect(monitor.status, await monitor.clone().text()).toBe(201);
      const dashboard = await asDana('/api/v1/dashboards', { title: 'Payments', spec: { panels: [{ id: 'p', title: 'Errors', type: 'stat', source: 'search', query: 'severity>=ERROR | stats count()', x: 0, y: 0, w: 3, h: 3 }] } });
      expect(dashboard.status, await dashboard.clone().text()).toBe(201);
      expect((await asDana('/api/v1/saved-searches', { name: 'errors', query: 'severity>=ERROR' })).status).toBe(201);
      expect((await asAdmin('/api/v1/status-pages', { method: 'POST', body: JSON.stringify({ slug: 'rms', title: 'RMS', components: [{ monitorId: 'nightly-export', name: 'Exports' }] }) })).status).toBe(201);
    } finally {
      await first.stop();
    }

    const second = await start(schema.url, keyFile);
    try {
      const api = second.server.urls.api;
      // The session made before the restart is still valid: it lives in PostgreSQL.
      const get = (path: string) => fetch(`${api}${path}`, { headers: { cookie } }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
      expect(await get('/api/v1/auth/me')).toMatchObject({ status: 200, body: { user: { username: 'dana', role: 'admin' } } });
      expect(((await get('/api/v1/monitors')).body.monitors as { id: string }[]).map((m) => m.id)).toContain('nightly-export');
      expect(((await get('/api/v1/dashboards')).body.dashboards as { title: string; builtin: boolean }[]).filter((d) => !d.builtin).map((d) => d.title)).toEqual(['Payments']);
      expect(((await get('/api/v1/saved-searches')).body.searches as { name: string }[]).map((s) => s.name)).toEqual(['errors']);
      expect((await fetch(`${api}/api/v1/public/status/rms`)).status).toBe(200);
      const signIn = await fetch(`${api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dana', password: PASSWORD }) });
      expect(signIn.status).toBe(200);
      // The CLI sees what it and the server created.
      const listed = await runVigil(['token', 'list', '--json'], env);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { name: string }).name)).toContain('ops');
      const users = await runVigil(['user', 'list'], env);
      expect(users.stdout).toContain('dana');
    } finally {
      await second.stop();
      cliDir.cleanup();
    }
  });

  it('refuses a store.state that is neither sqlite nor a PostgreSQL URL, naming the key', () => {
    for (const state of ['mysql://db/vigil', 'postgres://', 'state.db']) {
      expect(() => loadConfig({ env: { VIGIL_STORE__STATE: state } }), state).toThrow(ConfigError);
      expect(() => loadConfig({ env: { VIGIL_STORE__STATE: state } })).toThrow(/store\.state \(environment VIGIL_STORE__STATE\): expected "sqlite" or a URL/);
    }
    expect(loadConfig({ env: { VIGIL_STORE__STATE: 'postgresql://vigil@db:5432/vigil' } }).store).toMatchObject({ state: 'postgresql://vigil@db:5432/vigil', memoryLimit: '1GB' });
    expect(loadConfig({ env: {} }).store.state).toBe('sqlite');
  });

  it('CLI: an unreachable database is one line naming it without its password, exit 1', async () => {
    const { dir, cleanup } = tempDir();
    const r = await runVigil(['token', 'list'], { VIGIL_STORE__STATE: 'postgres://vigil:s3cret@127.0.0.1:1/vigil', VIGIL_DATA_DIR: dir });
    cleanup();
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^vigil: state store postgres:\/\/vigil:\*\*\*@127\.0\.0\.1:1\/vigil cannot be opened: .*ECONNREFUSED/);
    expect(r.stderr).not.toContain('s3cret');
  });
});
