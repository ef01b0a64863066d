/**
 * Create and edit monitors defined through the API, with "Test now" that runs the form's definition
 * once without saving it. Monitors from files are shown read-only with their file named. Saved
 * secrets are never shown or prefilled: their inputs say whether one is set (see monitor-draft.ts).
 */
import { useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { deleteMonitor, getMonitor, saveMonitor, testMonitor, type CheckOutcome, type MonitorInfo } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { ConfirmButton, Field, FormError, NeedsRole } from '../components/Field.tsx';
import { PageHead } from '../components/Layout.tsx';
import { ErrorState, Loading, Panel } from '../components/States.tsx';
import { errorsByField, type FieldErrors } from '../form-errors.ts';
import { fmt } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { draftOf, DraftError, emptyDraft, MONITOR_TYPES, SENSITIVE_HEADER, specOf, type Draft, type PairRow, type Secret } from '../monitor-draft.ts';

// Paths the API names in its errors, matched longest first ("expect.status.0: …" → expect.status).
const FIELDS = [
  'type', 'id', 'name', 'system', 'description', 'interval', 'timeout', 'retries', 'url', 'method', 'headers', 'body',
  'expect.status', 'expect.keyword', 'expect.keywordAbsent', 'expect.maxResponseTime', 'host', 'port', 'hostname',
  'recordType', 'expected', 'server', 'database', 'user', 'password', 'query', 'grace', 'vars', 'steps',
] as const;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** `/monitors/new` and `/monitors/:id/edit`. */
export function MonitorForm() {
  const id = useParams().id;
  const { canWrite } = useAuth();
  const title = id ? 'Edit monitor' : 'New monitor';
  if (!canWrite)
    return (
      <>
        <PageHead title={title} />
        <NeedsRole what="Creating and editing monitors" role="responder" />
      </>
    );
  return id ? <EditMonitor id={id} /> : <MonitorEditor />;
}

function EditMonitor({ id }: { id: string }) {
  const m = useLoad((signal) => getMonitor(id, signal), [id]);
  if (m.error) return <ErrorState error={m.error} retry={m.reload} hint={<Link to="/monitors">All monitors</Link>} />;
  if (!m.data) return <Loading what="Loading monitor" />;
  return <MonitorEditor key={m.data.id} saved={m.data} />;
}

/** The form; `saved` is the definition being edited (absent for a new monitor). */
function MonitorEditor({ saved }: { saved?: MonitorInfo }) {
  const navigate = useNavigate();
  const [draft, setDraft] = useState<Draft>(() => (saved ? draftOf(saved) : emptyDraft()));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState<'save' | 'test' | null>(null);
  const [tested, setTested] = useState<CheckOutcome | null>(null);
  const readOnly = saved?.source === 'file';
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const err = (f: string) => errors[f];

  // Both buttons send the same definition; errors land next to the fields the API names.
  const run = async (what: 'save' | 'test') => {
    setBusy(what);
    setErrors({});
    if (what === 'test') setTested(null);
    try {
      const spec = specOf(draft, saved);
      if (what === 'test') setTested((await testMonitor(spec)).result);
      else {
        const m = await saveMonitor(spec, saved?.id);
        navigate(`/monitors/${encodeURIComponent(m.id)}`);
      }
    } catch (e) {
      setErrors(e instanceof DraftError ? { [e.field]: e.message } : errorsByField((e as Error).message, FIELDS, { 'monitor with id': 'id' }));
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <PageHead title={saved ? `${readOnly ? '' : 'Edit '}${saved.name}` : 'New monitor'} sub={saved ? `${saved.type} monitor ${saved.id}` : 'An HTTP endpoint, a multi-step workflow, a port, DNS, a database, or a heartbeat from a job.'}>
        {saved && <Link to={`/monitors/${encodeURIComponent(saved.id)}`}>Back to the monitor</Link>}
      </PageHead>
      {readOnly && (
        <div className="state empty" data-testid="file-monitor">
          <strong>Defined in {saved?.file ?? 'a monitor file'}: read-only here.</strong>
          <div className="hint">Change the file; Vigil reloads it when it changes.</div>
        </div>
      )}
      <form
        className="form monitor-form"
        aria-label="monitor"
        onSubmit={(e) => {
          e.preventDefault();
          void run('save');
        }}
      >
        <fieldset disabled={readOnly} className="plain">
          <Panel title="Monitor">
            <div className="row">
              <Field label="Type" error={err('type')}>
                <select value={draft.type} disabled={!!saved} onChange={(e) => setDraft((d) => ({ ...emptyDraft(e.target.value), id: d.id, name: d.name, system: d.system, description: d.description }))}>
                  {MONITOR_TYPES.map((t) => (
                    <option key={t}>{t}</option>
                  ))}
                </select>
              </Field>
              <Field label="Name" error={err('name')}>
                <input value={draft.name} onChange={(e) => set({ name: e.target.value })} required maxLength={200} />
              </Field>
              <Field label="ID" error={err('id')} hint={saved ? undefined : 'Lower-case letters, digits, ".", "_", "-"; cannot change later.'}>
                <input value={draft.id} onChange={(e) => set({ id: e.target.value })} required disabled={!!saved} maxLength={64} placeholder="lms-login" />
              </Field>
              <Field label="System" error={err('system')}>
                <input value={draft.system} onChange={(e) => set({ system: e.target.value })} placeholder="rms" />
              </Field>
            </div>
            <div className="row">
              <Field label="Interval" error={err('interval')}>
                <input value={draft.interval} onChange={(e) => set({ interval: e.target.value })} className="short" />
              </Field>
              <Field label="Timeout" error={err('timeout')}>
                <input value={draft.timeout} onChange={(e) => set({ timeout: e.target.value })} className="short" />
              </Field>
              <Field label="Retries before down" error={err('retries')}>
                <input value={draft.retries} onChange={(e) => set({ retries: e.target.value })} inputMode="numeric" className="short" />
              </Field>
              <label className="check">
                <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.target.checked })} /> Enabled
              </label>
            </div>
            <Field label="Description" error={err('description')}>
              <input value={draft.description} onChange={(e) => set({ description: e.target.value })} maxLength={2000} />
            </Field>
          </Panel>
          <Panel title={`${draft.type.toUpperCase()} check`}>
            <TypeFields draft={draft} set={set} err={err} />
          </Panel>
        </fieldset>
        <FormError error={errors._form} />
        {!readOnly && (
          <div className="row form-actions">
            <button className="btn primary" type="submit" disabled={busy !== null}>
              {busy === 'save' ? 'Saving…' : saved ? 'Save' : 'Create monitor'}
            </button>
            <button className="btn" type="button" disabled={busy !== null || draft.type === 'push'} onClick={() => void run('test')} title={draft.type === 'push' ? 'A heartbeat monitor waits for its job; there is nothing to test.' : undefined}>
              {busy === 'test' ? 'Testing…' : 'Test now'}
            </button>
            {saved && (
              <ConfirmButton
                label="Delete monitor"
                confirm={`Delete ${saved.id} and its history`}
                onConfirm={() => deleteMonitor(saved.id).then(() => navigate('/monitors'), (e: Error) => setErrors({ _form: e.message }))}
              />
            )}
          </div>
        )}
      </form>
      {tested && <TestResult result={tested} />}
    </>
  );
}

type Setter = (patch: Partial<Draft>) => void;

/** The inputs of the draft's type. */
function TypeFields({ draft: d, set, err }: { draft: Draft; set: Setter; err: (f: string) => string | undefined }) {
  const text = (label: string, key: keyof Draft, field: string, props: { placeholder?: string; required?: boolean; className?: string } = {}) => (
    <Field label={label} error={err(field)}>
      <input value={d[key] as string} onChange={(e) => set({ [key]: e.target.value } as Partial<Draft>)} {...props} />
    </Field>
  );
  const hostPort = (
    <div className="row">
      {text('Host', 'host', 'host', { required: d.type === 'tcp' })}
      {text('Port', 'port', 'port', { required: d.type === 'tcp', className: 'short' })}
    </div>
  );
  const password = (
    <Field label="Password" error={err('password')}>
      <SecretInput secret={d.password} onChange={(password) => set({ password })} type="password" />
    </Field>
  );
  switch (d.type) {
    case 'http':
      return (
        <>
          <div className="row">
            <Field label="Method" error={err('method')} className="narrow-field">
              <select value={d.method} onChange={(e) => set({ method: e.target.value })}>
                {METHODS.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </Field>
            {text('URL', 'url', 'url', { placeholder: 'https://rms.example/health', required: true, className: 'grow' })}
          </div>
          <PairRows label="Headers" what="header" rows={d.headers} onChange={(headers) => set({ headers })} error={err('headers')} />
          {d.jsonBody !== '' ? (
            <Field label="Request body (JSON)" error={err('body')} hint="Saved secrets in it show as ******** and stay as they are unless you replace them.">
              <textarea className="mono" rows={6} value={d.jsonBody} onChange={(e) => set({ jsonBody: e.target.value })} spellCheck={false} />
            </Field>
          ) : (
            <Field label="Request body" error={err('body')}>
              <SecretInput secret={d.body} onChange={(body) => set({ body })} multiline />
            </Field>
          )}
          <div className="row">
            {text('Expected status codes', 'expectStatus', 'expect.status', { placeholder: '200, 204 (empty: any 2xx/3xx)' })}
            {text('Body must contain', 'keyword', 'expect.keyword')}
            {text('Body must not contain', 'keywordAbsent', 'expect.keywordAbsent')}
            {text('Slower than this is degraded', 'maxResponseTime', 'expect.maxResponseTime', { placeholder: '2s', className: 'short' })}
          </div>
          <div className="row">
            <label className="check">
              <input type="checkbox" checked={d.followRedirects} onChange={(e) => set({ followRedirects: e.target.checked })} /> Follow redirects
            </label>
            <TlsInsecure draft={d} set={set} />
          </div>
        </>
      );
    case 'workflow':
      return (
        <>
          <PairRows label="Variables (values are write-only)" what="variable" rows={d.vars} onChange={(vars) => set({ vars })} error={err('vars')} allSecret />
          <Field label="Steps (JSON)" error={err('steps')} hint="Each step: name, url (may use {{variables}}), method, headers, body, expect, extract. Saved bodies and credential headers show as ******** and stay as they are unless you replace them.">
            <textarea className="mono" rows={12} value={d.steps} onChange={(e) => set({ steps: e.target.value })} spellCheck={false} />
          </Field>
          <TlsInsecure draft={d} set={set} />
        </>
      );
    case 'tcp':
      return hostPort;
    case 'dns':
      return (
        <div className="row">
          {text('Host name', 'hostname', 'hostname', { required: true })}
          <Field label="Record type" error={err('recordType')}>
            <select value={d.recordType} onChange={(e) => set({ recordType: e.target.value })}>
              {['A', 'AAAA', 'CNAME'].map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </Field>
          {text('Expected answer', 'expected', 'expected', { placeholder: 'any' })}
          {text('Resolver', 'server', 'server', { placeholder: "the system's" })}
        </div>
      );
    case 'postgres':
      return (
        <>
          {hostPort}
          <div className="row">
            {text('Database', 'database', 'database')}
            {text('User', 'user', 'user')}
            {password}
          </div>
          {text('Query', 'query', 'query')}
        </>
      );
    case 'mysql':
      return (
        <>
          {hostPort}
          <div className="row">
            {text('User', 'user', 'user', { placeholder: 'none: the handshake is enough' })}
            {password}
          </div>
        </>
      );
    case 'redis':
      return (
        <>
          {hostPort}
          {password}
        </>
      );
    case 'push':
      return (
        <>
          {text('Grace after a missed beat', 'grace', 'grace', { className: 'short' })}
          <p className="muted small">The job calls the monitor's push address (shown on the monitor's page once it is saved) after each run.</p>
        </>
      );
    default:
      return null;
  }
}

function TlsInsecure({ draft, set }: { draft: Draft; set: Setter }) {
  return (
    <label className="check">
      <input type="checkbox" checked={draft.tlsInsecure} onChange={(e) => set({ tlsInsecure: e.target.checked })} /> Accept invalid TLS certificates
    </label>
  );
}

/**
 * A write-only input: a saved value is never shown; the placeholder says whether one is set, typing
 * replaces it, *Remove* clears it.
 */
function SecretInput({ secret, onChange, type = 'text', multiline, label }: { secret: Secret; onChange: (s: Secret) => void; type?: 'text' | 'password'; multiline?: boolean; label?: string }) {
  const kept = secret.saved && !secret.removed;
  const props = {
    value: secret.value,
    placeholder: kept ? 'set — type to replace' : 'not set',
    'aria-label': label,
    autoComplete: 'off',
    onChange: (e: { target: { value: string } }) => onChange({ ...secret, value: e.target.value }),
  };
  let action: ReactNode = null;
  if (kept && secret.value === '')
    action = (
      <button type="button" className="btn tiny" onClick={() => onChange({ ...secret, removed: true })}>
        Remove
      </button>
    );
  else if (secret.saved && secret.removed && secret.value === '')
    action = (
      <button type="button" className="btn tiny" onClick={() => onChange({ ...secret, removed: false })}>
        Keep saved
      </button>
    );
  return (
    <span className="secret-input">
      {multiline ? <textarea rows={3} className="mono" {...props} /> : <input type={type} {...props} />}
      {action}
    </span>
  );
}

/** Editable name/value rows (headers, workflow variables); credential values are write-only. */
function PairRows({ label, what, rows, onChange, error, allSecret }: { label: string; what: string; rows: PairRow[]; onChange: (rows: PairRow[]) => void; error?: string; allSecret?: boolean }) {
  const update = (i: number, row: PairRow) => onChange(rows.map((r, k) => (k === i ? row : r)));
  return (
    <fieldset className="pairs">
      <legend>{label}</legend>
      {rows.map((r, i) => {
        const secret = allSecret || r.secret || SENSITIVE_HEADER.test(r.name);
        return (
          <div className="pair" key={i}>
            <input aria-label={`${what} ${i + 1} name`} value={r.name} onChange={(e) => update(i, { ...r, name: e.target.value })} placeholder="name" />
            {secret ? (
              <SecretInput label={`${what} ${i + 1} value`} secret={r.value} onChange={(value) => update(i, { ...r, value })} type="password" />
            ) : (
              <input aria-label={`${what} ${i + 1} value`} value={r.value.value} onChange={(e) => update(i, { ...r, value: { ...r.value, value: e.target.value } })} placeholder="value" />
            )}
            <button type="button" className="btn tiny" aria-label={`Remove ${what} ${i + 1}`} onClick={() => onChange(rows.filter((_, k) => k !== i))}>
              ✕
            </button>
          </div>
        );
      })}
      <button type="button" className="btn small" onClick={() => onChange([...rows, { name: '', value: { saved: false, removed: false, value: '' }, secret: !!allSecret }])}>
        Add {what}
      </button>
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
    </fieldset>
  );
}

/** What "Test now" found. */
function TestResult({ result }: { result: CheckOutcome }) {
  const cls = result.status === 'up' ? 'ok' : result.status === 'down' ? 'bad' : 'warn';
  return (
    <Panel title="Test result (not saved)" className="test-result">
      <div className="stats-row" data-testid="test-result">
        <div className="stat">
          <div className="stat-label">result</div>
          <div className="stat-value">
            <span className={`badge ${cls}`}>{result.status}</span>
          </div>
        </div>
        <div className="stat">
          <div className="stat-label">latency</div>
          <div className="stat-value">{fmt(result.latencyMs, 'ms')}</div>
        </div>
        {Object.entries(result.phases).map(([phase, v]) => (
          <div key={phase} className="stat">
            <div className="stat-label">{phase.replace(/Ms$/, '')}</div>
            <div className="stat-value">{fmt(v, 'ms')}</div>
          </div>
        ))}
      </div>
      {result.error && <p className="bad-text mono">{result.error}</p>}
      {Object.keys(result.details).length > 0 && <pre className="mono small wrap">{JSON.stringify(result.details, null, 2)}</pre>}
    </Panel>
  );
}
