/**
 * Log explorer: query bar, histogram by severity with drag-to-zoom, a virtualised result list (records
 * expand to every attribute; click a value to filter; trace ids open their trace), live tail and saved
 * searches. Also reads spans (`from spans …`) and shows aggregate answers as a table and chart.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { api, ApiError, search, type Row, type SearchResult } from '../api.ts';
import { Chart } from '../components/Chart.tsx';
import { PageHead } from '../components/Layout.tsx';
import { QueryBar } from '../components/QueryBar.tsx';
import { ResultTable } from '../components/ResultTable.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { fmt, fmtTime, text } from '../format.ts';
import { useDebounced, useLoad } from '../hooks.ts';
import { isSpanQuery, LOG_FIELDS, quoteField, quoteValue, searchPart, SPAN_FIELDS } from '../query-syntax.ts';
import { pivotTimechart } from '../series.ts';
import { PALETTE, severityColor } from '../theme.ts';
import { resolveRange, spanFor, useTimeRange, withRange } from '../time.ts';
import type { SavedSearch } from '../../../src/api/contract.ts';

const PAGE = 10_000;
const MAX_ROWS = 100_000;
const SEVERITY_ORDER = ['FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'];

function rowKey(r: Row): string {
  return `${text(r.timestamp)}|${text(r.span_id)}|${text(r.trace_id)}|${text(r['service.name'])}|${text(r.body ?? r.name)}`;
}

/** The log explorer page. */
export function Logs() {
  const [sp, setSp] = useSearchParams();
  const navigate = useNavigate();
  const { range, setRange, params } = useTimeRange('15m');
  const q = sp.get('q') || '*';
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);
  const spans = isSpanQuery(q);
  const [fromMs, toMs] = useMemo(() => resolveRange(range), [range]);
  const span = spanFor(range, 80);

  const run = useCallback(
    (next: string) => {
      setSp((p) => {
        const n = new URLSearchParams(p);
        n.set('q', next.trim() || '*');
        return n;
      });
    },
    [setSp],
  );

  // Parse errors while typing: compile the draft over an empty range (cheap; no rows read).
  const debounced = useDebounced(draft, 350);
  const [draftError, setDraftError] = useState<{ message: string; position?: number } | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    if (!debounced.trim()) return setDraftError(null);
    search(debounced, { from: '1000000000000', to: '1000000000001' }, 1, ctl.signal).then(
      () => setDraftError(null),
      (e: ApiError) => !ctl.signal.aborted && e.status === 400 && setDraftError({ message: e.message, position: e.position }),
    );
    return () => ctl.abort();
  }, [debounced]);

  // Results: first page, then older pages on demand (up to 100k rows).
  const [rows, setRows] = useState<Row[]>([]);
  const [result, setResult] = useState<SearchResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [more, setMore] = useState(false);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    // Listings start with 1,000 rows (more load on scroll); aggregates get the full 10,000.
    search(q, params, /\|\s*(stats|timechart|top|rare)\b/.test(q) ? 10_000 : 1000, ctl.signal).then(
      (r) => {
        setResult(r);
        setRows(r.rows);
        setMore(r.kind === 'events' && r.truncated);
        setLoading(false);
      },
      (e: ApiError) => {
        if (ctl.signal.aborted) return;
        setError(e);
        setResult(null);
        setRows([]);
        setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [q, params, tick]);

  const loadingMore = useRef(false);
  const loadMore = useCallback(() => {
    if (loadingMore.current || !more || rows.length >= MAX_ROWS) return;
    const last = rows[rows.length - 1];
    if (!last) return;
    loadingMore.current = true;
    const lastMs = new Date(String(last.timestamp)).getTime();
    const seen = new Set(rows.slice(-200).map(rowKey));
    search(q, { from: String(Math.floor(fromMs)), to: String(lastMs + 1) }, PAGE).then(
      (r) => {
        const fresh = r.rows.filter((x) => !seen.has(rowKey(x)));
        setRows((prev) => [...prev, ...fresh].slice(0, MAX_ROWS));
        setMore(r.truncated && fresh.length > 0);
        loadingMore.current = false;
      },
      () => {
        setMore(false);
        loadingMore.current = false;
      },
    );
  }, [more, rows, q, fromMs]);

  // Histogram of the same search by severity (logs) or status (spans).
  const histQuery = `${searchPart(q)} | timechart span=${span} count() by ${spans ? 'status' : 'severity'}`;
  const hist = useLoad((signal) => (result?.kind === 'aggregate' ? Promise.resolve(null) : search(histQuery, params, 10000, signal)), [histQuery, params, result?.kind, tick]);

  // Live tail.
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (!live) return;
    const es = new EventSource(`/api/v1/tail?interval=1000&q=${encodeURIComponent(q)}`);
    let batch: Row[] = [];
    const flush = setInterval(() => {
      if (!batch.length) return;
      const add = batch.reverse();
      batch = [];
      setRows((prev) => [...add, ...prev].slice(0, MAX_ROWS));
    }, 500);
    es.onmessage = (e) => {
      try {
        batch.push(JSON.parse(e.data as string) as Row);
      } catch {
        // A malformed event is skipped; the next poll brings the rest.
      }
    };
    return () => {
      es.close();
      clearInterval(flush);
    };
  }, [live, q]);

  // Attribute keys seen in results feed autocomplete.
  const fields = useMemo(() => {
    const keys = new Set(spans ? SPAN_FIELDS : LOG_FIELDS);
    for (const r of rows.slice(0, 200)) {
      for (const m of [r.attributes, r.resource_attributes]) if (m && typeof m === 'object') for (const k of Object.keys(m)) keys.add(k);
    }
    return [...keys];
  }, [rows, spans]);
  const valueCache = useRef(new Map<string, string[]>());
  const loadValues = useCallback(
    async (field: string) => {
      const ds = isSpanQuery(draft) ? 'from spans ' : '';
      const key = `${ds}${field}|${JSON.stringify(params)}`;
      const hit = valueCache.current.get(key);
      if (hit) return hit;
      const r = await search(`${ds}${quoteField(field)}=* | top 20 ${quoteField(field)}`, params, 20);
      const list = r.rows.map((x) => text(x[field])).filter(Boolean);
      valueCache.current.set(key, list);
      return list;
    },
    [draft, params],
  );

  const addFilter = useCallback(
    (field: string, value: unknown, negate = false) => {
      const term = `${negate ? 'NOT ' : ''}${quoteField(field)}=${quoteValue(text(value))}`;
      const base = searchPart(q);
      const rest = q.slice(q.indexOf(base) + base.length);
      run(`${base === '*' ? '' : `${base} `}${term}${rest}`);
    },
    [q, run],
  );

  // Saved searches (per user, server-side).
  const saved = useLoad((signal) => api<{ searches: SavedSearch[] }>('/api/v1/saved-searches', { signal }), []);
  const [saving, setSaving] = useState<string | null>(null);

  return (
    <div className="logs-page">
      <PageHead title="Logs" sub={spans ? 'Reading spans' : 'Search logs; start with "from spans" to search spans.'}>
        <SavedMenu
          searches={saved.data?.searches ?? []}
          onPick={(s) => {
            setSp((p) => {
              const n = new URLSearchParams(p);
              n.set('q', s.query);
              if (s.range) {
                n.delete('from');
                n.delete('to');
                n.set('since', s.range);
              }
              return n;
            });
          }}
          onDelete={(s) => void api(`/api/v1/saved-searches/${s.id}`, { method: 'DELETE' }).then(saved.reload)}
        />
        {saving === null ? (
          <button type="button" className="btn small" onClick={() => setSaving('')}>
            Save search
          </button>
        ) : (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (!saving.trim()) return;
              void api('/api/v1/saved-searches', { method: 'POST', body: { name: saving.trim(), query: q, range: 'since' in range ? range.since : null } }).then(() => {
                setSaving(null);
                saved.reload();
              });
            }}
          >
            <input aria-label="name of the saved search" placeholder="Name" value={saving} autoFocus onChange={(e) => setSaving(e.target.value)} />
            <button className="btn primary small" type="submit">
              Save
            </button>
            <button className="btn ghost small" type="button" onClick={() => setSaving(null)}>
              Cancel
            </button>
          </form>
        )}
        <button type="button" className={`btn small ${live ? 'live' : ''}`} onClick={() => setLive((l) => !l)} aria-pressed={live} disabled={result?.kind === 'aggregate'}>
          {live ? '■ Stop tail' : '▶ Live tail'}
        </button>
        <TimeRangePicker range={range} onChange={setRange} onRefresh={() => setTick((t) => t + 1)} />
      </PageHead>
      <QueryBar
        value={draft}
        onChange={setDraft}
        onSubmit={run}
        error={draft === q && error?.status === 400 ? { message: error.message, position: error.position } : draftError}
        fields={fields}
        loadValues={loadValues}
        placeholder='service.name=rms-api severity>=ERROR "payment failed"'
      />
      {result?.kind !== 'aggregate' && (
        <div className="histogram">
          {hist.data && <Histogram result={hist.data} span={span} fromMs={fromMs} toMs={toMs} spans={spans} onZoom={(a, b) => setRange({ from: a, to: b })} />}
        </div>
      )}
      <div className="result-meta">
        {loading && <span>Searching…</span>}
        {!loading && result && (
          <span data-testid="result-count">
            {fmt(rows.length, 'count')} {result.kind === 'events' ? (spans ? 'spans' : 'records') : 'rows'}
            {more ? ' (scroll for older)' : ''} · {result.elapsedMs.toFixed(0)} ms{live ? ' · live' : ''}
          </span>
        )}
      </div>
      {/* Query warnings (unknown fields, widened span, cut values) arrive with the answer; React escapes their text. */}
      {!error &&
        (result?.warnings ?? []).map((w) => (
          <div key={w.message} className="query-warning" role="status" data-testid="query-warning">
            {w.message}
          </div>
        ))}
      {error && error.status !== 400 && <ErrorState error={error} retry={() => setTick((t) => t + 1)} />}
      {error?.status === 400 && <div className="hint">Fix the query above (the marked position), then press Enter. See docs/query-language.md for the syntax.</div>}
      {!error && result && rows.length === 0 && (
        <Empty title="Nothing matched.">
          Widen the time range, remove a filter, or check the field names (exact matches are case-sensitive: <code>service.name=rms-api</code>).
        </Empty>
      )}
      {!error && result?.kind === 'events' && rows.length > 0 && (
        <EventList rows={rows} spans={spans} onFilter={addFilter} onEnd={loadMore} onTrace={(id, at) => navigate(withRange(`/traces/${id}${at ? `?around=${encodeURIComponent(at)}` : ''}`, range))} />
      )}
      {!error && result?.kind === 'aggregate' && rows.length > 0 && <AggregateView result={result} fromMs={fromMs} toMs={toMs} />}
      {!result && loading && <Loading what="Searching" />}
    </div>
  );
}

function SavedMenu({ searches, onPick, onDelete }: { searches: SavedSearch[]; onPick: (s: SavedSearch) => void; onDelete: (s: SavedSearch) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="menu">
      <button type="button" className="btn small" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
        Saved ({searches.length}) ▾
      </button>
      {open && (
        <ul className="popover menu-list">
          {searches.length === 0 && <li className="muted">No saved searches yet: run a query, then “Save search”.</li>}
          {searches.map((s) => (
            <li key={s.id}>
              <button
                type="button"
                className="link"
                onClick={() => {
                  onPick(s);
                  setOpen(false);
                }}
                title={s.query}
              >
                {s.name}
              </button>
              <button type="button" className="btn ghost small" aria-label={`delete ${s.name}`} onClick={() => onDelete(s)}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Counts per bucket stacked by severity (or span status), with drag-to-zoom. */
function Histogram({ result, span, fromMs, toMs, spans, onZoom }: { result: SearchResult; span: string; fromMs: number; toMs: number; spans: boolean; onZoom: (a: number, b: number) => void }) {
  const data = useMemo(() => {
    const d = pivotTimechart(result, { span, fromMs, toMs });
    const order = (l: string) => {
      const i = SEVERITY_ORDER.indexOf(l.toUpperCase().replace(/\d+$/, ''));
      return i < 0 ? (l === 'Error' ? 0 : 99) : i;
    };
    const sorted = [...d.series].sort((a, b) => order(a.label) - order(b.label));
    // Stack: each series is drawn as the running total from the most severe down, biggest first.
    const cum: (number | null)[][] = [];
    sorted.forEach((s, i) => cum.push(s.values.map((v, j) => (v ?? 0) + (i ? (cum[i - 1]![j] ?? 0) : 0))));
    const color = (l: string) => (spans ? (l === 'Error' ? '#dc2626' : l === 'Ok' ? '#10b981' : PALETTE[0]!) : severityColor(l));
    return { x: d.x, series: sorted.map((s, i) => ({ label: s.label, values: cum[i]!, color: color(s.label) })).reverse() };
  }, [result, span, fromMs, toMs, spans]);
  if (!data.x.length) return null;
  return <Chart x={data.x} series={data.series} kind="bars" height={120} onZoom={onZoom} label="histogram" />;
}

/** A virtualised list of records; a click expands one to all its fields. */
function EventList({ rows, spans, onFilter, onEnd, onTrace }: { rows: Row[]; spans: boolean; onFilter: (f: string, v: unknown, neg?: boolean) => void; onEnd: () => void; onTrace: (id: string, at?: string) => void }) {
  const parent = useRef<HTMLDivElement>(null);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const v = useVirtualizer({ count: rows.length, getScrollElement: () => parent.current, estimateSize: () => 28, overscan: 15, getItemKey: (i) => rowKey(rows[i]!) + i });
  const items = v.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (lastIndex >= rows.length - 50) onEnd();
  }, [lastIndex, rows.length, onEnd]);
  return (
    <div className="event-list" ref={parent} data-testid="event-list">
      <div style={{ height: v.getTotalSize(), position: 'relative' }}>
        {items.map((it) => {
          const r = rows[it.index]!;
          const key = rowKey(r);
          const expanded = open.has(key);
          return (
            <div key={it.key} data-index={it.index} ref={v.measureElement} className={`event ${expanded ? 'expanded' : ''}`} style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${it.start}px)` }}>
              <button
                type="button"
                className="event-line"
                aria-expanded={expanded}
                onClick={() =>
                  setOpen((s) => {
                    const n = new Set(s);
                    if (n.has(key)) n.delete(key);
                    else n.add(key);
                    return n;
                  })
                }
              >
                <span className="ev-time">{fmtTime(text(r.timestamp))}</span>
                {spans ? (
                  <>
                    <span className={`ev-sev ${r.status === 'Error' ? 'sev-error' : ''}`}>{text(r.status) || 'Unset'}</span>
                    <span className="ev-svc">{text(r['service.name'])}</span>
                    <span className="ev-body">
                      {text(r.name)} <em className="muted">{fmt(Number(r.duration_ms), 'ms')}</em>
                    </span>
                  </>
                ) : (
                  <>
                    <span className="ev-sev" style={{ color: severityColor(r.severity) }}>
                      {text(r.severity) || '—'}
                    </span>
                    <span className="ev-svc">{text(r['service.name'])}</span>
                    <span className="ev-body">{text(r.body)}</span>
                  </>
                )}
                {r.trace_id ? <span className="ev-trace" title="has a trace">⋔</span> : null}
              </button>
              {expanded && <EventDetail row={r} onFilter={onFilter} onTrace={onTrace} />}
            </div>
          );
        })}
      </div>
    </div>
  );
}

function EventDetail({ row, onFilter, onTrace }: { row: Row; onFilter: (f: string, v: unknown, neg?: boolean) => void; onTrace: (id: string, at?: string) => void }) {
  const entries: [string, unknown, string][] = [];
  for (const [k, v] of Object.entries(row)) {
    if (k === 'attributes' || k === 'resource_attributes') continue;
    if (v !== null && v !== '') entries.push([k, v, '']);
  }
  for (const [src, label] of [
    ['attributes', 'attribute'],
    ['resource_attributes', 'resource'],
  ] as const) {
    const m = row[src];
    if (m && typeof m === 'object') for (const [k, v] of Object.entries(m as Record<string, unknown>)) entries.push([k, v, label]);
  }
  const traceId = text(row.trace_id);
  return (
    <div className="event-detail">
      {traceId && (
        <div className="detail-actions">
          <Link to={`/traces/${traceId}`} className="btn small primary" onClick={(e) => (e.preventDefault(), onTrace(traceId, text(row.timestamp)))}>
            Open trace ⋔
          </Link>
        </div>
      )}
      <table className="kv">
        <tbody>
          {entries.map(([k, v, src]) => (
            <tr key={`${src}:${k}`}>
              <th>
                {k}
                {src && <span className="src">{src}</span>}
              </th>
              <td>
                <button type="button" className="value" title="Filter on this value" onClick={() => onFilter(k, v)}>
                  {text(v)}
                </button>
                <button type="button" className="btn ghost tiny" title="Exclude this value" aria-label={`exclude ${k}`} onClick={() => onFilter(k, v, true)}>
                  ⊘
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** An aggregate answer: a chart when it is a timechart, and the table. */
function AggregateView({ result, fromMs, toMs }: { result: SearchResult; fromMs: number; toMs: number }) {
  const isTime = result.columns.some((c) => c.name === '_time');
  const data = useMemo(() => (isTime ? pivotTimechart(result, { fromMs, toMs }) : null), [result, isTime, fromMs, toMs]);
  return (
    <div className="aggregate">
      {data && data.x.length > 0 && (
        <div className="panel">
          <Chart x={data.x} series={data.series} height={240} label="timechart" />
        </div>
      )}
      <ResultTable
        result={result}
        maxRows={2000}
        label="results"
        cell={(r, c) => (c.type === 'number' && r[c.name] !== null ? fmt(Number(r[c.name])) : c.name === '_time' ? fmtTime(text(r[c.name]), true) : text(r[c.name]))}
      />
    </div>
  );
}
