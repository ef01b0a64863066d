/**
 * Access control of the API server. Every route declares its rule when it is registered —
 * `app.get(path, { config: { access: 'read' } }, handler)` — and a route registered without one makes
 * the server refuse to start, so nothing is ever public by accident.
 *
 * Rules and who passes them:
 *
 *   rule      | API tokens (scope)      | signed-in users (role)
 *   ----------|-------------------------|------------------------------
 *   public    | anyone                  | anyone
 *   read      | read, write, admin      | viewer, responder, admin
 *   write     | write, admin            | responder, admin
 *   admin     | admin                   | admin
 *   ingest    | ingest, admin           | —
 *   announce  | ingest, write, admin    | responder, admin
 *
 * `announce` is for reports about the watched systems that both pipelines (holding ingest tokens) and
 * people send, such as a deploy posted to `/api/v1/changes`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The access rule of a route. */
export type Access = 'public' | 'read' | 'write' | 'admin' | 'ingest' | 'announce';

/** Who is making a request, once authenticated. */
export interface Principal {
  kind: 'token' | 'user';
  name: string;
  /** Token scope or user role. */
  grants: string;
  /** User id, for sessions. */
  userId?: number;
  /** Session id hash, for sessions (logout, password change). */
  sessionId?: string;
  /** The session's CSRF token, handed to the UI by /api/v1/auth/me. */
  csrfToken?: string;
}

const PASSES: Record<Exclude<Access, 'public'>, { token: readonly string[]; user: readonly string[] }> = {
  read: { token: ['read', 'write', 'admin'], user: ['viewer', 'responder', 'admin'] },
  write: { token: ['write', 'admin'], user: ['responder', 'admin'] },
  admin: { token: ['admin'], user: ['admin'] },
  ingest: { token: ['ingest', 'admin'], user: [] },
  announce: { token: ['ingest', 'write', 'admin'], user: ['responder', 'admin'] },
};

/** Whether a principal passes a rule. */
export function allows(principal: Principal | undefined, access: Access): boolean {
  if (access === 'public') return true;
  if (!principal) return false;
  return (PASSES[access][principal.kind] as readonly string[]).includes(principal.grants);
}

/** A request refused before its route runs (e.g. a session request without its CSRF token): answered 403. */
export class ForbiddenRequestError extends Error {}

/** Finds who is calling: a bearer token or a session; undefined when anonymous or invalid. */
export type Authenticate = (req: FastifyRequest) => Promise<Principal | undefined>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's access rule; required on every route of the API server. */
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

const RULES = new Set<Access>(['public', 'read', 'write', 'admin', 'ingest', 'announce']);

/** A registered route with its rule, as the route-matrix test walks them. */
export interface RouteRule {
  method: string;
  url: string;
  access: Access;
}

/**
 * Installs the rule check: at registration every route must carry `config.access`; on each request
 * the principal is resolved and checked (401 when unauthenticated, 403 when not allowed).
 */
export function installAccessControl(app: FastifyInstance, authenticate: Authenticate): RouteRule[] {
  const routes: RouteRule[] = [];
  app.addHook('onRoute', (route) => {
    const access = (route.config as { access?: Access } | undefined)?.access;
    // Fastify's own HEAD twins of GET routes inherit the GET route's config.
    if (!access || !RULES.has(access)) {
      throw new Error(`route ${String(route.method)} ${route.url} has no access rule: add { config: { access: 'public' | 'read' | 'write' | 'admin' | 'ingest' | 'announce' } }`);
    }
    for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url, access });
  });
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const access = req.routeOptions.config.access;
    // Unmatched routes (404) have no config; nothing to protect there.
    if (!access) return;
    try {
      req.principal = await authenticate(req);
    } catch (err) {
      if (err instanceof ForbiddenRequestError) return reply.code(403).send({ error: err.message });
      throw err;
    }
    if (access === 'public') return;
    if (!req.principal) return reply.code(401).send({ error: 'sign in, or send "Authorization: Bearer <token>"' });
    if (!allows(req.principal, access)) return reply.code(403).send({ error: `this needs ${access} access` });
  });
  return routes;
}
