/**
 * The diagnosis panel of the incident page (issue 14 §4, §8): Vigil's ranked hypotheses about the cause,
 * each with its category, culprit, confidence, next step and the evidence behind it (figures and links to
 * the exact logs, traces and charts over the compared windows). A running report is polled every 2 s; a
 * responder can run the diagnosis again. Always says what was compared and which detectors ran, so an
 * empty answer reads as "nothing stood out", not as "nothing looked".
 *
 * Everything the report carries is telemetry-derived text: it is rendered as React text, never as HTML.
 */
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, ApiError } from '../api.ts';
import { useAuth } from '../auth.tsx';
import {
  CATEGORY_HINT,
  clockText,
  confidenceLevel,
  confidencePercent,
  detectorsSummary,
  detectorText,
  elapsedText,
  figureRows,
  isUiPath,
  pollInterval,
  stateBadge,
  triggerText,
  windowRange,
  windowText,
} from '../diagnosis-format.ts';
import { useLoad } from '../hooks.ts';
import { FormError } from './Field.tsx';
import { Empty, ErrorState, Loading, Panel } from './States.tsx';
import type { DiagnosisEvidence, DiagnosisHypothesis, DiagnosisResponse, IncidentDetail } from '../../../src/api/contract.ts';

/** Props every incident panel gets: the incident and a way to reload it after a change. */
export interface IncidentPanelProps {
  incident: IncidentDetail;
  reload: () => void;
}

/** A category as a coloured badge, its meaning on hover. */
export function CategoryBadge({ category }: { category: DiagnosisHypothesis['category'] }) {
  return (
    <span className={`badge diag-cat cat-${category}`} title={CATEGORY_HINT[category] ?? category}>
      {category}
    </span>
  );
}

/** Confidence as a bar with its percentage. */
function Confidence({ value }: { value: number }) {
  const pct = confidencePercent(value);
  return (
    <span className={`diag-confidence ${confidenceLevel(value)}`} title={`confidence ${pct} %`} aria-label={`confidence ${pct} %`}>
      <span className="diag-confidence-track">
        <span style={{ width: `${pct}%` }} />
      </span>
      <em>{pct} %</em>
    </span>
  );
}

/** One piece of evidence: who found it, what it shows, its figures and its links. */
function EvidenceItem({ e, of }: { e: DiagnosisEvidence; of: DiagnosisHypothesis }) {
  const rows = figureRows(e.figures);
  return (
    <li className={`diag-evidence role-${e.role}`} data-testid="evidence">
      <div className="diag-evidence-head">
        <span className="mono">{e.detector}</span>
        <span className={`badge ${e.role === 'cause' ? 'bad' : ''}`}>{e.role}</span>
        {e.category !== of.category && <CategoryBadge category={e.category} />}
        <span className="muted small">score {confidencePercent(e.score)} %</span>
        {e.onsetAt && <span className="muted small">onset {clockText(e.onsetAt)}</span>}
      </div>
      <p className="diag-evidence-summary">{e.summary}</p>
      {e.component !== of.component && (
        <code className="diag-evidence-component" title={e.component}>
          {e.component}
        </code>
      )}
      {e.nextStep && e.nextStep !== of.next_step && (
        <p className="diag-evidence-next small">
          <span className="muted">Next step</span> {e.nextStep}
        </p>
      )}
      {rows.length > 0 && (
        <table className="kv diag-figures" aria-label="figures">
          <tbody>
            {rows.map(([k, text, raw]) => (
              <tr key={k}>
                <th>{k}</th>
                <td title={raw}>{text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {e.links.length > 0 && (
        <ul className="diag-links" aria-label="evidence links">
          {e.links.map((l, i) => (
            <li key={`${l.href}-${i}`}>
              <span className="diag-link-kind">{l.kind}</span>
              {/* Only paths of Vigil's UI become links (the runner checks this too). */}
              {isUiPath(l.href) ? <Link to={l.href}>{l.label || l.href}</Link> : <span>{l.label}</span>}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** One ranked hypothesis, its evidence expandable. */
function HypothesisItem({ h, open, toggle, range }: { h: DiagnosisHypothesis; open: boolean; toggle: () => void; range: string }) {
  const evidenceId = `diag-evidence-${h.rank}`;
  return (
    <li className={`diag-hypothesis ${open ? 'open' : ''}`} data-testid="hypothesis">
      <div className="diag-hyp-head">
        <span className="diag-rank" aria-label={`rank ${h.rank}`}>
          #{h.rank}
        </span>
        <CategoryBadge category={h.category} />
        <code className="diag-component" title={h.component}>
          {h.component}
        </code>
        <Confidence value={h.confidence} />
      </div>
      <p className="diag-summary">{h.summary}</p>
      {h.services.length > 0 && (
        <div className="diag-services small">
          <span className="muted">Services </span>
          {h.services.map((s, i) => (
            <span key={s}>
              {i > 0 && ', '}
              <Link to={`/services/${encodeURIComponent(s)}?${range}`}>{s}</Link>
            </span>
          ))}
        </div>
      )}
      {h.next_step && (
        <p className="diag-next">
          <strong>Next step</strong> {h.next_step}
        </p>
      )}
      <button type="button" className="link small" aria-expanded={open} aria-controls={evidenceId} onClick={toggle} disabled={h.evidence.length === 0}>
        {open ? '▾ Hide' : '▸ Show'} evidence ({h.evidence.length})
      </button>
      {open && (
        <ul className="diag-evidence-list" id={evidenceId} aria-label={`evidence for hypothesis ${h.rank}`}>
          {h.evidence.map((e, i) => (
            <EvidenceItem key={`${e.detector}-${i}`} e={e} of={h} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** What was compared: the incident window against its baseline, around the onset. */
function Compared({ scope }: { scope: DiagnosisResponse['scope'] }) {
  return (
    <dl className="diag-compared" aria-label="what was compared">
      <div>
        <dt>Window</dt>
        <dd>{windowText(scope.window)}</dd>
      </div>
      <div>
        <dt>Baseline</dt>
        <dd>{windowText(scope.baseline)}</dd>
      </div>
      <div>
        <dt>Onset</dt>
        <dd>{clockText(scope.onsetAt)}</dd>
      </div>
      <div>
        <dt>Scope</dt>
        <dd>{[...scope.systems, ...scope.services].join(', ') || 'every service'}</dd>
      </div>
    </dl>
  );
}

/** Which detectors ran, how long each took and what it found; failures and time-outs stand out. */
function Detectors({ detectors }: { detectors: DiagnosisResponse['detectors'] }) {
  return (
    <div className="diag-detectors" aria-label="detectors">
      <span className="muted small">{detectorsSummary(detectors)}:</span>
      <ul>
        {detectors.map((d) => (
          <li key={d.name} className={d.state === 'ok' ? (d.evidence > 0 ? 'found' : '') : 'bad'} title={d.error ?? undefined} data-testid="detector-run">
            {detectorText(d)}
            {d.error && <span className="diag-detector-error"> — {d.error}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** IncidentDiagnosis panel. */
export function IncidentDiagnosis({ incident, reload }: IncidentPanelProps) {
  const { canWrite } = useAuth();
  const [poll, setPoll] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [postError, setPostError] = useState<string>();
  const [expanded, setExpanded] = useState<Record<number, boolean>>({});
  const [, setNow] = useState(0);
  // A new diagnosis event on the timeline (one finished elsewhere) is a reason to look again.
  const diagnosisEvents = incident.timeline.filter((e) => e.kind === 'diagnosis').length;
  const report = useLoad((signal) => api<DiagnosisResponse>(`/api/v1/incidents/${incident.id}/diagnosis`, { signal }), [incident.id, diagnosisEvents], poll);
  const notFound = report.error instanceof ApiError && report.error.status === 404;
  const data = notFound ? null : (report.data ?? null);

  useEffect(() => setPoll(pollInterval(data, notFound, incident.openedAt)), [data, notFound, incident.openedAt]);

  // When a report finishes (one seen running, or one asked for here), the incident's timeline has its
  // diagnosis event: reload the page's incident.
  const lastState = useRef<string | undefined>(undefined);
  const asked = useRef(false);
  useEffect(() => {
    const state = data ? `${data.id}:${data.state}` : undefined;
    if (state && state !== lastState.current && data?.state !== 'running' && (lastState.current?.endsWith(':running') || asked.current)) {
      asked.current = false;
      reload();
    }
    lastState.current = state;
  }, [data, reload]);

  // Keep "running for 4s" moving between polls.
  useEffect(() => {
    if (data?.state !== 'running') return;
    const t = setInterval(() => setNow((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [data?.state]);

  const run = async () => {
    setBusy(true);
    setPostError(undefined);
    try {
      await api<DiagnosisResponse>(`/api/v1/incidents/${incident.id}/diagnosis`, { method: 'POST' });
      asked.current = true;
      setExpanded({});
      report.reload();
    } catch (err) {
      setPostError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const badge = stateBadge(data);
  const title = (
    <>
      Diagnosis{' '}
      {(data || notFound) && (
        <span className={`badge ${badge.cls}`} data-testid="diagnosis-state">
          {badge.text}
        </span>
      )}
    </>
  );
  const actions =
    // A failed report offers Retry in its body instead.
    canWrite && data && data.state === 'ready' ? (
      <button type="button" className="btn small" disabled={busy} onClick={() => void run()}>
        Run again
      </button>
    ) : undefined;

  let body;
  if (notFound) {
    body = (
      <Empty
        title="Not diagnosed yet."
        action={
          canWrite && (
            <button type="button" className="btn primary small" disabled={busy} onClick={() => void run()}>
              Diagnose
            </button>
          )
        }
      >
        Vigil compares the incident window with the baseline before it and ranks the likely causes, each with its evidence.
        {!canWrite && ' A responder can run it.'}
      </Empty>
    );
  } else if (report.error && !data) {
    body = <ErrorState error={report.error} retry={report.reload} />;
  } else if (!data) {
    body = <Loading what="Loading the diagnosis" />;
  } else {
    body = <ReportBody report={data} expanded={expanded} setExpanded={setExpanded} canWrite={canWrite} busy={busy} retry={() => void run()} />;
  }

  return (
    <Panel title={title} actions={actions} className="diagnosis-panel">
      <FormError error={postError} />
      {body}
    </Panel>
  );
}

/** A report in any state, with what it compared and which detectors ran. */
function ReportBody({
  report,
  expanded,
  setExpanded,
  canWrite,
  busy,
  retry,
}: {
  report: DiagnosisResponse;
  expanded: Record<number, boolean>;
  setExpanded: (f: (prev: Record<number, boolean>) => Record<number, boolean>) => void;
  canWrite: boolean;
  busy: boolean;
  retry: () => void;
}) {
  const isOpen = (h: DiagnosisHypothesis) => expanded[h.rank] ?? h.rank === report.hypotheses[0]?.rank;
  return (
    <div className="diag-report">
      {report.state === 'running' && (
        <div className="state loading diag-running" role="status" aria-live="polite">
          <span className="spinner" aria-hidden="true" />
          Diagnosing: the detectors are comparing the incident window with its baseline… ({elapsedText(report)})
        </div>
      )}
      {report.state === 'failed' && (
        <div className="state error" role="alert">
          <strong>The diagnosis failed.</strong> <span className="msg">{report.error ?? 'no reason given'}</span>
          {canWrite && (
            <button type="button" className="btn small" disabled={busy} onClick={retry}>
              Retry
            </button>
          )}
        </div>
      )}
      {report.state === 'ready' && report.hypotheses.length === 0 && (
        <Empty title="No cause stood out.">
          The window looks like the baseline to every detector that ran: no deploy or change before the onset, no operation, statement, dependency or resource that got
          clearly worse. Check the incident's services and start time (the window follows them), or look at the data directly.
        </Empty>
      )}
      {report.hypotheses.length > 0 && (
        <ol className="diag-hypotheses" aria-label="hypotheses">
          {report.hypotheses.map((h) => (
            <HypothesisItem key={h.rank} h={h} range={windowRange(report.scope.window)} open={isOpen(h)} toggle={() => setExpanded((prev) => ({ ...prev, [h.rank]: !isOpen(h) }))} />
          ))}
        </ol>
      )}
      <Compared scope={report.scope} />
      {report.detectors.length > 0 && <Detectors detectors={report.detectors} />}
      <p className="muted small diag-meta">
        Run {triggerText(report.trigger)}, started {clockText(report.startedAt)}
        {report.state !== 'running' && elapsedText(report) ? `, ${elapsedText(report)}` : ''}.
      </p>
    </div>
  );
}
