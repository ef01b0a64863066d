/**
 * The verification panel of the incident page (issue 14 §7, §8): after an incident is resolved, Vigil
 * checks for a window that its alerts stay clear, its services' error rate and p95 stay within their
 * baseline and its monitors pass. While that runs: a progress bar to the end of the window and each
 * check's state and figures (the page reloads every 10 s, and once more when the window ends); once
 * finished: the outcome (verified → closed, failed → reopened, cancelled by a person) with its reason.
 *
 * Check details are server text: rendered as React text, links only to Vigil's own pages.
 */
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { fmtTime } from '../format.ts';
import { Panel } from './States.tsx';
import type { IncidentDetail, IncidentVerification as Verification, IncidentVerificationCheck } from '../../../src/api/contract.ts';

/** Props every incident panel gets: the incident and a way to reload it after a change. */
export interface IncidentPanelProps {
  incident: IncidentDetail;
  reload: () => void;
}

const OUTCOME: Record<Verification['state'], { label: string; cls: string }> = {
  running: { label: 'verifying', cls: 'warn' },
  verified: { label: 'verified', cls: 'ok' },
  failed: { label: 'failed', cls: 'bad' },
  cancelled: { label: 'cancelled', cls: '' },
};

const CHECK: Record<IncidentVerificationCheck['state'], string> = { pending: '', passing: 'ok', failed: 'bad' };

const KIND: Record<IncidentVerificationCheck['kind'], string> = { alert: 'alert stays clear', error_rate: 'error rate', latency: 'p95 latency', monitor: 'monitor passes' };

/** "4m 10s", "35s": time left. */
function leftText(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

/** A check's name without its kind prefix (`error_rate:checkout` → `checkout`). */
const subject = (c: IncidentVerificationCheck) => c.name.slice(c.name.indexOf(':') + 1);

function Checks({ checks }: { checks: IncidentVerificationCheck[] }) {
  if (checks.length === 0) return <p className="muted small">Nothing to check: no alerts, services or monitors are linked to this incident.</p>;
  return (
    <table className="table" aria-label="verification checks">
      <thead>
        <tr>
          <th>Check</th>
          <th>State</th>
          <th>Detail</th>
        </tr>
      </thead>
      <tbody>
        {checks.map((c) => (
          <tr key={c.name} data-testid="verification-check">
            <td>
              <div>{c.href?.startsWith('/') ? <Link to={c.href}>{subject(c)}</Link> : subject(c)}</div>
              <div className="muted small">{KIND[c.kind]}</div>
            </td>
            <td>
              <span className={`badge ${CHECK[c.state]}`}>{c.state}</span>
            </td>
            {/* The figures are the point of a check: they wrap rather than being cut. */}
            <td className="small" style={{ whiteSpace: 'normal', overflowWrap: 'anywhere' }}>
              {c.detail}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** IncidentVerification panel: nothing until the incident was first resolved. */
export function IncidentVerification({ incident, reload }: IncidentPanelProps) {
  const v = incident.verification;
  const running = v?.state === 'running';
  const [now, setNow] = useState(() => Date.now());

  // A running bar moves every second; the outcome is fetched as soon as the window ends.
  useEffect(() => {
    if (!running || !v) return;
    const tick = setInterval(() => setNow(Date.now()), 1000);
    const end = setTimeout(reload, Math.max(0, Date.parse(v.endsAt) - Date.now()) + 1500);
    return () => {
      clearInterval(tick);
      clearTimeout(end);
    };
  }, [running, v?.endsAt, reload]);

  // Just resolved: verification starts a moment after the status change (baselines are read first).
  const awaiting = incident.status === 'resolved' && incident.resolvedAt !== null && !running && Date.now() - Date.parse(incident.resolvedAt) < 60_000;
  useEffect(() => {
    if (!awaiting) return;
    const t = setTimeout(reload, 1500);
    return () => clearTimeout(t);
  }, [awaiting, reload, incident]);

  if (!v) return null;
  const started = Date.parse(v.startedAt);
  const ends = Date.parse(v.endsAt);
  const total = Math.max(1, ends - started);
  const done = Math.min(total, Math.max(0, now - started));
  const o = OUTCOME[v.state];
  return (
    <Panel title="Verification">
      <div data-testid="verification" data-state={v.state}>
        <p>
          <span className={`badge ${o.cls}`}>{o.label}</span>{' '}
          {running ? (
            <span className="small">
              alerts, error rate, p95 and monitors must hold until {fmtTime(v.endsAt)} ({leftText(ends - now)} left)
            </span>
          ) : (
            <span className="small muted">finished {fmtTime(v.finishedAt, true)}</span>
          )}
        </p>
        {running && (
          <progress max={total} value={done} aria-label="verification progress" style={{ width: '100%' }}>
            {Math.round((done / total) * 100)} %
          </progress>
        )}
        {v.reason && (
          <p className={v.state === 'failed' ? 'error small' : 'small'} data-testid="verification-reason">
            {v.state === 'verified' ? 'Closed: ' : v.state === 'failed' ? 'Reopened: ' : ''}
            {v.reason}
          </p>
        )}
        <Checks checks={v.checks} />
      </div>
    </Panel>
  );
}
