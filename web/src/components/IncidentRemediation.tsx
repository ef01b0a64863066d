/**
 * Remediation on the incident page: the runbooks that apply to the incident (its services, its alerts'
 * rules, general ones) rendered as Markdown, and their actions as buttons. A click asks the server for
 * the rendered request (the run's 400 preview, secrets masked) and shows it with the action's input
 * fields; confirming runs it and reloads the incident, whose timeline then shows the run.
 */
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api, ApiError } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { useLoad } from '../hooks.ts';
import { FormError } from './Field.tsx';
import { Markdown } from './Markdown.tsx';
import { ErrorState, Panel } from './States.tsx';
import type { ActionPreview, ActionRunResponse, IncidentDetail, IncidentRemediationResponse, RemediationAction } from '../../../src/api/contract.ts';

/** Props every incident panel gets: the incident and a way to reload it after a change. */
export interface IncidentPanelProps {
  incident: IncidentDetail;
  reload: () => void;
}

const SCOPE_TEXT = { service: 'service', rule: 'alert rule', general: 'every incident' } as const;

/** The rendered request as a block of text: method and URL, headers, body. */
export function requestText(p: ActionPreview): string {
  const headers = Object.entries(p.headers).map(([k, v]) => `${k}: ${v}`);
  return [`${p.method} ${p.url}`, ...headers, ...(p.body ? ['', p.body] : [])].join('\n');
}

/** Asks the server for the request a run would send: the 400 answer's preview. */
async function previewRun(incidentId: number, action: string, input: Record<string, string>, signal?: AbortSignal): Promise<ActionPreview> {
  try {
    await api(`/api/v1/incidents/${incidentId}/actions/${encodeURIComponent(action)}/run`, { method: 'POST', body: { input }, signal });
  } catch (err) {
    const preview = err instanceof ApiError && err.status === 400 ? (err.body as { preview?: ActionPreview } | undefined)?.preview : undefined;
    if (preview) return preview;
    throw err;
  }
  // The server never runs without confirm: true; an answer without a preview is unexpected.
  throw new Error('the server did not answer with a preview');
}

/** The confirmation dialog of one action: inputs, the rendered request, Run. */
function RunDialog({ incident, action, onClose, onRan }: { incident: IncidentDetail; action: RemediationAction; onClose: () => void; onRan: (r: ActionRunResponse) => void }) {
  const names = Object.keys(action.inputs);
  const [input, setInput] = useState<Record<string, string>>(() => Object.fromEntries(names.map((n) => [n, ''])));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // The preview follows the inputs: asked again whenever they change (the last one stays while it loads).
  const previewed = useLoad((signal) => previewRun(incident.id, action.name, input, signal), [incident.id, action.name, JSON.stringify(input)]);
  const shown = previewed.data;

  const run = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onRan(await api<ActionRunResponse>(`/api/v1/incidents/${incident.id}/actions/${encodeURIComponent(action.name)}/run`, { method: 'POST', body: { confirm: true, input } }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label={`run ${action.name}`}>
      <form className="modal form" onSubmit={(e) => void run(e)}>
        <h2>Run {action.name}?</h2>
        {action.description && <p className="muted">{action.description}</p>}
        {names.map((n) => (
          <label key={n}>
            {n} <span className="muted small">{action.inputs[n]}</span>
            <input value={input[n] ?? ''} onChange={(e) => setInput({ ...input, [n]: e.target.value })} aria-label={`input ${n}`} />
          </label>
        ))}
        <div className="muted small">This request will be sent (secret headers masked):</div>
        <pre className="code" aria-label="request preview" data-testid="action-preview">
          {shown ? requestText(shown) : 'Rendering…'}
        </pre>
        {previewed.error && <FormError error={previewed.error.message} />}
        <FormError error={error} />
        <div className="row-actions">
          <button type="submit" className="btn primary" disabled={busy || !shown || !!previewed.error || previewed.loading}>
            {busy ? 'Running…' : 'Run action'}
          </button>
          <button type="button" className="btn ghost" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}

/** IncidentRemediation panel. */
export function IncidentRemediation({ incident, reload }: IncidentPanelProps) {
  const { canWrite } = useAuth();
  const rem = useLoad((signal) => api<IncidentRemediationResponse>(`/api/v1/incidents/${incident.id}/remediation`, { signal }), [incident.id], 60_000);
  const [running, setRunning] = useState<RemediationAction | null>(null);
  const [last, setLast] = useState<{ action: string; r: ActionRunResponse } | null>(null);

  if (rem.error) {
    return (
      <Panel title="Runbooks and actions">
        <ErrorState error={rem.error} retry={rem.reload} />
      </Panel>
    );
  }
  if (!rem.data) return null;
  const { runbooks, actions } = rem.data;
  const byName = new Map(actions.map((a) => [a.name, a]));
  const inRunbooks = new Set(runbooks.flatMap((r) => r.actions));
  const others = actions.filter((a) => !inRunbooks.has(a.name));
  const button = (name: string) => {
    const a = byName.get(name);
    if (!a) return null;
    return (
      <button key={name} type="button" className="btn small" disabled={!canWrite} title={canWrite ? a.description || `${a.method} ${a.url}` : 'Running actions needs a responder or an admin'} onClick={() => (setLast(null), setRunning(a))}>
        ▶ {a.name}
      </button>
    );
  };

  return (
    <Panel title="Runbooks and actions" actions={<Link to="/runbooks" className="small">Manage</Link>}>
      <div data-testid="incident-remediation">
        {runbooks.length === 0 && actions.length === 0 && (
          <p className="muted small">
            No runbook or action applies to this incident's services or alerts. <Link to="/runbooks">Write one</Link>.
          </p>
        )}
        {last && (
          <div className={`form-${last.r.ok ? 'ok' : 'error'}`} role="status" data-testid="action-result">
            {last.action} {last.r.ok ? 'succeeded' : 'failed'}
            {last.r.status !== null ? ` (HTTP ${last.r.status})` : ''} in {last.r.ms} ms: <span className="wrap">{last.r.result.slice(0, 300)}</span>
          </div>
        )}
        {runbooks.map((r) => (
          <article key={r.id} className="runbook" aria-label={`runbook ${r.title}`}>
            <h3>
              {r.title} <span className="muted small">· {SCOPE_TEXT[r.scope.kind]} {r.scope.value}</span>
            </h3>
            <Markdown text={r.body} />
            {r.actions.length > 0 && (
              <div className="row-actions" role="group" aria-label={`actions of ${r.title}`}>
                {r.actions.map(button)}
              </div>
            )}
          </article>
        ))}
        {others.length > 0 && (
          <div className="row-actions" role="group" aria-label="service actions">
            <span className="muted small">Actions for these services:</span>
            {others.map((a) => button(a.name))}
          </div>
        )}
      </div>
      {running && (
        <RunDialog
          incident={incident}
          action={running}
          onClose={() => setRunning(null)}
          onRan={(r) => {
            setLast({ action: running.name, r });
            setRunning(null);
            reload();
          }}
        />
      )}
    </Panel>
  );
}
