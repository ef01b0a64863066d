/**
 * Incidents: `/incidents` lists them (open, resolved, closed or all, filtered by service; severity,
 * status, how long each lasted, what it affects) with a form to open one by hand; `/incidents/:id`
 * shows one incident — its status actions (only the moves the state machine allows, as the server
 * says), details (severity editable), people, linked alerts, and the timeline with a notes form.
 */
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, qs } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { Field, FormError } from '../components/Field.tsx';
import { PageHead } from '../components/Layout.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { fmtAgo, fmtTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { LabelChips } from './Alerts.tsx';
import { IncidentDiagnosis } from '../components/IncidentDiagnosis.tsx';
import { IncidentRemediation } from '../components/IncidentRemediation.tsx';
import { IncidentVerification } from '../components/IncidentVerification.tsx';
import type { IncidentCreated, IncidentDetail, IncidentListResponse, IncidentSeverity, IncidentStatus, IncidentSummary, IncidentTimelineEvent } from '../../../src/api/contract.ts';

const FILTERS = ['open', 'resolved', 'closed', 'all'] as const;
const SEVERITIES: IncidentSeverity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];

/** Button labels of the status moves. */
const ACTION_LABEL: Record<IncidentStatus, string> = {
  triggered: 'Trigger',
  acknowledged: 'Acknowledge',
  investigating: 'Investigating',
  identified: 'Cause identified',
  monitoring: 'Monitoring a fix',
  resolved: 'Resolve',
  closed: 'Close',
  reopened: 'Reopen',
};

/** "4m", "2h 5m", "3d 2h": how long something lasted. */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

const lasted = (i: IncidentSummary, now: number) => durationText((i.resolvedAt ? Date.parse(i.resolvedAt) : now) - Date.parse(i.openedAt));

/** A severity as a coloured badge (SEV1/2 bad, SEV3 warn). */
export function SeverityBadge({ severity }: { severity: IncidentSeverity }) {
  const cls = severity === 'SEV1' || severity === 'SEV2' ? 'bad' : severity === 'SEV3' ? 'warn' : '';
  return <span className={`badge ${cls}`}>{severity}</span>;
}

/** A status as a badge (open states bad, resolved/closed ok). */
export function StatusBadge({ status }: { status: IncidentStatus }) {
  const cls = status === 'resolved' || status === 'closed' ? 'ok' : status === 'triggered' || status === 'reopened' ? 'bad' : 'warn';
  return (
    <span className={`badge ${cls}`} data-testid="incident-status">
      {status}
    </span>
  );
}

const names = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function OpenIncidentForm({ onOpened }: { onOpened: (id: number) => void }) {
  const [title, setTitle] = useState('');
  const [severity, setSeverity] = useState<IncidentSeverity>('SEV3');
  const [services, setServices] = useState('');
  const [systems, setSystems] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) return setError('title: say what is wrong, e.g. "LMS course registration fails"');
    setBusy(true);
    setError(undefined);
    try {
      const { id } = await api<IncidentCreated>('/api/v1/incidents', { method: 'POST', body: { title: title.trim(), severity, services: names(services), systems: names(systems), description: description.trim() || undefined } });
      onOpened(id);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" aria-label="open an incident" onSubmit={(e) => void submit(e)}>
      <div className="row">
        <Field label="Title" className="grow">
          <input value={title} onChange={(e) => setTitle(e.target.value)} placeholder="LMS course registration fails" aria-label="title" maxLength={200} />
        </Field>
        <Field label="Severity">
          <select value={severity} onChange={(e) => setSeverity(e.target.value as IncidentSeverity)} aria-label="severity">
            {SEVERITIES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </Field>
      </div>
      <div className="row">
        <Field label="Services" hint="comma-separated">
          <input value={services} onChange={(e) => setServices(e.target.value)} placeholder="lms-api, lms-web" aria-label="services" />
        </Field>
        <Field label="Systems" hint="comma-separated">
          <input value={systems} onChange={(e) => setSystems(e.target.value)} placeholder="lms" aria-label="systems" />
        </Field>
      </div>
      <Field label="Description">
        <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={2} aria-label="description" />
      </Field>
      <FormError error={error} />
      <div>
        <button type="submit" className="btn primary" disabled={busy}>
          Open incident
        </button>
      </div>
    </form>
  );
}

/** `/incidents`. */
export function Incidents() {
  const { canWrite } = useAuth();
  const navigate = useNavigate();
  const [sp, setSp] = useSearchParams();
  const status = (FILTERS as readonly string[]).includes(sp.get('status') ?? '') ? (sp.get('status') as (typeof FILTERS)[number]) : 'open';
  const service = sp.get('service') ?? '';
  const [opening, setOpening] = useState(false);
  const list = useLoad((signal) => api<IncidentListResponse>(`/api/v1/incidents${qs({ status, service: service || undefined, limit: 500 })}`, { signal }), [status, service], 15_000);
  const set = (key: string, value: string) =>
    setSp((prev) => {
      const next = new URLSearchParams(prev);
      if (value) next.set(key, value);
      else next.delete(key);
      return next;
    });
  const rows = list.data?.incidents ?? [];
  const now = Date.now();
  return (
    <>
      <PageHead title="Incidents" sub="Opened by hand, by tools through the API, or by Vigil when alerts fire (one per affected system or service).">
        {canWrite && (
          <button type="button" className="btn primary" onClick={() => setOpening((o) => !o)} aria-expanded={opening}>
            {opening ? 'Cancel' : 'Open incident'}
          </button>
        )}
      </PageHead>
      {opening && (
        <Panel title="Open an incident">
          <OpenIncidentForm onOpened={(id) => navigate(`/incidents/${id}`)} />
        </Panel>
      )}
      <Panel>
        <div className="filters incident-filters">
          <div className="seg" role="group" aria-label="status filter">
            {FILTERS.map((f) => (
              <button key={f} type="button" className={f === status ? 'on' : ''} aria-pressed={f === status} onClick={() => set('status', f === 'open' ? '' : f)}>
                {f[0]!.toUpperCase() + f.slice(1)}
              </button>
            ))}
          </div>
          <label>
            Service
            <input value={service} placeholder="all services" onChange={(e) => set('service', e.target.value.trim())} aria-label="service" />
          </label>
        </div>
        {list.error && <ErrorState error={list.error} retry={list.reload} />}
        {!list.data && !list.error && <Loading what="Loading incidents" />}
        {list.data && rows.length === 0 && (
          <Empty title={status === 'open' ? 'No open incidents.' : `No ${status === 'all' ? '' : `${status} `}incidents${service ? ` of ${service}` : ''}.`}>
            Vigil opens one when an alert fires; open one by hand when people report a problem (or <code>vigil incident open "what is wrong"</code>).
          </Empty>
        )}
        {rows.length > 0 && (
          <div className="table-wrap">
            <table className="table" aria-label="incidents">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Severity</th>
                  <th>Status</th>
                  <th className="grow">Title</th>
                  <th>Affects</th>
                  <th>Opened</th>
                  <th>Duration</th>
                  <th>Commander</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((i) => (
                  <tr key={i.id} data-testid="incident-row">
                    <td>{i.id}</td>
                    <td>
                      <SeverityBadge severity={i.severity} />
                    </td>
                    <td>
                      <StatusBadge status={i.status} />
                    </td>
                    <td className="grow" title={i.title}>
                      <Link to={`/incidents/${i.id}`}>{i.title}</Link>
                    </td>
                    <td>{[...i.systems, ...i.services].join(', ') || '—'}</td>
                    <td className="nowrap" title={fmtTime(i.openedAt, true)}>
                      {fmtAgo(i.openedAt, now)}
                    </td>
                    <td className="nowrap">{lasted(i, now)}</td>
                    <td>{i.commander ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </>
  );
}

/** What a timeline event says. */
export function eventText(e: IncidentTimelineEvent): string {
  const d = e.data;
  const s = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : '');
  const labels = (d.labels ?? {}) as Record<string, string>;
  switch (e.kind) {
    case 'opened':
      return `Opened: ${s('title')} (${s('severity')})`;
    case 'status_changed':
      return `${s('from')} → ${s('to')}${s('note') ? ` — ${s('note')}` : ''}`;
    case 'note':
      return s('text');
    case 'alert_firing':
      return `Alert firing: ${labels.alertname ?? s('ruleId')}`;
    case 'alert_resolved':
      return `Alert resolved: ${labels.alertname ?? s('ruleId')}`;
    case 'assigned': {
      const parts: string[] = [];
      if ('commander' in d) parts.push(`commander ${d.commander === null ? 'cleared' : String(d.commander)}`);
      if (Array.isArray(d.assignees)) parts.push(`assignees ${(d.assignees as string[]).join(', ') || 'none'}`);
      return `Assigned: ${parts.join('; ')}`;
    }
    case 'severity_changed':
      return `Severity ${s('from')} → ${s('to')}`;
    case 'diagnosis': {
      const top = d.top as { category?: string; component?: string } | null;
      if (d.state === 'failed') return `Diagnosis failed: ${s('error')}`;
      return top ? `Diagnosis: likely ${top.category ?? ''} — ${top.component ?? ''}` : 'Diagnosis: no likely cause found';
    }
    case 'action_run':
      return `Action ${s('action')} ${d.ok ? 'succeeded' : 'failed'}${typeof d.status === 'number' ? ` (HTTP ${d.status})` : ''}: ${s('result').slice(0, 200)}`;
    case 'verification_started':
      return `Verification started: must hold until ${fmtTime(new Date(Number(d.endsAt)).toISOString(), true).slice(5, 19)}`;
    case 'verification_finished':
      return `Verification ${s('outcome')}: ${s('reason')}`;
  }
}

/** `/incidents/:id`. */
export function IncidentPage() {
  const { id = '' } = useParams();
  const { canWrite } = useAuth();
  const inc = useLoad((signal) => api<IncidentDetail>(`/api/v1/incidents/${encodeURIComponent(id)}`, { signal }), [id], 10_000);
  const [note, setNote] = useState('');
  const [statusNote, setStatusNote] = useState('');
  const [commander, setCommander] = useState<string | null>(null);
  const [assignees, setAssignees] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const act = async (fn: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      after?.();
      inc.reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (inc.error) return <ErrorState error={inc.error} retry={inc.reload} hint={<Link to="/incidents">All incidents</Link>} />;
  if (!inc.data) return <Loading what="Loading the incident" />;
  const d = inc.data;
  const now = Date.now();
  const moveTo = (to: IncidentStatus) =>
    act(
      () => api(`/api/v1/incidents/${d.id}/status`, { method: 'POST', body: { status: to, ...(statusNote.trim() ? { note: statusNote.trim() } : {}) } }),
      () => setStatusNote(''),
    );
  const addNote = (e: FormEvent) => {
    e.preventDefault();
    if (!note.trim()) return;
    void act(
      () => api(`/api/v1/incidents/${d.id}/notes`, { method: 'POST', body: { text: note.trim() } }),
      () => setNote(''),
    );
  };
  const assign = (e: FormEvent) => {
    e.preventDefault();
    void act(
      () => api(`/api/v1/incidents/${d.id}/assign`, { method: 'POST', body: { commander: (commander ?? d.commander ?? '').trim() || null, assignees: names(assignees ?? d.assignees.join(', ')) } }),
      () => (setCommander(null), setAssignees(null)),
    );
  };

  return (
    <>
      <PageHead
        title={
          <>
            <span className="muted">#{d.id}</span> {d.title}
          </>
        }
        sub={
          <span className="incident-sub">
            <SeverityBadge severity={d.severity} /> <StatusBadge status={d.status} /> opened {fmtAgo(d.openedAt, now)} · {d.resolvedAt ? `resolved after ${lasted(d, now)}` : `open for ${lasted(d, now)}`}
            {d.mttaSeconds !== null && ` · MTTA ${durationText(d.mttaSeconds * 1000)}`}
            {d.mttrSeconds !== null && ` · MTTR ${durationText(d.mttrSeconds * 1000)}`}
          </span>
        }
      >
        <Link to="/incidents" className="btn">
          All incidents
        </Link>
      </PageHead>
      <FormError error={error} />
      {canWrite && d.allowedTransitions.length > 0 && (
        <Panel title="Status">
          <div className="incident-actions" role="group" aria-label="status actions">
            {d.allowedTransitions.map((to) => (
              <button key={to} type="button" className={`btn ${to === 'resolved' ? 'primary' : ''}`} disabled={busy} onClick={() => void moveTo(to)}>
                {ACTION_LABEL[to]}
              </button>
            ))}
            <input className="grow" value={statusNote} onChange={(e) => setStatusNote(e.target.value)} placeholder="note with the change (optional)" aria-label="status note" />
          </div>
        </Panel>
      )}
      <div className="incident-grid">
        <div>
          <IncidentDiagnosis incident={d} reload={inc.reload} />
          <Panel title="Timeline">
            <ol className="incident-timeline" aria-label="timeline">
              {d.timeline.map((e) => (
                <li key={e.id} className={`tl-${e.kind}`} data-testid="timeline-event">
                  <time dateTime={e.at} title={fmtTime(e.at, true)}>
                    {fmtTime(e.at, true).slice(5, 19)}
                  </time>
                  <span className="tl-actor">{e.actor}</span>
                  <span className="tl-text">{eventText(e)}</span>
                </li>
              ))}
            </ol>
            {canWrite && (
              <form className="incident-note" aria-label="add a note" onSubmit={addNote}>
                <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={2} placeholder="What you found, tried or decided" aria-label="note" />
                <button type="submit" className="btn" disabled={busy || !note.trim()}>
                  Add note
                </button>
              </form>
            )}
          </Panel>
          <Panel title={`Linked alerts (${d.alerts.length})`}>
            {d.alerts.length === 0 ? (
              <p className="muted small">No alerts linked: this incident was opened by hand.</p>
            ) : (
              <table className="table" aria-label="linked alerts">
                <thead>
                  <tr>
                    <th>Alert</th>
                    <th>State</th>
                    <th className="grow">Labels</th>
                    <th>Linked</th>
                  </tr>
                </thead>
                <tbody>
                  {d.alerts.map((a) => (
                    <tr key={`${a.ruleId}/${a.fingerprint}`}>
                      <td>
                        <Link to={`/alerts/rules/${encodeURIComponent(a.ruleId)}/edit`}>{a.labels.alertname ?? a.ruleId}</Link>
                      </td>
                      <td>
                        <span className={`badge ${a.state === 'firing' ? 'bad' : 'ok'}`}>{a.state}</span>
                      </td>
                      <td className="grow">
                        <LabelChips labels={a.labels} />
                      </td>
                      <td className="nowrap">{fmtAgo(a.linkedAt, now)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
        </div>
        <div>
          <IncidentVerification incident={d} reload={inc.reload} />
          <IncidentRemediation incident={d} reload={inc.reload} />
          <Panel title="Details">
            <table className="kv" aria-label="incident details">
              <tbody>
                <tr>
                  <th>severity</th>
                  <td>
                    {canWrite ? (
                      <select
                        value={d.severity}
                        disabled={busy}
                        aria-label="change severity"
                        onChange={(e) => void act(() => api(`/api/v1/incidents/${d.id}/severity`, { method: 'POST', body: { severity: e.target.value } }))}
                      >
                        {SEVERITIES.map((s) => (
                          <option key={s}>{s}</option>
                        ))}
                      </select>
                    ) : (
                      d.severity
                    )}
                  </td>
                </tr>
                <tr>
                  <th>services</th>
                  <td>
                    {d.services.length
                      ? d.services.map((s, i) => (
                          <span key={s}>
                            {i > 0 && ', '}
                            <Link to={`/services/${encodeURIComponent(s)}`}>{s}</Link>
                          </span>
                        ))
                      : '—'}
                  </td>
                </tr>
                <tr>
                  <th>systems</th>
                  <td>{d.systems.join(', ') || '—'}</td>
                </tr>
                <tr>
                  <th>opened</th>
                  <td>{fmtTime(d.openedAt, true)}</td>
                </tr>
                <tr>
                  <th>acknowledged</th>
                  <td>{d.acknowledgedAt ? fmtTime(d.acknowledgedAt, true) : '—'}</td>
                </tr>
                <tr>
                  <th>resolved</th>
                  <td>{d.resolvedAt ? fmtTime(d.resolvedAt, true) : '—'}</td>
                </tr>
                <tr>
                  <th>closed</th>
                  <td>{d.closedAt ? fmtTime(d.closedAt, true) : '—'}</td>
                </tr>
                <tr>
                  <th>source</th>
                  <td>{d.source === 'alert' ? `alerts (${d.correlationKey ?? ''})` : 'opened by hand'}</td>
                </tr>
                {d.relatedIncidentId !== null && (
                  <tr>
                    <th>recurs</th>
                    <td>
                      <Link to={`/incidents/${d.relatedIncidentId}`}>#{d.relatedIncidentId}</Link> (same signature, resolved before)
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
            {d.description && <p className="incident-description">{d.description}</p>}
          </Panel>
          <Panel title={`Changes (${d.changes.length})`}>
            {d.changes.length === 0 ? (
              <p className="muted small">No deploys or configuration changes to these services from 30 minutes before the incident began.</p>
            ) : (
              <ul className="incident-changes" aria-label="changes">
                {d.changes.map((c) => (
                  <li key={c.id}>
                    <time dateTime={c.at}>{fmtTime(c.at, true).slice(5, 19)}</time> <span className="badge">{c.kind}</span> {c.service}
                    {c.version ? ` ${c.previousVersion ? `${c.previousVersion} → ` : ''}${c.version}` : ''}
                    {c.description ? <span className="muted"> — {c.description}</span> : null}
                  </li>
                ))}
              </ul>
            )}
            <Link to={`/changes?from=${Date.parse(d.openedAt) - 30 * 60_000}&to=${d.resolvedAt ? Date.parse(d.resolvedAt) : Date.now()}`} className="small">
              All changes in this period
            </Link>
          </Panel>
          <Panel title="People">
            {canWrite ? (
              <form className="form" aria-label="assign" onSubmit={assign}>
                <Field label="Commander">
                  <input value={commander ?? d.commander ?? ''} onChange={(e) => setCommander(e.target.value)} aria-label="commander" placeholder="who leads the response" />
                </Field>
                <Field label="Assignees" hint="comma-separated">
                  <input value={assignees ?? d.assignees.join(', ')} onChange={(e) => setAssignees(e.target.value)} aria-label="assignees" />
                </Field>
                <div>
                  <button type="submit" className="btn" disabled={busy}>
                    Save
                  </button>
                </div>
              </form>
            ) : (
              <p>
                Commander: {d.commander ?? '—'}
                <br />
                Assignees: {d.assignees.join(', ') || '—'}
              </p>
            )}
          </Panel>
        </div>
      </div>
    </>
  );
}
