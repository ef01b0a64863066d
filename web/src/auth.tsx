/**
 * Who is signed in. The session lives in an HttpOnly cookie the page cannot read; `/api/v1/auth/me`
 * says who it belongs to and hands out the CSRF token sent with every state-changing request.
 */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, onUnauthorized, setCsrfToken } from './api.ts';
import type { AuthMe, LoginAnswer } from '../../src/api/contract.ts';

/** A signed-in user. */
export interface User {
  username: string;
  role: 'admin' | 'responder' | 'viewer' | string;
}

interface AuthState {
  user: User | null | undefined;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
  /** Whether the user may change things (responder or admin). */
  canWrite: boolean;
}

const AuthContext = createContext<AuthState | null>(null);

/** A token's scope read as the role it acts with (development with a dev token, no session). */
const TOKEN_ROLE: Record<string, User['role']> = { admin: 'admin', write: 'responder' };

/** Provides the signed-in user to the app. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    api<AuthMe>('/api/v1/auth/me', { quiet401: true }).then(
      (me) => {
        if (!live) return;
        // A bearer token (not a session) answers with the token, not a user: it has no CSRF token.
        if ('user' in me) {
          setCsrfToken(me.csrfToken ?? null);
          setUser(me.user);
        } else setUser({ username: me.token.name, role: TOKEN_ROLE[me.token.scope] ?? 'viewer' });
      },
      (err: ApiError) => {
        if (!live) return;
        // Development against a server without sessions: a dev token stands in for a user.
        if (err.status === 404 && localStorage.getItem('vigil.devToken')) setUser({ username: 'dev-token', role: 'admin' });
        else setUser(null);
      },
    );
    const off = onUnauthorized(() => setUser(null));
    return () => {
      live = false;
      off();
    };
  }, []);
  const login = useCallback(async (username: string, password: string) => {
    const me = await api<LoginAnswer>('/api/v1/auth/login', { method: 'POST', body: { username, password }, quiet401: true });
    setCsrfToken(me.csrfToken);
    setUser(me.user);
  }, []);
  const logout = useCallback(async () => {
    try {
      await api('/api/v1/auth/logout', { method: 'POST', quiet401: true });
    } finally {
      setCsrfToken(null);
      setUser(null);
    }
  }, []);
  const canWrite = user?.role === 'admin' || user?.role === 'responder';
  return <AuthContext.Provider value={{ user, login, logout, canWrite }}>{children}</AuthContext.Provider>;
}

/** The auth state. */
export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}

/** A same-origin relative path to return to after signing in, or `/` for anything else. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\u0000-\u001f]/.test(next)) return '/';
  try {
    const u = new URL(next, window.location.origin);
    if (u.origin !== window.location.origin) return '/';
    return u.pathname.startsWith('/login') ? '/' : u.pathname + u.search + u.hash;
  } catch {
    return '/';
  }
}
