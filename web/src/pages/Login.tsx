/** Sign-in page; returns to the page asked for (same-origin relative paths only). */
import { useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { ApiError } from '../api.ts';
import { safeNext, useAuth } from '../auth.tsx';

/** The login form. */
export function Login() {
  const { user, login } = useAuth();
  const [sp] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(sp.get('next'));
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (user) return <Navigate to={next} replace />;
  return (
    <div className="login-page">
      <form
        className="login-card"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          login(username, password).then(
            () => navigate(next, { replace: true }),
            (err: ApiError) => {
              setBusy(false);
              setError(
                err.status === 401
                  ? 'Wrong username or password.'
                  : err.status === 429
                    ? 'Too many failed attempts: wait a few minutes and try again.'
                    : err.message,
              );
            },
          );
        }}
      >
        <div className="brand big">
          <svg width="32" height="32" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#2563eb" />
            <path d="M7 17h5l3-8 4 15 3-7h3" fill="none" stroke="#fff" strokeWidth="2.5" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          Vigil
        </div>
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error && (
          <div className="form-error" role="alert">
            {error}
          </div>
        )}
        <button className="btn primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="hint">
          No account yet? An administrator creates one with <code>vigil user create --username NAME --role admin --password-stdin</code>.
        </p>
      </form>
    </div>
  );
}
