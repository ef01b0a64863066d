/**
 * auth-service: the university's identity provider as the LMS sees it. Password grant issuing signed tokens,
 * token introspection and userinfo, each with a directory lookup's latency.
 */
import { scryptSync, timingSafeEqual } from 'node:crypto';
import { runService } from '../service.ts';
import { HttpError } from '../telemetry.ts';
import { sleep } from '../random.ts';
import { people, type Person } from '../lms/people.ts';
import { signToken, verifyToken } from './token.ts';

const VERSION = process.env.SERVICE_VERSION ?? '1.9.3';

await runService({ name: 'auth-service', namespace: 'lms', version: VERSION }, ({ log, telemetry }) => {
  const byEmail = new Map<string, Person>(people().map((p) => [p.email, p]));
  const byId = new Map<number, Person>(people().map((p) => [p.id, p]));
  // Password hashes computed lazily and cached: hashing 2000 users at start would cost seconds of CPU.
  const hashes = new Map<number, Buffer>();
  const salt = (p: Person) => `salt-${p.id}`;
  const hash = (p: Person, password: string) => scryptSync(password, salt(p), 32, { N: 1024, r: 8, p: 1 });
  const logins = telemetry.meter.createCounter('auth.logins', { unit: '{login}', description: 'Password grants by outcome' });
  /** A directory (LDAP) round trip. */
  const directory = () => sleep(8 + Math.random() * 14);

  const bearer = (h: string | string[] | undefined) => {
    const v = Array.isArray(h) ? h[0] : h;
    const claims = v?.startsWith('Bearer ') ? verifyToken(v.slice(7)) : null;
    if (!claims) throw new HttpError(401, 'invalid or expired token', 'invalid_token');
    return claims;
  };

  return {
    routes: [
      { method: 'GET', route: '/health', handler: () => ({ body: { status: 'ok' } }) },
      {
        method: 'POST',
        route: '/oauth/token',
        handler: async (req) => {
          const b = (req.body ?? {}) as Record<string, unknown>;
          if (typeof b.username !== 'string' || typeof b.password !== 'string') throw new HttpError(400, 'username and password are required', 'invalid_request');
          await directory();
          const p = byEmail.get(b.username.toLowerCase());
          let expected = p ? hashes.get(p.id) : undefined;
          if (p && !expected) {
            expected = hash(p, p.password);
            hashes.set(p.id, expected);
          }
          const ok = p && expected ? timingSafeEqual(expected, hash(p, b.password)) : false;
          if (!p || !ok) {
            logins.add(1, { 'auth.outcome': 'invalid_credentials' });
            log.warn(`login failed for ${b.username}: invalid credentials`, { 'user.name': b.username });
            throw new HttpError(401, 'invalid username or password', 'invalid_grant');
          }
          logins.add(1, { 'auth.outcome': 'success' });
          const token = signToken({ sub: p.id, email: p.email, groups: [p.group] });
          return { body: { access_token: token, token_type: 'Bearer', expires_in: 3600 } };
        },
      },
      {
        method: 'POST',
        route: '/oauth/introspect',
        handler: async (req) => {
          const b = (req.body ?? {}) as Record<string, unknown>;
          await directory();
          const claims = typeof b.token === 'string' ? verifyToken(b.token) : null;
          return { body: claims ? { active: true, ...claims } : { active: false } };
        },
      },
      {
        method: 'GET',
        route: '/userinfo',
        handler: async (req) => {
          const claims = bearer(req.headers.authorization);
          await directory();
          const p = byId.get(claims.sub);
          if (!p) throw new HttpError(404, 'user not found', 'not_found');
          return { body: { sub: p.id, email: p.email, name: p.name, groups: [p.group] } };
        },
      },
    ],
  };
});

