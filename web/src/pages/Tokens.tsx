/** API tokens (admin): create with a scope (the secret is shown once), list, revoke. */
import { useState } from 'react';
import { ApiError, createToken, listTokens, revokeToken, SCOPES } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { ConfirmButton, Field, FormError, NeedsRole } from '../components/Field.tsx';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { errorsByField, type FieldErrors } from '../form-errors.ts';
import { fmtAgo } from '../format.ts';
import { useLoad } from '../hooks.ts';

const SCOPE_HELP: Record<(typeof SCOPES)[number], string> = {
  ingest: 'send telemetry (OTLP, HEC)',
  read: 'search and read',
  write: 'also change monitors and dashboards',
  admin: 'everything, users and tokens included',
};
// The token API names fields in words ("invalid token name …", "invalid scope …", "rate limit must …").
const TOKEN_FIELDS = ['name', 'scope', 'rateLimit'] as const;
const TOKEN_WORDS = { 'token name': 'name', 'token named': 'name', scope: 'scope', 'rate limit': 'rateLimit' };

/** The tokens page; admins only. */
export function Tokens() {
  const { user } = useAuth();
  if (user?.role !== 'admin')
    return (
      <>
        <PageHead title="API tokens" />
        <NeedsRole what="Managing API tokens" role="admin" />
      </>
    );
  return <TokensAdmin />;
}

function TokensAdmin() {
  const list = useLoad((signal) => listTokens(signal), []);
  const [created, setCreated] = useState<{ name: string; scope: string; token: string } | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);
  const tokens = list.data?.tokens ?? [];
  return (
    <>
      <PageHead title="API tokens" sub="Tokens for senders, scripts and the CLI. A token's secret is shown once, when it is created; Vigil keeps only its hash." />
      <CreateToken
        onCreated={(t) => {
          setCreated(t);
          list.reload();
        }}
      />
      {created && (
        <Panel title={`Token ${created.name} (${created.scope})`} className="once">
          <p>Copy it now: it is shown only this once and cannot be shown again. Send it as <code>Authorization: Bearer …</code>.</p>
          <p>
            <code className="secret-once" data-testid="new-token">
              {created.token}
            </code>{' '}
            <button type="button" className="btn small" onClick={() => void navigator.clipboard?.writeText(created.token)}>
              Copy
            </button>
          </p>
          <button type="button" className="btn small" onClick={() => setCreated(null)}>
            Done
          </button>
        </Panel>
      )}
      <Panel title={list.data ? `${tokens.filter((t) => !t.revokedAt).length} active tokens` : 'Tokens'}>
        {rowError && (
          <div className="form-error" role="alert">
            {rowError}
          </div>
        )}
        {list.error && <ErrorState error={list.error} retry={list.reload} />}
        {!list.data && !list.error && <Loading what="Loading tokens" />}
        {list.data && tokens.length === 0 && <Empty title="No tokens yet." />}
        {tokens.length > 0 && (
          <SortTable
            label="tokens"
            rows={tokens}
            rowKey={(t) => t.name}
            initialSort="createdAt"
            columns={[
              { key: 'name', label: 'Name', render: (t) => <span className="mono">{t.name}</span> },
              { key: 'scope', label: 'Scope' },
              { key: 'createdAt', label: 'Created', value: (t) => -Date.parse(t.createdAt), render: (t) => fmtAgo(t.createdAt) },
              { key: 'lastUsedAt', label: 'Last used', value: (t) => t.lastUsedAt ?? '', render: (t) => (t.lastUsedAt ? fmtAgo(t.lastUsedAt) : 'never') },
              { key: 'rateLimit', label: 'Ingest limit', render: (t) => (t.rateLimit ? `${t.rateLimit}/s` : 'default') },
              {
                key: 'state',
                label: 'State',
                value: (t) => (t.revokedAt ? 1 : 0),
                render: (t) =>
                  t.revokedAt ? (
                    <span className="badge">revoked {fmtAgo(t.revokedAt)}</span>
                  ) : (
                    <ConfirmButton
                      label="Revoke"
                      confirm={`Revoke ${t.name}`}
                      onConfirm={() => {
                        setRowError(null);
                        revokeToken(t.name).then(list.reload, (err: ApiError) => setRowError(err.message));
                      }}
                    />
                  ),
              },
            ]}
          />
        )}
      </Panel>
    </>
  );
}

/** The create-token form. */
function CreateToken({ onCreated }: { onCreated: (t: { name: string; scope: string; token: string }) => void }) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<string>('read');
  const [rateLimit, setRateLimit] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const limit = rateLimit.trim() === '' ? undefined : Number(rateLimit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) return setErrors({ rateLimit: 'expected a positive whole number of records per second' });
    setBusy(true);
    setErrors({});
    try {
      onCreated(await createToken({ name: name.trim(), scope, ...(limit ? { rateLimit: limit } : {}) }));
      setName('');
      setRateLimit('');
    } catch (err) {
      setErrors(errorsByField((err as Error).message, TOKEN_FIELDS, TOKEN_WORDS));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title="New token">
      <form
        className="form"
        aria-label="new token"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="row">
          <Field label="Token name" error={errors.name}>
            <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={64} autoComplete="off" placeholder="rms-collector" />
          </Field>
          <Field label="Scope" error={errors.scope} hint={SCOPE_HELP[scope as (typeof SCOPES)[number]]}>
            <select value={scope} onChange={(e) => setScope(e.target.value)}>
              {SCOPES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </Field>
          {scope === 'ingest' && (
            <Field label="Ingest limit (records/s)" error={errors.rateLimit} hint="Empty: the configured default.">
              <input inputMode="numeric" value={rateLimit} onChange={(e) => setRateLimit(e.target.value)} />
            </Field>
          )}
        </div>
        <FormError error={errors._form ?? (scope !== 'ingest' ? errors.rateLimit : undefined)} />
        <div>
          <button className="btn primary" type="submit" disabled={busy || name.trim() === ''}>
            Create token
          </button>
        </div>
      </form>
    </Panel>
  );
}
