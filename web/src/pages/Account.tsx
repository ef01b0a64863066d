/** The signed-in user's account: change password. */
import { useState } from 'react';
import { api, ApiError } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { PageHead } from '../components/Layout.tsx';
import { Panel } from '../components/States.tsx';

/** Account page. */
export function Account() {
  const { user } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <>
      <PageHead title="Account" sub={user ? `${user.username} · ${user.role}` : undefined} />
      <Panel title="Change password">
        <form
          className="form narrow"
          onSubmit={(e) => {
            e.preventDefault();
            api('/api/v1/auth/password', { method: 'POST', body: { current, next } }).then(
              () => {
                setMsg({ ok: true, text: 'Password changed.' });
                setCurrent('');
                setNext('');
              },
              (err: ApiError) => setMsg({ ok: false, text: err.message }),
            );
          }}
        >
          <label>
            Current password
            <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
          </label>
          <label>
            New password
            <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required minLength={8} />
          </label>
          {msg && <div className={msg.ok ? 'form-ok' : 'form-error'}>{msg.text}</div>}
          <button className="btn primary" type="submit">
            Change password
          </button>
        </form>
      </Panel>
    </>
  );
}
