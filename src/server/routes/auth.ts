/**
 * Sign-in and account routes (`/api/v1/auth/*`), user and token administration (`/api/v1/users`,
 * `/api/v1/tokens`) and the audit log (`/api/v1/audit`). Every change here is audited.
 */
import type { AuditEntry, AuthMe, LoginAnswer, TokenInfo, UserInfo } from '../../api/contract.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../store/state/audit.ts';
import type { LoginThrottle, SessionStore } from '../../store/state/sessions.ts';
import { TokenError, type TokenStore } from '../../store/state/tokens.ts';
import { randomPassword, UserError, type User, type UserStore } from '../../store/state/users.ts';
import type { Principal } from '../access.ts';
import { SESSION_COOKIE } from '../authenticate.ts';

/** What the account routes need. */
export interface AuthRouteContext {
  users: UserStore;
  sessions: SessionStore;
  throttle: LoginThrottle;
  tokens: TokenStore;
  audit: AuditLog;
  /** Session cookie lifetime in seconds (the absolute session lifetime). */
  cookieMaxAgeSeconds: number;
  /** 'auto' sets Secure when the request came over TLS (directly or via a trusted proxy). */
  secureCookies: 'auto' | 'always' | 'never';
}

/** Only same-origin relative paths: `/logs?q=x` yes; `//evil.example`, `/\\evil`, `https://…` no. */
export function safeRedirect(target: unknown): string {
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) return '/';
  try {
    // Parsed against a dummy origin, the path must stay on it (catches tab/newline tricks browsers strip).
    const url = new URL(target, 'http://vigil.invalid');
    return url.origin === 'http://vigil.invalid' ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
}

function actorOf(p: Principal | undefined): string {
  return p ? `${p.kind}:${p.name}` : 'anonymous';
}

function userView(u: User): UserInfo {
  return { username: u.username, role: u.role, createdAt: u.createdAt, passwordChangedAt: u.passwordChangedAt };
}

function body<T>(req: FastifyRequest): Partial<T> {
  return (req.body && typeof req.body === 'object' ? req.body : {}) as Partial<T>;
}

/** Registers the routes. */
export function registerAuthRoutes(app: FastifyInstance, ctx: AuthRouteContext): void {
  const cookie = (req: FastifyRequest, value: string, maxAge: number) => {
    const secure = ctx.secureCookies === 'always' || (ctx.secureCookies === 'auto' && req.protocol === 'https');
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
  };
  const audit = (req: FastifyRequest, action: string, target?: string, details?: Record<string, unknown>) =>
    ctx.audit.record({ actor: actorOf(req.principal), action, target, ip: req.ip, details });
  const requireUser = (req: FastifyRequest, reply: FastifyReply): Principal | undefined => {
    if (req.principal?.kind === 'user') return req.principal;
    void reply.code(400).send({ error: 'this needs a signed-in user, not an API token' });
    return undefined;
  };

  app.post('/api/v1/auth/login', { config: { access: 'public' } }, async (req, reply) => {
    const { username, password, redirect } = body<{ username: string; password: string; redirect: string }>(req);
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
      return reply.code(400).send({ error: 'username and password are required' });
    }
    const wait = await ctx.throttle.lockedFor(username, req.ip);
    if (wait > 0) {
      await ctx.audit.record({ actor: `user:${username.slice(0, 64)}`, action: 'auth.login_locked', ip: req.ip });
      return reply.code(429).header('retry-after', String(wait)).send({ error: `too many failed sign-ins: try again in ${wait} s`, retryAfter: wait });
    }
    const user = await ctx.users.authenticate(username, password);
    if (!user) {
      await ctx.throttle.recordFailure(username, req.ip);
      await ctx.audit.record({ actor: `user:${username.slice(0, 64)}`, action: 'auth.login_failed', ip: req.ip });
      return reply.code(401).send({ error: 'wrong username or password' });
    }
    await ctx.throttle.clear(username);
    const { cookie: id, session } = await ctx.sessions.create(user.id, { ip: req.ip, userAgent: req.headers['user-agent'] });
    await ctx.audit.record({ actor: `user:${user.username}`, action: 'auth.login', ip: req.ip });
    reply.header('set-cookie', cookie(req, id, ctx.cookieMaxAgeSeconds));
    return { user: userView(user), csrfToken: session.csrfToken, redirect: safeRedirect(redirect) } satisfies LoginAnswer;
  });

  app.post('/api/v1/auth/logout', { config: { access: 'read' } }, async (req, reply) => {
    const p = requireUser(req, reply);
    if (!p) return reply;
    await ctx.sessions.revoke(p.sessionId!);
    await audit(req, 'auth.logout');
    return reply.code(204).header('set-cookie', cookie(req, '', 0)).send();
  });

  app.get('/api/v1/auth/me', { config: { access: 'read' } }, async (req, reply) => {
    const p = req.principal!;
    if (p.kind === 'token') return { token: { name: p.name, scope: p.grants } } satisfies AuthMe;
    const user = await ctx.users.byId(p.userId!);
    if (!user) return reply.code(401).send({ error: 'session ended' });
    return { user: userView(user), csrfToken: p.csrfToken } satisfies AuthMe;
  });

  app.post('/api/v1/auth/password', { config: { access: 'read' } }, async (req, reply) => {
    const p = requireUser(req, reply);
    if (!p) return reply;
    const { current, next } = body<{ current: string; next: string }>(req);
    if (typeof current !== 'string' || typeof next !== 'string') return reply.code(400).send({ error: 'current and next are required' });
    // A stolen session must not become an unlimited password oracle: the check counts against the same
    // lockout as sign-in (per user and per address), and every failure is audited.
    const wait = await ctx.throttle.lockedFor(p.name, req.ip);
    if (wait > 0) {
      await audit(req, 'auth.password_change_locked', `user:${p.name}`);
      return reply.code(429).header('retry-after', String(wait)).send({ error: `too many wrong passwords: try again in ${wait} s`, retryAfter: wait });
    }
    if (!(await ctx.users.authenticate(p.name, current))) {
      await ctx.throttle.recordFailure(p.name, req.ip);
      await audit(req, 'auth.password_change_failed', `user:${p.name}`);
      return reply.code(403).send({ error: 'current: wrong password' });
    }
    await ctx.throttle.clear(p.name);
    try {
      await ctx.users.setPassword(p.userId!, next);
    } catch (err) {
      if (err instanceof UserError) return reply.code(400).send({ error: `next: ${err.message}` });
      throw err;
    }
    // Every other session of this user ends: a stolen session does not outlive a password change.
    const ended = await ctx.sessions.revokeAllFor(p.userId!, p.sessionId);
    await audit(req, 'auth.password_changed', `user:${p.name}`, { sessionsEnded: ended });
    return reply.code(204).send();
  });

  // ---- users (admin) ----

  const lastAdmin = async (username: string) => {
    const admins = (await ctx.users.list()).filter((u) => u.role === 'admin');
    return admins.length === 1 && admins[0]!.username === username;
  };

  app.get('/api/v1/users', { config: { access: 'admin' } }, async (): Promise<{ users: UserInfo[] }> => ({ users: (await ctx.users.list()).map(userView) }));

  app.post('/api/v1/users', { config: { access: 'admin', audited: true } }, async (req, reply) => {
    const { username, role, password } = body<{ username: string; role: string; password: string }>(req);
    if (typeof username !== 'string' || typeof role !== 'string') return reply.code(400).send({ error: 'username and role are required' });
    const initial = typeof password === 'string' && password !== '' ? password : randomPassword();
    try {
      const user = await ctx.users.create({ username, role, password: initial });
      await audit(req, 'user.created', `user:${username}`, { role });
      // A generated password is shown once, in this answer only.
      return reply.code(201).send({ user: userView(user), ...(password ? {} : { password: initial }) });
    } catch (err) {
      if (err instanceof UserError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });

  app.patch('/api/v1/users/:username', { config: { access: 'admin', audited: true } }, async (req, reply) => {
    const name = (req.params as { username: string }).username;
    const user = await ctx.users.byName(name);
    if (!user) return reply.code(404).send({ error: `no user ${name.slice(0, 64)}` });
    const { role, password } = body<{ role: string; password: string }>(req);
    try {
      if (typeof role === 'string' && role !== user.role) {
        if (user.role === 'admin' && (await lastAdmin(name))) return reply.code(409).send({ error: 'role: the last admin cannot be demoted' });
        await ctx.users.setRole(user.id, role);
        await audit(req, 'user.role_changed', `user:${name}`, { from: user.role, to: role });
      }
      if (typeof password === 'string') {
        await ctx.users.setPassword(user.id, password);
        await ctx.sessions.revokeAllFor(user.id);
        await audit(req, 'user.password_reset', `user:${name}`);
      }
    } catch (err) {
      if (err instanceof UserError) return reply.code(400).send({ error: err.message });
      throw err;
    }
    return { user: userView((await ctx.users.byId(user.id))!) };
  });

  app.delete('/api/v1/users/:username', { config: { access: 'admin', audited: true } }, async (req, reply) => {
    const name = (req.params as { username: string }).username;
    const user = await ctx.users.byName(name);
    if (!user) return reply.code(404).send({ error: `no user ${name.slice(0, 64)}` });
    if (user.role === 'admin' && (await lastAdmin(name))) return reply.code(409).send({ error: 'the last admin cannot be deleted' });
    await ctx.users.delete(user.id);
    await audit(req, 'user.deleted', `user:${name}`);
    return reply.code(204).send();
  });

  // ---- API tokens (admin) ----

  app.get('/api/v1/tokens', { config: { access: 'admin' } }, async (): Promise<{ tokens: TokenInfo[] }> => ({ tokens: await ctx.tokens.list() }));

  app.post('/api/v1/tokens', { config: { access: 'admin', audited: true } }, async (req, reply) => {
    const { name, scope, rateLimit } = body<{ name: string; scope: string; rateLimit: number }>(req);
    if (typeof name !== 'string' || typeof scope !== 'string') return reply.code(400).send({ error: 'name and scope are required' });
    try {
      const secret = await ctx.tokens.create(name, scope, new Date(), typeof rateLimit === 'number' ? rateLimit : null);
      await audit(req, 'token.created', `token:${name}`, { scope, rateLimit: rateLimit ?? null });
      return reply.code(201).send({ name, scope, token: secret });
    } catch (err) {
      if (err instanceof TokenError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });

  app.delete('/api/v1/tokens/:name', { config: { access: 'admin', audited: true } }, async (req, reply) => {
    const name = (req.params as { name: string }).name;
    try {
      await ctx.tokens.revoke(name);
    } catch (err) {
      if (err instanceof TokenError) return reply.code(404).send({ error: err.message });
      throw err;
    }
    await audit(req, 'token.revoked', `token:${name}`);
    return reply.code(204).send();
  });

  // ---- audit log (admin) ----

  app.get('/api/v1/audit', { config: { access: 'admin' } }, async (req, reply) => {
    const q = req.query as { actor?: string; action?: string; limit?: string };
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) return reply.code(400).send({ error: 'limit: expected a positive integer' });
    return { entries: await ctx.audit.list({ actor: q.actor, action: q.action, limit }) } satisfies { entries: AuditEntry[] };
  });
}
