/**
 * Resolves who is calling the API: an `Authorization: Bearer <token>` API token, or a signed-in
 * user's session cookie. Requests that change state with a session must also carry the session's
 * CSRF token in `x-csrf-token` (a cross-site page can make the browser send the cookie, never read
 * the token), and a cross-origin `Origin` is refused outright.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SessionStore } from '../store/state/sessions.ts';
import type { TokenStore } from '../store/state/tokens.ts';
import type { UserStore } from '../store/state/users.ts';
import { ForbiddenRequestError, type Authenticate, type Principal } from './access.ts';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'vigil_session';

/**
 * Reads one cookie from a Cookie header; a value that cannot be decoded counts as absent, so a
 * malformed cookie planted on the domain (`vigil_session=%`) leaves the request anonymous instead of
 * failing every route.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Whether an `Origin` header names this host; one that does not parse as a URL is not this host. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** An {@link Authenticate} over API tokens and sessions. */
export function authenticator(deps: { tokens: TokenStore; sessions: SessionStore; users: UserStore }): Authenticate {
  return async (req: FastifyRequest): Promise<Principal | undefined> => {
    const header = req.headers.authorization;
    if (header?.toLowerCase().startsWith('bearer ')) {
      const token = await deps.tokens.verify(header.slice(7).trim());
      return token ? { kind: 'token', name: token.name, grants: token.scope } : undefined;
    }
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (!cookie) return undefined;
    const session = await deps.sessions.get(cookie);
    if (!session) return undefined;
    const user = await deps.users.byId(session.userId);
    if (!user) return undefined;
    if (!SAFE_METHODS.has(req.method)) {
      const origin = req.headers.origin;
      if (origin && origin !== 'null' && !sameOrigin(origin, req.headers.host)) throw new ForbiddenRequestError('cross-origin request refused');
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameToken(sent, session.csrfToken)) throw new ForbiddenRequestError('missing or wrong x-csrf-token header');
    }
    return { kind: 'user', name: user.username, grants: user.role, userId: user.id, sessionId: session.idHash, csrfToken: session.csrfToken };
  };
}
