/**
 * One trace: a waterfall of its spans (critical path highlighted, with the time each span on it adds
 * to the request), span details with attributes, events, exceptions and database statements, and the
 * trace's logs.
 */
import { useMemo, useState } from 'react';
import { Link, useLocation, useParams } from 'react-router-dom';
import { api } from '../api.ts';
import { PageHead } from '../components/Layout.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { fmt, fmtTime, text } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { PALETTE, severityColor } from '../theme.ts';
import { resolveRange, useLinkRange, withRange, type TimeRange } from '../time.ts';
import type { TraceDetail, TraceLog, TraceSpan } from '../../../src/api/contract.ts';

/** A span of the trace answer: the contract's tree fields, plus the span columns this page reads. */
type Span = TraceSpan & {
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: string;
  service: string;
  status: string;
  status_message?: string | null;
  db_statement?: string | null;
  attributes?: Record<string, unknown> | null;
  resource_attributes?: Record<string, unknown> | null;
  events?: RawEvent[] | null;
};
/** The trace answer (`GET /api/v1/traces/:id`) with spans and logs read as this page reads them. */
type Trace = Omit<TraceDetail, 'spans' | 'logs'> & {
  spans: Span[];
  logs: (TraceLog & { time: string; span_id: string; service: string; severity_text: string; body: string })[];
};

/** A span event as stored (OTel Collector layout: Timestamp in ns, Name, Attributes); lower-case accepted too. */
interface RawEvent {
  Name?: string;
  Timestamp?: string | number;
  Attributes?: Record<string, unknown>;
  name?: string;
  timestamp?: string | number;
  attributes?: Record<string, unknown>;
}

interface SpanEvent {
  name: string;
  time: string | null;
  attributes: Record<string, unknown>;
}

function readEvent(e: RawEvent): SpanEvent {
  const ts = e.Timestamp ?? e.timestamp;
  let time: string | null = null;
  if (typeof ts === 'string' && /^\d{16,}$/.test(ts)) time = new Date(Number(BigInt(ts) / 1_000_000n)).toISOString();
  else if (ts !== undefined) time = new Date(ts).toISOString();
  return { name: String(e.Name ?? e.name ?? ''), time, attributes: e.Attributes ?? e.attributes ?? {} };
}

/** The trace page. */
export function TracePage() {
  const id = useParams().id ?? '';
  // When the trace was seen (passed by the page that links here) bounds the lookup to an hour around it.
  const around = new URLSearchParams(useLocation().search).get('around');
  const t = useLoad((signal) => api<Trace>(`/api/v1/traces/${encodeURIComponent(id)}${around ? `?around=${encodeURIComponent(around)}` : ''}`, { signal }), [id, around]);
  const [selected, setSelected] = useState<string | null>(null);
  const [criticalOnly, setCriticalOnly] = useState(false);
  const colors = useMemo(() => new Map((t.data?.services ?? []).map((s, i) => [s, PALETTE[i % PALETTE.length]!])), [t.data]);
  const linkRange = useLinkRange();
  if (t.error)
    return (
      <>
        <PageHead title="Trace" sub={id} />
        <ErrorState error={t.error} retry={t.reload} hint={<Link to={withRange('/traces', linkRange)}>Find another trace</Link>} />
      </>
    );
  if (!t.data) return <Loading what="Loading trace" />;
  const tr = t.data;
  const sel = tr.spans.find((s) => s.span_id === selected) ?? null;
  const spans = criticalOnly ? tr.spans.filter((s) => s.critical) : tr.spans;
  const total = tr.durationMs || 1;
  const range = rangeAround(tr, linkRange);
  const criticalCount = tr.spans.filter((s) => s.critical).length;
  // What the request waited on in all: the self times on the path add up to its root's duration.
  const pathMs = tr.spans.reduce((sum, s) => sum + s.critical_self_ms, 0);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <>
      <PageHead
        title={tr.spans[0] ? `${tr.spans[0].service}: ${tr.spans[0].name}` : 'Trace'}
        sub={
          <span className="mono">
            {tr.traceId} · {fmtTime(tr.startTime, true)} · {fmt(tr.durationMs, 'ms')} · {tr.spans.length} spans · {tr.services.length} services
            {tr.errorCount ? <span className="bad-text"> · {tr.errorCount} errors</span> : null}
          </span>
        }
      >
        <label className="check">
          <input type="checkbox" checked={criticalOnly} onChange={(e) => setCriticalOnly(e.target.checked)} /> critical path only ({criticalCount} of {tr.spans.length})
        </label>
        <Link className="btn small" to={withRange(`/logs?q=${encodeURIComponent(`trace_id=${tr.traceId}`)}`, range)}>
          Logs of this trace
        </Link>
      </PageHead>
      <div className="legend-row">
        {tr.services.map((s) => (
          <span key={s} className="legend-item">
            <i style={{ background: colors.get(s) }} />
            <Link to={withRange(`/services/${encodeURIComponent(s)}`, range)}>{s}</Link>
          </span>
        ))}
        <span className="legend-item">
          <i className="crit-swatch" /> critical path
        </span>
      </div>
      <div className={`trace-layout ${sel ? 'with-detail' : ''}`}>
        <div className="waterfall" role="tree" aria-label="waterfall">
          <div className="wf-head">
            <div className="wf-name">Span</div>
            <div className="wf-bar-area">
              {ticks.map((f) => (
                <span key={f} className="wf-tick" style={{ left: `${f * 100}%` }}>
                  {fmt(f * total, 'ms')}
                </span>
              ))}
            </div>
          </div>
          {spans.map((s) => (
            <button
              type="button"
              role="treeitem"
              key={s.span_id}
              className={`wf-row ${s.critical ? 'critical' : ''} ${s.status === 'Error' ? 'error' : ''} ${selected === s.span_id ? 'selected' : ''}`}
              onClick={() => setSelected(selected === s.span_id ? null : s.span_id)}
              data-testid="span-row"
            >
              <div className="wf-name" style={{ paddingLeft: `${Math.min(s.depth, 20) * 14 + 6}px` }}>
                <i className="svc-dot" style={{ background: colors.get(s.service) }} />
                <span className="wf-svc">{s.service}</span> <span>{s.name}</span>
              </div>
              <div className="wf-bar-area">
                <span
                  className="wf-bar"
                  style={{ left: `${(s.offset_ms / total) * 100}%`, width: `max(2px, ${(s.duration_ms / total) * 100}%)`, background: colors.get(s.service) }}
                />
                <span className="wf-dur" style={{ left: `calc(${((s.offset_ms + s.duration_ms) / total) * 100}% + 4px)` }}>
                  {fmt(s.duration_ms, 'ms')}
                  {s.critical && <span className="muted" title="time this span adds to the request on the critical path"> · {fmt(s.critical_self_ms, 'ms')} on path</span>}
                </span>
              </div>
            </button>
          ))}
        </div>
        {sel && <SpanDetail span={sel} pathMs={pathMs} logs={tr.logs.filter((l) => l.span_id === sel.span_id)} onClose={() => setSelected(null)} />}
      </div>
      <Panel title={`Logs of this trace (${tr.logs.length})`}>
        {tr.logs.length === 0 && <Empty title="No logs carry this trace id." />}
        {tr.logs.length > 0 && <LogTable logs={tr.logs} onSpan={setSelected} />}
      </Panel>
    </>
  );
}

function LogTable({ logs, onSpan }: { logs: Trace['logs']; onSpan?: (id: string) => void }) {
  return (
    <table className="table compact">
      <tbody>
        {logs.map((l, i) => (
          <tr key={i}>
            <td className="mono nowrap">{fmtTime(l.time)}</td>
            <td style={{ color: severityColor(l.severity_text) }} className="nowrap">
              {l.severity_text}
            </td>
            <td className="nowrap">{l.service}</td>
            <td className="wrap">{text(l.body)}</td>
            {onSpan && (
              <td>
                <button type="button" className="link small" onClick={() => onSpan(l.span_id)}>
                  span
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SpanDetail({ span, pathMs, logs, onClose }: { span: Span; pathMs: number; logs: Trace['logs']; onClose: () => void }) {
  const events = (Array.isArray(span.events) ? span.events : []).map(readEvent);
  const exceptions = events.filter((e) => e.name === 'exception');
  const others = events.filter((e) => e.name !== 'exception');
  const attrs = Object.entries(span.attributes ?? {});
  const res = Object.entries(span.resource_attributes ?? {});
  const stmt = span.db_statement ?? (span.attributes?.['db.statement'] as string | undefined) ?? (span.attributes?.['db.query.text'] as string | undefined);
  return (
    <aside className="span-detail" aria-label="span details">
      <header>
        <h2>{span.name}</h2>
        <button type="button" className="btn ghost small" onClick={onClose} aria-label="close">
          ✕
        </button>
      </header>
      <dl className="facts">
        <dt>Service</dt>
        <dd>{span.service}</dd>
        <dt>Kind</dt>
        <dd>{span.kind}</dd>
        <dt>Duration</dt>
        <dd>{fmt(span.duration_ms, 'ms')}</dd>
        <dt>Starts at</dt>
        <dd>+{fmt(span.offset_ms, 'ms')}</dd>
        <dt>Status</dt>
        <dd className={span.status === 'Error' ? 'bad-text' : ''}>
          {span.status}
          {span.status_message ? `: ${span.status_message}` : ''}
        </dd>
        <dt>Span id</dt>
        <dd className="mono">{span.span_id}</dd>
        {span.critical && (
          <>
            <dt>Critical path</dt>
            <dd>
              {fmt(span.critical_self_ms, 'ms')} ({fmt(pathMs ? span.critical_self_ms / pathMs : 0, 'percent')} of the path): this span's own work the request waited on
            </dd>
          </>
        )}
      </dl>
      {stmt && (
        <>
          <h3>Database statement</h3>
          <pre className="code">{stmt}</pre>
        </>
      )}
      {exceptions.map((e, i) => (
        <div key={i} className="exception">
          <h3>
            Exception: {text(e.attributes['exception.type'])} <span className="muted">{text(e.attributes['exception.message'])}</span>
          </h3>
          {e.attributes['exception.stacktrace'] ? <pre className="code">{text(e.attributes['exception.stacktrace'])}</pre> : null}
        </div>
      ))}
      {others.length > 0 && (
        <>
          <h3>Events</h3>
          <ul className="events">
            {others.map((e, i) => (
              <li key={i}>
                <strong>{e.name}</strong> <span className="muted">{fmtTime(e.time)}</span> {Object.keys(e.attributes).length ? <code>{text(e.attributes)}</code> : null}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Attributes</h3>
      <KeyValues entries={attrs} />
      {res.length > 0 && (
        <>
          <h3>Resource</h3>
          <KeyValues entries={res} />
        </>
      )}
      <h3>Logs of this span ({logs.length})</h3>
      {logs.length ? <LogTable logs={logs} /> : <p className="muted">None.</p>}
    </aside>
  );
}

/** Attribute name → value rows. */
function KeyValues({ entries }: { entries: [string, unknown][] }) {
  return (
    <table className="kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{text(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The range links from a trace carry: the one being looked at when it holds the whole trace, else a
 * window around the trace (opened from an older log line, say), so its logs and services show.
 */
function rangeAround(tr: Trace, current: TimeRange | null): TimeRange {
  const start = tr.startTime ? new Date(tr.startTime).getTime() : Date.now();
  const end = start + tr.durationMs;
  if (current) {
    const [from, to] = resolveRange(current);
    if (from <= start && end <= to) return current;
  }
  return { from: start - 5 * 60_000, to: Math.ceil(end) + 5 * 60_000 };
}
