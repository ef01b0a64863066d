/**
 * `/runbooks`: runbooks (Markdown for a service, an alert rule, or every incident, with the actions
 * they offer) and remediation actions (templated HTTP calls) — listed for everyone, written by
 * responders and admins. Secret header values show as `<secret>`; saving `<secret>` keeps them.
 */
import { useState } from 'react';
import { api, ApiError } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { ConfirmButton, Field, FormError } from '../components/Field.tsx';
import { PageHead } from '../components/Layout.tsx';
import { Markdown } from '../components/Markdown.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { fmtTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import type { RemediationAction, RemediationActionInput, RemediationActionListResponse, Runbook, RunbookInput, RunbookListResponse, RunbookScope } from '../../../src/api/contract.ts';

type Errors = Record<string, string>;
const SCOPES: { kind: RunbookScope['kind']; label: string }[] = [
  { kind: 'service', label: 'a service' },
  { kind: 'rule', label: 'an alert rule (alertname)' },
  { kind: 'general', label: 'every incident' },
];
const METHODS: RemediationAction['method'][] = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'];

/** The server's refusal as field errors (`{error, field}` answers). */
function errorsOf(err: unknown): Errors {
  const body = err instanceof ApiError ? (err.body as { field?: string } | undefined) : undefined;
  const msg = (err as Error).message;
  const field = body?.field?.split('.')[0];
  return field ? { [field]: msg } : { _form: msg };
}

/** `Name: value` lines ↔ a map (headers, inputs). */
const linesOf = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
function mapOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf(':');
    if (at < 0) out[line.trim()] = '';
    else out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}
const listOf = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

function RunbookForm({ initial, actions, onSaved, onCancel }: { initial?: Runbook; actions: RemediationAction[]; onSaved: () => void; onCancel: () => void }) {
  const [title, setTitle] = useState(initial?.title ?? '');
  const [kind, setKind] = useState<RunbookScope['kind']>(initial?.scope.kind ?? 'service');
  const [value, setValue] = useState(initial?.scope.value ?? '');
  const [body, setBody] = useState(initial?.body ?? '');
  const [chosen, setChosen] = useState<string[]>(initial?.actions ?? []);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const save = async () => {
    setBusy(true);
    setErrors({});
    const input: RunbookInput = { title, scope: { kind, value }, body, actions: chosen };
    try {
      await api(initial ? `/api/v1/runbooks/${initial.id}` : '/api/v1/runbooks', { method: initial ? 'PUT' : 'POST', body: input });
      onSaved();
    } catch (err) {
      setErrors(errorsOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" aria-label={initial ? 'edit runbook' : 'new runbook'} onSubmit={(e) => (e.preventDefault(), void save())}>
      <Field label="Title" error={errors.title}>
        <input value={title} onChange={(e) => setTitle(e.target.value)} placeholder="Checkout answers 5xx" />
      </Field>
      <div className="row">
        <Field label="For" error={errors.scope}>
          <select value={kind} onChange={(e) => setKind(e.target.value as RunbookScope['kind'])}>
            {SCOPES.map((s) => (
              <option key={s.kind} value={s.kind}>
                {s.label}
              </option>
            ))}
          </select>
        </Field>
        {kind !== 'general' && (
          <Field label={kind === 'service' ? 'Service' : 'Alert name'} error={errors.scope}>
            <input value={value} onChange={(e) => setValue(e.target.value)} placeholder={kind === 'service' ? 'checkout' : 'HighErrorRate'} />
          </Field>
        )}
      </div>
      <div className="row">
        <Field label="Steps (Markdown)" error={errors.body}>
          <textarea rows={12} value={body} onChange={(e) => setBody(e.target.value)} placeholder={'# What to check\n\n1. Open the service page\n2. Run **restart-checkout** if the pool is stuck'} />
        </Field>
        <div className="grow" aria-label="runbook preview">
          <div className="muted small">Preview</div>
          <Markdown text={body} />
        </div>
      </div>
      <fieldset aria-label="offered actions">
        <legend>Actions offered</legend>
        {actions.length === 0 && <span className="muted small">No actions yet: create one below.</span>}
        {actions.map((a) => (
          <label key={a.name} className="inline">
            <input type="checkbox" checked={chosen.includes(a.name)} onChange={(e) => setChosen(e.target.checked ? [...chosen, a.name] : chosen.filter((n) => n !== a.name))} /> {a.name}
          </label>
        ))}
        {errors.actions && <div className="field-error">{errors.actions}</div>}
      </fieldset>
      <FormError error={errors._form} />
      <div className="row-actions">
        <button type="submit" className="btn primary" disabled={busy}>
          {initial ? 'Save runbook' : 'Create runbook'}
        </button>
        <button type="button" className="btn ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ActionForm({ initial, onSaved, onCancel }: { initial?: RemediationAction; onSaved: () => void; onCancel: () => void }) {
  const [a, setA] = useState({
    name: initial?.name ?? '',
    description: initial?.description ?? '',
    method: initial?.method ?? 'POST',
    url: initial?.url ?? '',
    headers: linesOf(initial?.headers ?? {}),
    body: initial?.body ?? '',
    inputs: linesOf(initial?.inputs ?? {}),
    services: (initial?.services ?? []).join(', '),
    timeoutSeconds: String(initial?.timeoutSeconds ?? 10),
  });
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof a) => (e: { target: { value: string } }) => setA({ ...a, [k]: e.target.value });
  const save = async () => {
    setBusy(true);
    setErrors({});
    const input: RemediationActionInput = { name: a.name.trim(), description: a.description, method: a.method, url: a.url, headers: mapOf(a.headers), body: a.body, inputs: mapOf(a.inputs), services: listOf(a.services), timeoutSeconds: Number(a.timeoutSeconds) };
    try {
      await api(initial ? `/api/v1/actions/${initial.id}` : '/api/v1/actions', { method: initial ? 'PUT' : 'POST', body: input });
      onSaved();
    } catch (err) {
      setErrors(errorsOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" aria-label={initial ? 'edit action' : 'new action'} onSubmit={(e) => (e.preventDefault(), void save())}>
      <div className="row">
        <Field label="Name" error={errors.name} hint="kebab-case, such as restart-checkout">
          <input value={a.name} onChange={set('name')} disabled={!!initial} />
        </Field>
        <Field label="Method" error={errors.method}>
          <select value={a.method} onChange={set('method')}>
            {METHODS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </Field>
        <Field label="Time-out (s)" error={errors.timeoutSeconds}>
          <input className="short" value={a.timeoutSeconds} onChange={set('timeoutSeconds')} />
        </Field>
      </div>
      <Field label="Description" error={errors.description}>
        <input value={a.description} onChange={set('description')} />
      </Field>
      <Field label="URL" error={errors.url} hint="Templates: {{ .Incident.ID }}, .Title, .Severity, .Status, .Services, .Systems, .URL, {{ .Input.name }}; | urlquery, | toJson">
        <input className="mono" value={a.url} onChange={set('url')} placeholder="https://ops.internal/restart/{{ .Input.service | urlquery }}" />
      </Field>
      <div className="row">
        <Field label="Headers (Name: value per line)" error={errors.headers} hint="Authorization, Cookie and names with token, key, secret, auth, session or password are secret: sealed, shown as <secret>.">
          <textarea className="mono" rows={3} value={a.headers} onChange={set('headers')} />
        </Field>
        <Field label="Inputs (name: description per line)" error={errors.inputs}>
          <textarea className="mono" rows={3} value={a.inputs} onChange={set('inputs')} />
        </Field>
      </div>
      <Field label="Body" error={errors.body}>
        <textarea className="mono" rows={4} value={a.body} onChange={set('body')} placeholder={'{"incident": {{ .Incident.ID }}, "reason": {{ .Input.reason | toJson }}}'} />
      </Field>
      <Field label="Services (comma-separated; offered on their incidents)" error={errors.services}>
        <input value={a.services} onChange={set('services')} />
      </Field>
      <FormError error={errors._form} />
      <div className="row-actions">
        <button type="submit" className="btn primary" disabled={busy}>
          {initial ? 'Save action' : 'Create action'}
        </button>
        <button type="button" className="btn ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** `/runbooks`. */
export function Runbooks() {
  const { canWrite } = useAuth();
  const runbooks = useLoad((signal) => api<RunbookListResponse>('/api/v1/runbooks', { signal }), []);
  const actions = useLoad((signal) => api<RemediationActionListResponse>('/api/v1/actions', { signal }), []);
  const [editRunbook, setEditRunbook] = useState<Runbook | 'new' | null>(null);
  const [editAction, setEditAction] = useState<RemediationAction | 'new' | null>(null);
  const [error, setError] = useState<string>();
  const remove = (path: string, after: () => void) => api(path, { method: 'DELETE' }).then(after, (e: Error) => setError(e.message));

  if (runbooks.error) return <ErrorState error={runbooks.error} retry={runbooks.reload} />;
  if (actions.error) return <ErrorState error={actions.error} retry={actions.reload} />;
  if (!runbooks.data || !actions.data) return <Loading what="Loading runbooks" />;
  const allActions = actions.data.actions;

  return (
    <>
      <PageHead title="Runbooks" sub="What responders should do, per service, per alert rule or for every incident, and the actions they can run from an incident after confirming.">
        {canWrite && (
          <>
            <button type="button" className="btn primary" onClick={() => setEditRunbook('new')}>
              New runbook
            </button>
            <button type="button" className="btn" onClick={() => setEditAction('new')}>
              New action
            </button>
          </>
        )}
      </PageHead>
      <FormError error={error} />
      {editRunbook && (
        <Panel title={editRunbook === 'new' ? 'New runbook' : `Edit ${editRunbook.title}`}>
          <RunbookForm key={editRunbook === 'new' ? 'new' : editRunbook.id} initial={editRunbook === 'new' ? undefined : editRunbook} actions={allActions} onCancel={() => setEditRunbook(null)} onSaved={() => (setEditRunbook(null), runbooks.reload())} />
        </Panel>
      )}
      <Panel title={`Runbooks (${runbooks.data.runbooks.length})`}>
        {runbooks.data.runbooks.length === 0 ? (
          <Empty title="No runbooks yet.">Write the steps for a service or an alert rule; they show on its incidents.</Empty>
        ) : (
          runbooks.data.runbooks.map((r) => (
            <details key={r.id} className="runbook" data-testid="runbook-row">
              <summary>
                <strong>{r.title}</strong> <span className="muted small">· {r.scope.kind === 'general' ? 'every incident' : `${r.scope.kind} ${r.scope.value}`} · actions: {r.actions.join(', ') || 'none'} · {r.updatedBy}, {fmtTime(r.updatedAt, true).slice(0, 16)}</span>
              </summary>
              <Markdown text={r.body} />
              {canWrite && (
                <div className="row-actions">
                  <button type="button" className="btn small" onClick={() => setEditRunbook(r)}>
                    Edit
                  </button>
                  <ConfirmButton label="Delete" confirm={`Delete ${r.title}`} onConfirm={() => void remove(`/api/v1/runbooks/${r.id}`, runbooks.reload)} />
                </div>
              )}
            </details>
          ))
        )}
      </Panel>
      {editAction && (
        <Panel title={editAction === 'new' ? 'New action' : `Edit ${editAction.name}`}>
          <ActionForm key={editAction === 'new' ? 'new' : editAction.id} initial={editAction === 'new' ? undefined : editAction} onCancel={() => setEditAction(null)} onSaved={() => (setEditAction(null), actions.reload())} />
        </Panel>
      )}
      <Panel title={`Actions (${allActions.length})`}>
        {allActions.length === 0 ? (
          <Empty title="No actions yet.">An action is an HTTP call (restart, roll back, flush) a responder runs from an incident after confirming.</Empty>
        ) : (
          <table className="table" aria-label="actions">
            <thead>
              <tr>
                <th>Name</th>
                <th className="grow">Request</th>
                <th>Services</th>
                <th>Inputs</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {allActions.map((a) => (
                <tr key={a.id} data-testid="action-row">
                  <td className="nowrap" title={a.description}>
                    {a.name}
                  </td>
                  <td className="grow mono small wrap">
                    {a.method} {a.url}
                  </td>
                  <td>{a.services.join(', ') || <span className="muted">any</span>}</td>
                  <td>{Object.keys(a.inputs).join(', ') || <span className="muted">none</span>}</td>
                  <td className="nowrap">
                    {canWrite && (
                      <span className="row-actions">
                        <button type="button" className="btn small" onClick={() => setEditAction(a)}>
                          Edit
                        </button>
                        <ConfirmButton label="Delete" confirm={`Delete ${a.name}`} onConfirm={() => void remove(`/api/v1/actions/${a.id}`, actions.reload)} />
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
    </>
  );
}
