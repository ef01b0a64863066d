/** Users and roles (admin): create users, change roles, reset passwords, delete. */
import { useState } from 'react';
import { ApiError, createUser, deleteUser, listUsers, ROLES, updateUser, type UserInfo } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { ConfirmButton, Field, FormError, NeedsRole } from '../components/Field.tsx';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { ErrorState, Loading, Panel } from '../components/States.tsx';
import { errorsByField, type FieldErrors } from '../form-errors.ts';
import { fmtAgo } from '../format.ts';
import { useLoad } from '../hooks.ts';

// The user API names fields in words ("invalid username …", "password must have …").
const USER_FIELDS = ['username', 'role', 'password'] as const;
const USER_WORDS = { username: 'username', 'user named': 'username', role: 'role', password: 'password' };

/** The users page; admins only. */
export function Users() {
  const { user } = useAuth();
  if (user?.role !== 'admin')
    return (
      <>
        <PageHead title="Users" />
        <NeedsRole what="Managing users" role="admin" />
      </>
    );
  return <UsersAdmin me={user.username} />;
}

function UsersAdmin({ me }: { me: string }) {
  const list = useLoad((signal) => listUsers(signal), []);
  const [rowError, setRowError] = useState<string | null>(null);
  const [shown, setShown] = useState<{ username: string; password: string } | null>(null);
  const act = (p: Promise<unknown>) => {
    setRowError(null);
    p.then(list.reload, (err: ApiError) => setRowError(err.message));
  };
  return (
    <>
      <PageHead title="Users" sub="Who signs in to this Vigil: viewers read, responders also change monitors and dashboards, admins do everything." />
      <CreateUser
        onCreated={(u, password) => {
          list.reload();
          setShown(password ? { username: u.username, password } : null);
        }}
      />
      {shown && (
        <Panel title={`Initial password of ${shown.username}`} className="once">
          <p>
            Hand this password over now: it is shown only this once. <code data-testid="shown-password">{shown.password}</code>
          </p>
          <button type="button" className="btn small" onClick={() => setShown(null)}>
            Done
          </button>
        </Panel>
      )}
      <Panel title={list.data ? `${list.data.users.length} users` : 'Users'}>
        {rowError && <div className="form-error" role="alert">{rowError}</div>}
        {list.error && <ErrorState error={list.error} retry={list.reload} />}
        {!list.data && !list.error && <Loading what="Loading users" />}
        {list.data && (
          <SortTable
            label="users"
            rows={list.data.users}
            rowKey={(u) => u.username}
            initialSort="username"
            columns={[
              { key: 'username', label: 'User', render: (u) => <>{u.username}{u.username === me && <span className="muted small"> (you)</span>}</> },
              {
                key: 'role',
                label: 'Role',
                render: (u) => (
                  <select aria-label={`Role of ${u.username}`} value={u.role} onChange={(e) => act(updateUser(u.username, { role: e.target.value }))}>
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                ),
              },
              { key: 'createdAt', label: 'Created', render: (u) => fmtAgo(u.createdAt) },
              { key: 'passwordChangedAt', label: 'Password changed', render: (u) => fmtAgo(u.passwordChangedAt) },
              {
                key: 'actions',
                label: '',
                value: () => '',
                render: (u) => (
                  <span className="row-actions">
                    <ResetPassword user={u} />
                    {u.username !== me && <ConfirmButton label="Delete" confirm={`Delete ${u.username}`} onConfirm={() => act(deleteUser(u.username))} />}
                  </span>
                ),
              },
            ]}
          />
        )}
      </Panel>
    </>
  );
}

/** The create-user form; a blank password lets the server generate one (shown once). */
function CreateUser({ onCreated }: { onCreated: (u: UserInfo, generated?: string) => void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<string>('viewer');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setErrors({});
    try {
      const r = await createUser({ username: username.trim(), role, ...(password ? { password } : {}) });
      setUsername('');
      setPassword('');
      onCreated(r.user, r.password);
    } catch (err) {
      setErrors(errorsByField((err as Error).message, USER_FIELDS, USER_WORDS));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title="New user">
      <form
        className="form"
        aria-label="new user"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="row">
          <Field label="Username" error={errors.username}>
            <input value={username} onChange={(e) => setUsername(e.target.value)} required maxLength={64} autoComplete="off" />
          </Field>
          <Field label="Role" error={errors.role}>
            <select value={role} onChange={(e) => setRole(e.target.value)}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </Field>
          <Field label="Initial password" error={errors.password} hint="Leave empty to generate one.">
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
          </Field>
        </div>
        <FormError error={errors._form} />
        <div>
          <button className="btn primary" type="submit" disabled={busy || username.trim() === ''}>
            Create user
          </button>
        </div>
      </form>
    </Panel>
  );
}

/** Sets a new password for someone else; their sessions end (the server does that). */
function ResetPassword({ user }: { user: UserInfo }) {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  if (!open)
    return (
      <>
        <button type="button" className="btn small" onClick={() => {
            setOpen(true);
            setMsg(null);
          }}>
          Reset password
        </button>
        {msg && <span className={msg.ok ? 'form-ok' : 'form-error'}>{msg.text}</span>}
      </>
    );
  return (
    <form
      className="inline-form"
      aria-label={`new password for ${user.username}`}
      onSubmit={(e) => {
        e.preventDefault();
        updateUser(user.username, { password }).then(
          () => {
            setOpen(false);
            setPassword('');
            setMsg({ ok: true, text: 'Password set; their sessions ended.' });
          },
          (err: ApiError) => setMsg({ ok: false, text: err.message }),
        );
      }}
    >
      <input type="password" aria-label={`New password for ${user.username}`} value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" required />
      <button type="submit" className="btn small primary">
        Set
      </button>
      <button type="button" className="btn small ghost" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {msg && <span className="form-error">{msg.text}</span>}
    </form>
  );
}
