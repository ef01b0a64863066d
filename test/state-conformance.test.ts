/**
 * One set of repository tests run against every state-store dialect: SQLite (a file, the default) and
 * PostgreSQL (a fresh schema in the local database `test`). What a user sees must not depend on which
 * database holds the state: ordering, times beyond 32 bits, upserts, cascades, prefix filters.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateMigrations } from '../src/store/state/migrations.ts';
import { openStateDb, type StateDb } from '../src/store/state/db.ts';
import { TokenStore, TokenError } from '../src/store/state/tokens.ts';
import { UserStore, UserError } from '../src/store/state/users.ts';
import { LoginThrottle, SessionStore } from '../src/store/state/sessions.ts';
import { AuditLog } from '../src/store/state/audit.ts';
import { DashboardStore } from '../src/store/state/dashboards.ts';
import { MonitorStore } from '../src/store/state/monitors.ts';
import { monitorSpecSchema } from '../src/monitors/spec.ts';
import { freshPostgresSchema } from './helpers/postgres.ts';
import { tempDir } from './helpers/vigil.ts';

/** A state store under test and how to get rid of it. */
interface Backend {
  name: string;
  open(): Promise<{ db: StateDb; close(): Promise<void> }>;
}

const sqliteBackend: Backend = {
  name: 'sqlite',
  async open() {
    const { dir, cleanup } = tempDir('vigil-state-');
    const db = await openStateDb(join(dir, 'state.sqlite'));
    return { db, close: async () => (await db.destroy(), cleanup()) };
  },
};

const postgresBackend: Backend = {
  name: 'postgres',
  async open() {
    const schema = await freshPostgresSchema();
    const db = await openStateDb(schema.url);
    return { db, close: async () => (await db.destroy(), await schema.drop()) };
  },
};

// Epoch milliseconds in 2026: beyond 32 bits, as every time the monitors store keeps.
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const at = (ms: number) => new Date(T0 + ms);
const spec = (over: Record<string, unknown>) => monitorSpecSchema.parse({ name: 'a monitor', system: 'rms', ...over });

describe.each([sqliteBackend, postgresBackend])('state store on $name', (backend) => {
  let db: StateDb;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await backend.open());
  });
  afterAll(async () => close?.());

  describe('tokens', () => {
    it('creates, lists newest first, verifies, records last use, revokes and rotates', async () => {
      const tokens = new TokenStore(db);
      const a = await tokens.create('tok-a', 'read', at(0));
      const b = await tokens.create('tok-b', 'ingest', at(1000), 500);
      await expect(tokens.create('tok-a', 'read')).rejects.toThrow(TokenError);
      expect((await tokens.list()).filter((t) => t.name.startsWith('tok-')).map((t) => [t.name, t.scope, t.rateLimit])).toEqual([
        ['tok-b', 'ingest', 500],
        ['tok-a', 'read', null],
      ]);
      expect(await tokens.verify(a, at(5000))).toEqual({ name: 'tok-a', scope: 'read', rateLimit: null });
      expect(await tokens.verify(`${b}x`)).toBeUndefined();
      expect((await tokens.list()).find((t) => t.name === 'tok-a')?.lastUsedAt).toBe(at(5000).toISOString());
      await tokens.revoke('tok-a', at(6000));
      expect(await tokens.verify(a)).toBeUndefined();
      expect((await tokens.list()).find((t) => t.name === 'tok-a')?.revokedAt).toBe(at(6000).toISOString());
      await expect(tokens.revoke('tok-a')).rejects.toThrow(/no active token/);
      const a2 = await tokens.rotate('tok-a', 'admin');
      expect(await tokens.verify(a2)).toMatchObject({ name: 'tok-a', scope: 'admin' });
    });

    it('refuses rate limits a 32-bit column cannot hold, on every database', async () => {
      const tokens = new TokenStore(db);
      await expect(tokens.create('tok-huge', 'ingest', new Date(), 2 ** 31)).rejects.toThrow(/rate limit must be a whole number of records per second from 1 to 2147483647/);
      await tokens.create('tok-max', 'ingest', new Date(), 2 ** 31 - 1);
      expect((await tokens.list()).find((t) => t.name === 'tok-max')?.rateLimit).toBe(2 ** 31 - 1);
    });
  });

  describe('users, sessions and login throttle', () => {
    it('creates users with numeric ids, counts, orders by name byte-wise, authenticates and changes roles', async () => {
      const users = new UserStore(db);
      const before = await users.count();
      const zed = await users.create({ username: 'Zed', password: 'correct horse 1', role: 'viewer' }, at(0));
      const amy = await users.create({ username: 'amy', password: 'correct horse 2', role: 'admin' }, at(0));
      expect(typeof zed.id).toBe('number');
      expect(amy.id).toBeGreaterThan(zed.id);
      expect(await users.count()).toBe(before + 2);
      await expect(users.create({ username: 'amy', password: 'correct horse 3', role: 'admin' })).rejects.toThrow(UserError);
      // Upper case before lower case on both databases, whatever the server's locale.
      expect((await users.list()).map((u) => u.username).filter((n) => n === 'Zed' || n === 'amy')).toEqual(['Zed', 'amy']);
      expect(await users.byId(amy.id)).toEqual(amy);
      expect((await users.authenticate('amy', 'correct horse 2'))?.id).toBe(amy.id);
      expect(await users.authenticate('amy', 'wrong password')).toBeUndefined();
      await users.setRole(zed.id, 'responder');
      expect((await users.byName('Zed'))?.role).toBe('responder');
      await users.setPassword(zed.id, 'a new password', at(60_000));
      expect(await users.byName('Zed')).toMatchObject({ passwordChangedAt: at(60_000).toISOString() });
      expect(await users.authenticate('Zed', 'a new password')).toBeDefined();
    });

    it('keeps sessions until logout, idle or absolute expiry, and deletes them with their user', async () => {
      const users = new UserStore(db);
      const u = await users.create({ username: 'sess-user', password: 'correct horse 9', role: 'viewer' });
      const sessions = new SessionStore(db, { idleMs: 3_600_000, absoluteMs: 4 * 3_600_000 });
      const one = await sessions.create(u.id, { ip: '10.0.0.1', userAgent: 'test' }, at(0));
      expect(await sessions.get(one.cookie, at(30 * 60_000))).toMatchObject({ userId: u.id, csrfToken: one.session.csrfToken });
      // Touched at 30 min, so still alive at 80 min (idle 50 min), dead at 3 h 31 min.
      expect(await sessions.get(one.cookie, at(80 * 60_000))).toBeDefined();
      expect(await sessions.get(one.cookie, at(4 * 3_600_000 + 1))).toBeUndefined();
      const idle = await sessions.create(u.id, {}, at(0));
      expect(await sessions.get(idle.cookie, at(3_600_001))).toBeUndefined();
      const keep = await sessions.create(u.id, {}, at(0));
      const drop = await sessions.create(u.id, {}, at(0));
      expect(await sessions.revokeAllFor(u.id, keep.session.idHash)).toBe(1);
      expect(await sessions.get(drop.cookie, at(1000))).toBeUndefined();
      expect(await sessions.get(keep.cookie, at(1000))).toBeDefined();
      await users.delete(u.id);
      expect(await sessions.get(keep.cookie, at(2000))).toBeUndefined();
    });

    it('locks out after too many failures within the window and forgets older ones', async () => {
      const throttle = new LoginThrottle(db, { windowMs: 15 * 60_000, maxPerUser: 3, maxPerIp: 100 });
      await throttle.recordFailure('Locked', '10.1.1.1', at(0));
      await throttle.recordFailure('locked', '10.1.1.2', at(60_000));
      expect(await throttle.lockedFor('locked', '10.9.9.9', at(120_000))).toBe(0);
      await throttle.recordFailure('LOCKED', '10.1.1.3', at(120_000));
      // The first failure (t=0) ends the lockout 15 min later: 780 s after t=2 min.
      expect(await throttle.lockedFor('locked', '10.9.9.9', at(120_000))).toBe(780);
      // Past the first failure's window only two remain.
      expect(await throttle.lockedFor('locked', '10.9.9.9', at(15 * 60_000 + 1))).toBe(0);
      const perIp = new LoginThrottle(db, { windowMs: 15 * 60_000, maxPerUser: 100, maxPerIp: 2 });
      expect(await perIp.lockedFor('someone-else', '10.1.1.1', at(120_000))).toBe(0);
      await throttle.recordFailure('other', '10.1.1.1', at(130_000));
      expect(await perIp.lockedFor('someone-else', '10.1.1.1', at(140_000))).toBeGreaterThan(0);
      await throttle.clear('LOCKED');
      expect(await throttle.lockedFor('locked', '10.9.9.9', at(140_000))).toBe(0);
    });
  });

  describe('audit log', () => {
    it('lists newest first with details, filters by actor and by action prefix (wildcards are literal)', async () => {
      const audit = new AuditLog(db);
      await audit.record({ actor: 'alice', action: 'user.create', target: 'bob', ip: '10.0.0.1', details: { role: 'viewer' } }, at(0));
      await audit.record({ actor: 'alice', action: 'token.revoke', target: 'ci' }, at(1000));
      await audit.record({ actor: 'cli:root', action: 'user.delete', target: 'bob' }, at(2000));
      await audit.record({ actor: 'cli:root', action: 'user_%x' }, at(3000));
      const all = await audit.list();
      expect(all.slice(0, 4).map((e) => e.action)).toEqual(['user_%x', 'user.delete', 'token.revoke', 'user.create']);
      expect(all[3]).toMatchObject({ at: at(0).toISOString(), actor: 'alice', target: 'bob', ip: '10.0.0.1', details: { role: 'viewer' } });
      expect((await audit.list({ actor: 'alice' })).map((e) => e.action)).toEqual(['token.revoke', 'user.create']);
      expect((await audit.list({ action: 'user.' })).map((e) => e.action)).toEqual(['user.delete', 'user.create']);
      expect((await audit.list({ action: 'user_%' })).map((e) => e.action)).toEqual(['user_%x']);
      expect(await audit.list({ limit: 1 })).toHaveLength(1);
    });
  });

  describe('user text with NUL characters', () => {
    it('is stored and found with U+FFFD instead of failing (PostgreSQL refuses NUL in text)', async () => {
      const throttle = new LoginThrottle(db, { windowMs: 60_000, maxPerUser: 1, maxPerIp: 100 });
      await throttle.recordFailure('nul\u0000user', '10.2.2.2', at(0));
      expect(await throttle.lockedFor('nul\u0000user', '10.3.3.3', at(1000))).toBe(59);
      const dashboards = new DashboardStore(db);
      const d = await dashboards.create({ title: 'a\u0000b', description: '', spec: { panels: [] } }, 'x\u0000y', at(0));
      expect(d).toMatchObject({ title: 'a\uFFFDb', owner: 'x\uFFFDy' });
      expect(await dashboards.delete(d.id)).toBe(true);
      await new AuditLog(db).record({ actor: 'user:nul\u0000user', action: 'auth.login_failed' }, at(0));
      expect((await new AuditLog(db).list({ actor: 'user:nul\u0000user' }))[0]?.actor).toBe('user:nul\uFFFDuser');
    });
  });

  describe('dashboards and saved searches', () => {
    it('seeds built-ins once, lists them first, updates and soft-deletes', async () => {
      const dashboards = new DashboardStore(db);
      const builtins = [
        { key: 'zz-overview', title: 'Zz overview', description: '', spec: { panels: [] } },
        { key: 'aa-services', title: 'Aa services', description: '', spec: { panels: [] } },
      ];
      expect(await dashboards.seedBuiltins(builtins, at(0))).toBe(2);
      expect(await dashboards.seedBuiltins(builtins, at(0))).toBe(0);
      const mine = await dashboards.create({ title: 'AAA mine', description: 'd', spec: { panels: [{ id: 'p1' }] } }, 'alice', at(1000));
      // Built-ins first even though "AAA mine" sorts before them by title.
      expect((await dashboards.list()).map((d) => [d.title, d.builtin])).toEqual([
        ['Zz overview', true],
        ['Aa services', true],
        ['AAA mine', false],
      ]);
      expect(await dashboards.get(mine.id)).toMatchObject({ owner: 'alice', spec: { panels: [{ id: 'p1' }] }, createdAt: at(1000).toISOString() });
      expect(await dashboards.update(mine.id, { title: 'Renamed', description: '', spec: { panels: [] } }, at(2000))).toMatchObject({ title: 'Renamed', updatedAt: at(2000).toISOString() });
      expect(await dashboards.update('nope', { title: 'x', description: '', spec: {} })).toBeUndefined();
      expect(await dashboards.delete('zz-overview')).toBe(true);
      expect(await dashboards.delete('zz-overview')).toBe(false);
      expect(await dashboards.seedBuiltins(builtins)).toBe(0);
      expect((await dashboards.list()).map((d) => d.id)).toEqual(['aa-services', mine.id]);
    });

    it("replaces a user's saved search by name and deletes only the owner's", async () => {
      const dashboards = new DashboardStore(db);
      const first = await dashboards.saveSearch('alice', { name: 'errors', query: 'severity>=ERROR', range: '15m' }, at(0));
      const again = await dashboards.saveSearch('alice', { name: 'errors', query: 'severity>=WARN', range: null }, at(1000));
      expect(again).toEqual({ id: first.id, name: 'errors', query: 'severity>=WARN', range: null, createdAt: at(1000).toISOString() });
      await dashboards.saveSearch('alice', { name: 'Slow', query: 'duration_ms>500', range: null });
      await dashboards.saveSearch('bob', { name: 'errors', query: 'x', range: null });
      expect((await dashboards.listSearches('alice')).map((s) => s.name)).toEqual(['Slow', 'errors']);
      expect(await dashboards.deleteSearch('bob', first.id)).toBe(false);
      expect(await dashboards.deleteSearch('alice', first.id)).toBe(true);
      expect((await dashboards.listSearches('bob')).map((s) => s.query)).toEqual(['x']);
    });
  });

  describe('monitors', () => {
    it('upserts definitions, keeps push tokens and creation time, finds by push token, removes', async () => {
      const monitors = new MonitorStore(db);
      const created = await monitors.upsert(spec({ id: 'beat', type: 'push' }), 'api', null, at(0));
      expect(created.pushToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
      const updated = await monitors.upsert(spec({ id: 'beat', type: 'push', name: 'renamed' }), 'api', null, at(1000));
      expect(updated).toMatchObject({ pushToken: created.pushToken, createdAt: at(0).toISOString(), updatedAt: at(1000).toISOString() });
      await monitors.upsert(spec({ id: 'web', type: 'http', url: 'http://127.0.0.1:1/' }), 'file', '/etc/vigil/web.yaml', at(0));
      expect((await monitors.list()).map((m) => [m.spec.id, m.spec.name, m.source, m.file])).toEqual([
        ['beat', 'renamed', 'api', null],
        ['web', 'a monitor', 'file', '/etc/vigil/web.yaml'],
      ]);
      expect(await monitors.idByPushToken(created.pushToken!)).toBe('beat');
      await monitors.remove('beat', false);
      expect(await monitors.get('beat')).toBeUndefined();
      expect(await monitors.idByPushToken(created.pushToken!)).toBeUndefined();
    });

    it('keeps statuses with times beyond 32 bits and adds rollup increments (max of latency both ways)', async () => {
      const monitors = new MonitorStore(db);
      const status = { monitorId: 'web', state: 'down' as const, failures: 3, since: T0, lastCheckAt: T0 + 5000, lastResult: '{"ok":false}', lastPushAt: null, lastPushStatus: null, lastPushMessage: null };
      const hour = { bucket: 'hour' as const, monitorId: 'web', start: T0, checks: 2, up: 1, down: 1, degraded: 0, latencySum: 150.5, latencyMax: 100.25 };
      await monitors.flush([status], [hour]);
      await monitors.flush([{ ...status, state: 'up', failures: 0, lastCheckAt: T0 + 65_000 }], [{ ...hour, checks: 1, up: 1, down: 0, latencySum: 300, latencyMax: 300 }]);
      await monitors.flush([], [{ ...hour, checks: 1, up: 0, down: 0, degraded: 1, latencySum: 10, latencyMax: 10 }, { ...hour, bucket: 'day', start: T0 - 1_000_000 }]);
      expect((await monitors.statuses()).get('web')).toEqual({ ...status, state: 'up', failures: 0, lastCheckAt: T0 + 65_000 });
      expect(await monitors.rollups('hour', T0, T0 + 3_600_000)).toEqual([{ monitorId: 'web', start: T0, checks: 4, up: 2, down: 1, degraded: 1, latencySum: 460.5, latencyMax: 300 }]);
      expect(await monitors.rollups('day', T0 - 86_400_000, T0, ['web'])).toHaveLength(1);
      expect(await monitors.rollups('hour', T0, T0 + 1, ['other'])).toEqual([]);
      expect(await monitors.rollups('hour', T0, T0 + 1, [])).toEqual([]);
    });

    it('answers state changes of a window with the one before it, and prunes by age', async () => {
      const monitors = new MonitorStore(db);
      await monitors.addStateChange('web', { at: T0 - 7_200_000, from: 'pending', to: 'up' });
      await monitors.addStateChange('web', { at: T0 - 3_600_000, from: 'up', to: 'down', error: 'timeout' });
      await monitors.addStateChange('web', { at: T0 + 1000, from: 'down', to: 'up' });
      expect(await monitors.stateChanges('web', T0, T0 + 3_600_000)).toEqual([
        { at: T0 - 3_600_000, from: 'up', to: 'down', error: 'timeout' },
        { at: T0 + 1000, from: 'down', to: 'up', error: null },
      ]);
      await monitors.prune(T0 + 1, T0 - 5_000_000);
      expect(await monitors.rollups('hour', 0, T0 + 86_400_000)).toEqual([]);
      expect(await monitors.rollups('day', 0, T0 + 86_400_000)).toHaveLength(1);
      expect((await monitors.stateChanges('web', 0, T0 + 3_600_000)).map((c) => c.at)).toEqual([T0 - 3_600_000, T0 + 1000]);
      await monitors.remove('web', true);
      expect(await monitors.stateChanges('web', 0, T0 + 3_600_000)).toHaveLength(2);
      await monitors.remove('web', false);
      expect(await monitors.stateChanges('web', 0, T0 + 3_600_000)).toEqual([]);
    });

    it('creates, replaces, lists and deletes status pages', async () => {
      const monitors = new MonitorStore(db);
      await monitors.putStatusPage({ slug: 'rms', title: 'RMS', description: '', components: [{ monitorId: 'web', name: 'Website' }] });
      await monitors.putStatusPage({ slug: 'lms', title: 'LMS', description: 'learning', components: [] });
      await monitors.putStatusPage({ slug: 'rms', title: 'RMS status', description: 'd', components: [] });
      expect(await monitors.statusPage('rms')).toEqual({ slug: 'rms', title: 'RMS status', description: 'd', components: [] });
      expect((await monitors.statusPages()).map((p) => p.slug)).toEqual(['lms', 'rms']);
      expect(await monitors.deleteStatusPage('rms')).toBe(true);
      expect(await monitors.deleteStatusPage('rms')).toBe(false);
    });
  });
});

describe('SQLite state store upgrades', () => {
  // The schema all migrations make (regenerate it when adding a migration, never when changing a shipped
  // one), and the one the first release's migrations (0001-0004) made: databases in the field look like it.
  type Schema = { type: string; name: string; sql: string | null }[];
  const shipped = JSON.parse(readFileSync(new URL('./fixtures/state-schema-sqlite.json', import.meta.url), 'utf8')) as Schema;
  const release1 = JSON.parse(readFileSync(new URL('./fixtures/state-schema-sqlite-0004.json', import.meta.url), 'utf8')) as Schema;
  const schemaOf = (file: string) => new Database(file, { readonly: true }).prepare("select type, name, sql from sqlite_master where name not like 'kysely%' order by name").all();

  it('makes exactly the shipped schema on a new database', async () => {
    const { dir, cleanup } = tempDir('vigil-state-');
    const db = await openStateDb(join(dir, 'state.sqlite'));
    await db.destroy();
    expect(schemaOf(join(dir, 'state.sqlite'))).toEqual(shipped);
    cleanup();
  });

  it('upgrades a database made by the first release with its data to the schema of all migrations', async () => {
    const { dir, cleanup } = tempDir('vigil-state-');
    const file = join(dir, 'state.sqlite');
    const old = new Database(file);
    for (const o of release1) if (o.sql && o.name !== 'sqlite_sequence') old.exec(o.sql);
    old.exec('create table kysely_migration (name varchar(255) not null primary key, timestamp varchar(255) not null)');
    for (const name of ['0001_api_tokens', '0002_monitors', '0003_users_sessions_audit', '0004_dashboards']) old.prepare('insert into kysely_migration values (?, ?)').run(name, '2026-11-27T00:00:00.000Z');
    old.prepare('insert into users (username, role, password_hash, created_at, password_changed_at) values (?, ?, ?, ?, ?)').run('old-admin', 'admin', 'x', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z');
    old.prepare('insert into monitor_state_changes (monitor_id, at, from_state, to_state) values (?, ?, ?, ?)').run('web', T0, 'up', 'down');
    old.close();
    const db = await openStateDb(file);
    expect(await new UserStore(db).byName('old-admin')).toMatchObject({ id: 1, role: 'admin', createdAt: '2026-11-01T00:00:00.000Z' });
    expect(await new MonitorStore(db).stateChanges('web', T0, T0 + 1)).toEqual([{ at: T0, from: 'up', to: 'down', error: null }]);
    await db.destroy();
    expect(schemaOf(file)).toEqual(shipped);
    cleanup();
  });
});

describe('PostgreSQL state store schema', () => {
  it('uses identity ids, bigint epoch milliseconds and 8-byte floats', async () => {
    const schema = await freshPostgresSchema();
    const db = await openStateDb(schema.url);
    try {
      const { rows } = await sql<{ table_name: string; column_name: string; data_type: string; is_identity: string }>`
        select table_name, column_name, data_type, is_identity from information_schema.columns where table_schema = ${schema.schema}`.execute(db);
      const type = (t: string, c: string) => rows.find((r) => r.table_name === t && r.column_name === c);
      for (const t of ['api_tokens', 'users', 'login_failures', 'audit_log', 'dashboards', 'saved_searches', 'monitor_state_changes']) {
        expect(type(t, 'id'), t).toMatchObject({ data_type: 'bigint', is_identity: 'YES' });
      }
      for (const [t, c] of [['monitor_status', 'since'], ['monitor_status', 'last_check_at'], ['monitor_status', 'last_push_at'], ['monitor_state_changes', 'at'], ['monitor_rollups', 'start'], ['sessions', 'user_id']]) {
        expect(type(t!, c!)?.data_type, `${t}.${c}`).toBe('bigint');
      }
      expect(type('monitor_rollups', 'latency_max')?.data_type).toBe('double precision');
    } finally {
      await db.destroy();
      await schema.drop();
    }
  });

  it('migrates once when several processes open a new database together', async () => {
    const schema = await freshPostgresSchema();
    try {
      const dbs = await Promise.all(Array.from({ length: 4 }, () => openStateDb(schema.url)));
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(dbs[0]!);
      expect(rows.map((r) => r.name)).toEqual(Object.keys(stateMigrations('postgres')).sort());
      await Promise.all(dbs.map((d) => d.destroy()));
    } finally {
      await schema.drop();
    }
  });

  it("keeps each schema's Vigil apart in one database", async () => {
    const [a, b] = await Promise.all([freshPostgresSchema(), freshPostgresSchema()]);
    try {
      const dbA = await openStateDb(a!.url);
      // B's Migrator must not take A's migration table for its own and skip creating B's tables.
      const dbB = await openStateDb(b!.url);
      await new TokenStore(dbA).create('only-in-a', 'read');
      expect((await new TokenStore(dbB).list()).map((t) => t.name)).toEqual([]);
      await Promise.all([dbA.destroy(), dbB.destroy()]);
    } finally {
      await Promise.all([a!.drop(), b!.drop()]);
    }
  });

  it('names the database without its password when it cannot be reached', async () => {
    await expect(openStateDb('postgres://vigil:s3cret@127.0.0.1:1/vigil')).rejects.toThrow(/^state store postgres:\/\/vigil:\*\*\*@127\.0\.0\.1:1\/vigil cannot be opened: .*ECONNREFUSED/);
  });
});
