/**
 * lms-api: the Learning Management System. Login through auth-service, course catalog, registration with roles
 * (identity-provider group → role → permissions), and progress tracking. Its own SQLite database behind a small pool.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Db, Param } from '../db.ts';
import { runService, type Req, type Route } from '../service.ts';
import { HttpError, makeClient } from '../telemetry.ts';
import { between, pick, rng } from '../random.ts';
import { verifyToken, type Claims } from '../auth-service/token.ts';
import { people } from './people.ts';
import { ConnectionPool } from './pool.ts';

const VERSION = process.env.SERVICE_VERSION ?? '2.4.1';
const AUTH_URL = process.env.AUTH_SERVICE_URL ?? 'http://127.0.0.1:4504';

/**
 * What each release does differently. 2.5.0 shipped a new progress payload parser that assumes `lesson` is an object;
 * clients still send `lessonId`, so every progress update throws (the bad deploy).
 */
const RELEASES: Record<string, { progressPayloadV2: boolean }> = { '2.5.0': { progressPayloadV2: true } };
const release = RELEASES[VERSION] ?? { progressPayloadV2: false };

/** The role mapping as shipped; the role-misconfig fault changes one row, remediation restores these. */
export const DEFAULT_ROLE_MAPPINGS: [string, string][] = [
  ['students', 'student'],
  ['faculty', 'instructor'],
  ['it-admins', 'admin'],
];
const PERMISSIONS: [string, string][] = [
  ['student', 'course.register'],
  ['student', 'course.progress'],
  ['instructor', 'course.register'],
  ['instructor', 'course.roster'],
  ['instructor', 'course.progress'],
  ['admin', 'course.register'],
  ['admin', 'course.register.others'],
  ['admin', 'course.roster'],
  ['guest', 'course.browse'],
];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS demo_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, idp_group TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS courses (
  id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, title TEXT NOT NULL, department TEXT NOT NULL, level INTEGER NOT NULL,
  instructor_id INTEGER NOT NULL, capacity INTEGER NOT NULL, lessons INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS registrations (
  id INTEGER PRIMARY KEY, course_id INTEGER NOT NULL, user_id INTEGER NOT NULL, role TEXT NOT NULL, registered_at TEXT NOT NULL,
  progress INTEGER NOT NULL DEFAULT 0, completed_at TEXT, UNIQUE (course_id, user_id)
);
CREATE INDEX IF NOT EXISTS idx_registrations_user ON registrations (user_id);
CREATE TABLE IF NOT EXISTS progress_events (id INTEGER PRIMARY KEY, registration_id INTEGER NOT NULL, lesson INTEGER NOT NULL, percent INTEGER NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS role_mappings (idp_group TEXT PRIMARY KEY, role TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS role_permissions (role TEXT NOT NULL, permission TEXT NOT NULL, PRIMARY KEY (role, permission));
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;
const SEED_VERSION = '2';
const DEPARTMENTS = ['Computer Science', 'Mathematics', 'Physics', 'History', 'Economics', 'Biology', 'Music', 'Law', 'Medicine', 'Philosophy'];
const TOPICS = ['Introduction to', 'Advanced', 'Foundations of', 'Topics in', 'Seminar on', 'Applied', 'Methods in', 'History of'];
const SUBJECTS = ['Algorithms', 'Statistics', 'Quantum Mechanics', 'Medieval Europe', 'Game Theory', 'Genetics', 'Harmony', 'Contract Law', 'Anatomy', 'Ethics', 'Databases', 'Linear Algebra', 'Microeconomics', 'Ecology'];
export const COURSES = 300;

async function seed(db: Db): Promise<void> {
  await db.exec(SCHEMA);
  const v = await db.get<{ value: string }>('SELECT value FROM demo_meta WHERE key = ?', ['seed_version']);
  if (v?.value === SEED_VERSION) return;
  for (const t of ['progress_events', 'registrations', 'courses', 'users', 'role_mappings', 'role_permissions', 'settings']) await db.run(`DELETE FROM ${t}`);
  const r = rng(424242);
  const ppl = people();
  await db.bulkInsert('users', ['id', 'email', 'name', 'idp_group'], ppl.map((p) => [p.id, p.email, p.name, p.group]));
  const faculty = ppl.filter((p) => p.group === 'faculty');
  const courses: Param[][] = [];
  for (let i = 1; i <= COURSES; i++) {
    const dept = pick(r, DEPARTMENTS);
    courses.push([i, `${dept.slice(0, 3).toUpperCase()}-${100 + i}`, `${pick(r, TOPICS)} ${pick(r, SUBJECTS)}`, dept, between(r, 1, 4), pick(r, faculty).id, between(r, 80, 400), between(r, 8, 24)]);
  }
  await db.bulkInsert('courses', ['id', 'code', 'title', 'department', 'level', 'instructor_id', 'capacity', 'lessons'], courses);
  const regs: Param[][] = [];
  const seen = new Set<string>();
  for (const p of ppl.filter((x) => x.group === 'students')) {
    for (let k = between(r, 3, 8); k > 0; k--) {
      const c = between(r, 1, COURSES);
      if (seen.has(`${c}/${p.id}`)) continue;
      seen.add(`${c}/${p.id}`);
      regs.push([c, p.id, 'student', '2025-09-01T09:00:00Z', between(r, 0, 100)]);
    }
  }
  await db.bulkInsert('registrations', ['course_id', 'user_id', 'role', 'registered_at', 'progress'], regs);
  await db.bulkInsert('role_mappings', ['idp_group', 'role'], DEFAULT_ROLE_MAPPINGS);
  await db.bulkInsert('role_permissions', ['role', 'permission'], PERMISSIONS);
  await db.bulkInsert('settings', ['key', 'value'], [['auth.session_validation', 'once']]);
  await db.run('DELETE FROM demo_meta WHERE key = ?', ['seed_version']);
  await db.run('INSERT INTO demo_meta (key, value) VALUES (?, ?)', ['seed_version', SEED_VERSION]);
}

const Login = z.object({ email: z.string().email(), password: z.string().min(1) });
const Progress = z.object({ lessonId: z.number().int().positive(), percent: z.number().int().min(0).max(100) });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new HttpError(400, r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 'validation_failed');
  return r.data;
}

function auth(req: Req): Claims {
  const h = req.headers.authorization;
  const claims = h?.startsWith('Bearer ') ? verifyToken(h.slice(7)) : null;
  if (!claims) throw new HttpError(401, 'missing or invalid session token', 'unauthorized');
  return claims;
}

await runService({ name: 'lms-api', namespace: 'lms', version: VERSION }, async ({ telemetry, log, volumeDir }) => {
  const { tracer, meter } = telemetry;
  const file = path.join(volumeDir, 'lms.db');
  const pool = await ConnectionPool.open(file, Number(process.env.DEMO_LMS_POOL_SIZE ?? 4), 1000, tracer, meter);
  await pool.with(seed);
  const authApi = makeClient(tracer, meter, 'auth-service', () => AUTH_URL);
  const registrations = meter.createCounter('lms.registrations', { unit: '{registration}', description: 'Course registrations by outcome' });
  /** The connection-failure fault: registrations lose their connection and some connects fail outright. */
  let dbFaulty = false;

  const roleOf = async (db: Db, claims: Claims) => {
    const row = await db.get<{ role: string }>('SELECT role FROM role_mappings WHERE idp_group = ?', [claims.groups[0] ?? '']);
    return row?.role ?? 'guest';
  };
  const can = async (db: Db, role: string, permission: string) =>
    Boolean(await db.get('SELECT 1 AS ok FROM role_permissions WHERE role = ? AND permission = ?', [role, permission]));

  const routes: Route[] = [
    { method: 'GET', route: '/health', handler: () => ({ body: { status: 'ok', version: VERSION } }) },
    {
      method: 'POST',
      route: '/api/login',
      handler: async (req) => {
        const { email, password } = parse(Login, req.body);
        const token = await authApi<{ access_token?: string; message?: string }>('/oauth/token', '/oauth/token', { body: { grant_type: 'password', username: email, password } }).catch(
          (err: Error) => {
            throw new HttpError(503, `login unavailable: ${err.message}`, 'auth_unavailable');
          },
        );
        if (token.status === 401) throw new HttpError(401, 'invalid email or password', 'invalid_credentials');
        if (token.status >= 400 || !token.body.access_token) throw new HttpError(502, `auth-service answered ${token.status}`, 'auth_unavailable');
        const access = token.body.access_token;
        const mode = await pool.with((db) => db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', ['auth.session_validation']));
        // 'once' fetches the profile a single time; 'per-step' re-validates the token around every step of the login.
        const rounds = mode?.value === 'per-step' ? 4 : 1;
        let profile: { sub: number; name: string; groups: string[] } | null = null;
        for (let i = 0; i < rounds; i++) {
          if (rounds > 1) await authApi('/oauth/introspect', '/oauth/introspect', { body: { token: access } });
          const info = await authApi<{ sub: number; name: string; groups: string[] }>('/userinfo', '/userinfo', { headers: { authorization: `Bearer ${access}` } });
          if (info.status >= 400) throw new HttpError(502, `auth-service userinfo answered ${info.status}`, 'auth_unavailable');
          profile = info.body;
        }
        const user = await pool.with((db) => db.get<{ id: number; name: string }>('SELECT id, name FROM users WHERE email = ?', [email.toLowerCase()]));
        if (!user || !profile) throw new HttpError(403, 'account not provisioned in the LMS', 'not_provisioned');
        log.info(`user ${user.id} logged in`, { 'enduser.id': String(user.id) });
        return { body: { token: access, user: { id: user.id, name: user.name, groups: profile.groups } } };
      },
    },
    {
      method: 'GET',
      route: '/api/courses',
      handler: async (req) => {
        const q = req.query.get('q') ?? '';
        const page = Math.max(1, Number(req.query.get('page') ?? 1) || 1);
        const rows = await pool.with((db) =>
          db.all(
            `SELECT c.id, c.code, c.title, c.department, c.level, c.capacity,
                    (SELECT COUNT(*) FROM registrations r WHERE r.course_id = c.id) AS enrolled
               FROM courses c WHERE c.title LIKE ? OR c.department LIKE ? ORDER BY c.code LIMIT 20 OFFSET ?`,
            [`%${q}%`, `%${q}%`, (page - 1) * 20],
          ),
        );
        return { body: { page, courses: rows } };
      },
    },
    {
      method: 'GET',
      route: '/api/courses/:id',
      handler: async (req) => {
        const row = await pool.with((db) =>
          db.get('SELECT c.id, c.code, c.title, c.department, c.level, c.capacity, c.lessons, u.name AS instructor FROM courses c JOIN users u ON u.id = c.instructor_id WHERE c.id = ?', [
            Number(req.params.id),
          ]),
        );
        if (!row) throw new HttpError(404, `course ${req.params.id} not found`, 'not_found');
        return { body: row };
      },
    },
    {
      method: 'POST',
      route: '/api/courses/:id/registrations',
      handler: async (req) => {
        const claims = auth(req);
        const courseId = Number(req.params.id);
        const body = (req.body ?? {}) as { userId?: unknown };
        if (body.userId !== undefined && (typeof body.userId !== 'number' || !Number.isInteger(body.userId))) throw new HttpError(400, 'userId must be an integer', 'validation_failed');
        if (dbFaulty && Math.random() < 0.25) {
          throw Object.assign(new Error('SQLITE_CANTOPEN: unable to open database file'), { code: 'SQLITE_CANTOPEN' });
        }
        return pool.with(async (db) => {
          const role = await roleOf(db, claims);
          if (!(await can(db, role, 'course.register'))) {
            registrations.add(1, { 'lms.outcome': 'forbidden', 'lms.role': role });
            throw new HttpError(403, `role ${role} is not allowed to register for courses`, 'forbidden');
          }
          let userId = claims.sub;
          let as = role;
          if (typeof body.userId === 'number' && body.userId !== claims.sub) {
            if (!(await can(db, role, 'course.register.others'))) throw new HttpError(403, `role ${role} may not register other users`, 'forbidden');
            userId = body.userId;
            as = 'student';
          }
          const course = await db.get<{ capacity: number; enrolled: number }>(
            'SELECT c.capacity AS capacity, (SELECT COUNT(*) FROM registrations r WHERE r.course_id = c.id) AS enrolled FROM courses c WHERE c.id = ?',
            [courseId],
          );
          if (!course) throw new HttpError(404, `course ${courseId} not found`, 'not_found');
          if (Number(course.enrolled) >= Number(course.capacity)) throw new HttpError(409, 'course is full', 'course_full');
          const existing = await db.get('SELECT id FROM registrations WHERE course_id = ? AND user_id = ?', [courseId, userId]);
          if (existing) throw new HttpError(409, 'already registered for this course', 'already_registered');
          const row = await db.get<{ id: number }>('INSERT INTO registrations (course_id, user_id, role, registered_at) VALUES (?, ?, ?, ?) RETURNING id', [
            courseId,
            userId,
            as,
            new Date().toISOString(),
          ]);
          registrations.add(1, { 'lms.outcome': 'registered', 'lms.role': as });
          log.info(`user ${userId} registered for course ${courseId} as ${as}`, { 'enduser.id': String(claims.sub), 'lms.course.id': courseId });
          return { status: 201, body: { id: row?.id, courseId, userId, role: as } };
        }, dbFaulty);
      },
    },
    {
      method: 'GET',
      route: '/api/courses/:id/registrations',
      handler: async (req) => {
        const claims = auth(req);
        const courseId = Number(req.params.id);
        return pool.with(async (db) => {
          const role = await roleOf(db, claims);
          if (!(await can(db, role, 'course.roster'))) throw new HttpError(403, `role ${role} may not view rosters`, 'forbidden');
          const rows = await db.all(
            'SELECT r.user_id, u.name, r.role, r.progress, r.completed_at FROM registrations r JOIN users u ON u.id = r.user_id WHERE r.course_id = ? ORDER BY u.name LIMIT 500',
            [courseId],
          );
          return { body: { courseId, registrations: rows } };
        });
      },
    },
    {
      method: 'PUT',
      route: '/api/courses/:id/progress',
      handler: async (req) => {
        const claims = auth(req);
        const courseId = Number(req.params.id);
        let lessonId: number;
        let percent: number;
        if (release.progressPayloadV2) {
          // 2.5.0: the new payload shape ({lesson: {id}, percent}) read without checking what clients send.
          const b = req.body as { lesson: { id: number }; percent: number };
          lessonId = b.lesson.id;
          percent = b.percent;
        } else {
          ({ lessonId, percent } = parse(Progress, req.body));
        }
        return pool.with(async (db) => {
          const reg = await db.get<{ id: number; progress: number }>('SELECT id, progress FROM registrations WHERE course_id = ? AND user_id = ?', [courseId, claims.sub]);
          if (!reg) throw new HttpError(404, 'not registered for this course', 'not_registered');
          const next = Math.max(Number(reg.progress), percent);
          await db.transaction(async (tx) => {
            await tx.run('INSERT INTO progress_events (registration_id, lesson, percent, at) VALUES (?, ?, ?, ?)', [reg.id, lessonId, percent, new Date().toISOString()]);
            await tx.run('UPDATE registrations SET progress = ?, completed_at = ? WHERE id = ?', [next, next >= 100 ? new Date().toISOString() : null, reg.id]);
          });
          if (next >= 100 && Number(reg.progress) < 100) log.info(`user ${claims.sub} completed course ${courseId}`, { 'enduser.id': String(claims.sub), 'lms.course.id': courseId });
          return { body: { courseId, progress: next } };
        });
      },
    },
    {
      method: 'GET',
      route: '/api/me/courses',
      handler: async (req) => {
        const claims = auth(req);
        const rows = await pool.with((db) =>
          db.all('SELECT c.id, c.code, c.title, r.role, r.progress FROM registrations r JOIN courses c ON c.id = r.course_id WHERE r.user_id = ? ORDER BY c.code', [claims.sub]),
        );
        return { body: { courses: rows } };
      },
    },
  ];

  const setRoleMapping = (role: string) => pool.with((db) => db.run('UPDATE role_mappings SET role = ? WHERE idp_group = ?', [role, 'students']));
  const setValidation = (mode: string) => pool.with((db) => db.run('UPDATE settings SET value = ? WHERE key = ?', [mode, 'auth.session_validation']));

  return {
    routes,
    controls: {
      async fault(name, on) {
        switch (name) {
          case 'lms-db-connection-failures':
            dbFaulty = on;
            if (!on) pool.releaseAll();
            return true;
          case 'lms-role-misconfig':
            // A directory-sync "cleanup" maps the students group to the guest role.
            await setRoleMapping(on ? 'guest' : 'student');
            return true;
          case 'lms-login-redundant-calls':
            await setValidation(on ? 'per-step' : 'once');
            return true;
          default:
            return false;
        }
      },
      async remediate(action) {
        switch (action) {
          case 'reset-lms-db-pool':
            dbFaulty = false;
            await pool.reset();
            log.warn(`connection pool ${pool.name} reset: all connections reopened`);
            return `pool ${pool.name} reset (${pool.size} fresh connections)`;
          case 'restore-role-mapping':
            await pool.with(async (db) => {
              for (const [g, r] of DEFAULT_ROLE_MAPPINGS) await db.run('UPDATE role_mappings SET role = ? WHERE idp_group = ?', [r, g]);
            });
            log.info('role mappings restored to defaults');
            return 'role mappings restored: students→student, faculty→instructor, it-admins→admin';
          case 'restore-auth-config':
            await setValidation('once');
            log.info('auth.session_validation set to once');
            return 'auth.session_validation = once';
          default:
            return null;
        }
      },
      status: () => ({ poolSize: pool.size, poolUsed: pool.leaked() }),
      close: () => pool.close(),
    },
  };
});
