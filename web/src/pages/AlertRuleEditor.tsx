/**
 * Create and edit alert rules: the source (a query, a metric or monitors), when it fires and
 * resolves, an optional baseline, labels and annotations; the rule as YAML; and a backtest of the
 * draft over the last days of stored data, drawn under the editor. A rule from a file is written
 * back into its file (comments and order kept); a new rule goes to `ui.yml` unless told otherwise.
 */
import { useEffect, useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom';
import { api, search, type ApiError } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { backtestSummary, fmtAlertValue, humanizeDuration, labelPairs, valueUnit } from '../alert-format.ts';
import { BacktestChart } from '../components/BacktestChart.tsx';
import { ConfirmButton, Field, FormError, NeedsRole } from '../components/Field.tsx';
import { PageHead } from '../components/Layout.tsx';
import { QueryBar } from '../components/QueryBar.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { ErrorState, Loading, Panel } from '../components/States.tsx';
import { fmtTime } from '../format.ts';
import type { FieldErrors } from '../form-errors.ts';
import { useDebounced, useLoad } from '../hooks.ts';
import { SPAN_FIELDS } from '../query-syntax.ts';
import { draftOf, DraftError, emptyDraft, METRIC_AGGS, ruleOf, ruleWriteErrors, type Pair, type RuleDraft, type SourceKind } from '../rule-draft.ts';
import { AlertsNav, LabelChips, ruleHref } from './Alerts.tsx';
import type { BacktestRequest, BacktestResponse, RuleDetail, RuleWriteRequest } from '../../../src/api/contract.ts';

const DAYS = [1, 3, 7] as const;
const rulePath = (id: string) => `/api/v1/alerting/rules/${encodeURIComponent(id)}`;

/** `/alerts/rules/new` and `/alerts/rules/:id`. */
export function AlertRuleEditor() {
  const id = useParams().id;
  const { canWrite } = useAuth();
  if (id) return <EditRule id={id} />;
  if (!canWrite)
    return (
      <>
        <PageHead title="New alert rule" />
        <AlertsNav />
        <NeedsRole what="Creating alert rules" role="responder" />
      </>
    );
  return <RuleEditor key="new" />;
}

function EditRule({ id }: { id: string }) {
  const d = useLoad((signal) => api<RuleDetail>(rulePath(id), { signal }), [id]);
  if (d.error)
    return (
      <>
        <PageHead title="Alert rule" />
        <AlertsNav />
        <ErrorState error={d.error} retry={d.reload} hint={<Link to="/alerts/rules">All rules</Link>} />
      </>
    );
  if (!d.data) return <Loading what="Loading the rule" />;
  return <RuleEditor key={d.data.id} saved={d.data} />;
}

/** The rule as YAML, as it would be written in a rule file's `rules:` list (the yaml package loads on demand). */
function useDraftYaml(draft: RuleDraft): string {
  const debounced = useDebounced(draft, 250);
  const [text, setText] = useState('');
  useEffect(() => {
    let live = true;
    let rule;
    try {
      rule = ruleOf(debounced);
    } catch (e) {
      setText(`# ${(e as Error).message}`);
      return;
    }
    void import('yaml').then(({ stringify }) => live && setText(stringify([rule], { lineWidth: 0 })));
    return () => {
      live = false;
    };
  }, [debounced]);
  return text;
}

function RuleEditor({ saved: loaded }: { saved?: RuleDetail }) {
  const navigate = useNavigate();
  const location = useLocation();
  const { canWrite } = useAuth();
  // The rule as last saved: a save answers with it (its YAML as now written in its file).
  const [saved, setSaved] = useState<RuleDetail | undefined>(loaded);
  const [draft, setDraft] = useState<RuleDraft>(() => (loaded ? draftOf(loaded) : emptyDraft()));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  // A rule just created arrives here with the time it was saved.
  const [savedAt, setSavedAt] = useState<number | null>(() => (location.state as { created?: number } | null)?.created ?? null);
  const [yamlView, setYamlView] = useState<'saved' | 'draft'>(saved ? 'saved' : 'draft');
  const set = (patch: Partial<RuleDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const draftYaml = useDraftYaml(draft);
  const unit = valueUnit(draft.kind, draft.kind === 'query' ? draft.expr : draft.metricName);

  // Parse errors while typing the query: compile it over an empty range (no rows read), as the log explorer does.
  const expr = useDebounced(draft.expr, 350);
  const [exprError, setExprError] = useState<{ message: string; position?: number } | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    if (draft.kind !== 'query' || !expr.trim()) return setExprError(null);
    search(expr, { from: '1000000000000', to: '1000000000001' }, 1, ctl.signal).then(
      () => setExprError(null),
      (e: ApiError) => !ctl.signal.aborted && e.status === 400 && setExprError({ message: e.message, position: e.position }),
    );
    return () => ctl.abort();
  }, [expr, draft.kind]);

  const save = async () => {
    setBusy(true);
    setErrors({});
    setSavedAt(null);
    try {
      const rule = ruleOf(draft);
      const body: RuleWriteRequest = saved ? { rule } : { rule, group: draft.group.trim() || undefined, file: draft.file.trim() || undefined, interval: draft.interval.trim() || undefined };
      const out = await api<RuleDetail | undefined>(saved ? rulePath(saved.id) : '/api/v1/alerting/rules', { method: saved ? 'PUT' : 'POST', body });
      const next = out?.id;
      if (!next) return navigate('/alerts/rules');
      if (next !== saved?.id) return navigate(ruleHref(next), { replace: !!saved, state: { created: Date.now() } });
      setSaved(out);
      setSavedAt(Date.now());
    } catch (e) {
      setErrors(e instanceof DraftError ? { [e.field]: e.message } : ruleWriteErrors((e as Error).message, (e as ApiError).body));
    } finally {
      setBusy(false);
    }
  };
  const err = (f: string) => errors[f];
  const where = saved ? `${saved.file}${saved.line === null ? '' : `:${saved.line}`}` : null;

  return (
    <>
      <PageHead
        title={saved ? saved.rule.alert : 'New alert rule'}
        sub={saved ? `group ${saved.group} in ${where}, evaluated every ${saved.interval}` : 'A query, a metric or monitors; every row of the answer is one alert, its by-columns its labels.'}
      >
        <Link to="/alerts/rules">All rules</Link>
        {saved && (
          <a className="btn" href={`${rulePath(saved.id)}/export`} download={`${saved.rule.alert}.yml`}>
            Export YAML
          </a>
        )}
      </PageHead>
      <AlertsNav />
      {saved && !canWrite && <p className="muted">Your role can look at this rule but not change it.</p>}
      <form
        className="form rule-form"
        aria-label="alert rule"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset disabled={!canWrite} className="plain">
          <Panel title="What it watches">
            <div className="row">
              <Field label="Alert name" error={err('alert')} hint="Becomes the alertname label: letters, digits and _.">
                <input value={draft.alert} onChange={(e) => set({ alert: e.target.value })} required placeholder="RmsHighErrorRate" />
              </Field>
              <div className="field narrow-field">
                <span className="field-label">Source</span>
                <div className="seg" role="group" aria-label="source">
                  {(['query', 'metric', 'monitor'] as SourceKind[]).map((k) => (
                    <button key={k} type="button" className={draft.kind === k ? 'on' : ''} aria-pressed={draft.kind === k} onClick={() => set({ kind: k })}>
                      {k === 'query' ? 'Query' : k === 'metric' ? 'Metric' : 'Monitors'}
                    </button>
                  ))}
                </div>
              </div>
            </div>
            <SourceFields draft={draft} set={set} err={err} exprError={exprError} />
          </Panel>
          <Panel title="When it fires">
            <div className="row">
              <Field label="Range" error={err('range')} hint="The window each evaluation reads, ending now.">
                <input className="short" value={draft.range} onChange={(e) => set({ range: e.target.value })} placeholder="5m" />
              </Field>
              <Field label="For" error={err('for')} hint="How long it must hold before firing (pending until then).">
                <input className="short" value={draft.for} onChange={(e) => set({ for: e.target.value })} placeholder="1m" />
              </Field>
              <Field label="Keep firing for" error={err('keep_firing_for')} hint="Stays firing this long after it stops holding.">
                <input className="short" value={draft.keepFiringFor} onChange={(e) => set({ keepFiringFor: e.target.value })} placeholder="0s" />
              </Field>
            </div>
            <div className="row">
              <Field label="Condition" error={err('condition')} hint="Over a row's fields; empty: every row the source answers fires (a query's final where also works).">
                <input className="mono" value={draft.condition} onChange={(e) => set({ condition: e.target.value })} placeholder="value > 0.05 and n >= 20" />
              </Field>
              <Field label="Resolve when" error={err('resolve_when')} hint="A separate recovery condition, so a value hovering at the threshold does not flap.">
                <input className="mono" value={draft.resolveWhen} onChange={(e) => set({ resolveWhen: e.target.value })} placeholder="value < 0.03" />
              </Field>
            </div>
            <label className="check">
              <input type="checkbox" checked={draft.baseline} onChange={(e) => set({ baseline: e.target.checked })} /> Compare each row with its own baseline (anomaly rule)
            </label>
            {draft.baseline && (
              <div className="row">
                <Field label="Earlier windows" error={err('baseline')} hint="Consecutive windows of the range before the current one.">
                  <input className="short" inputMode="numeric" value={draft.baselineWindows} onChange={(e) => set({ baselineWindows: e.target.value })} placeholder="12" />
                </Field>
                <Field label="Previous days" hint="The same time of day on this many previous days.">
                  <input className="short" inputMode="numeric" value={draft.baselineDays} onChange={(e) => set({ baselineDays: e.target.value })} placeholder="7" />
                </Field>
                <label className="check">
                  <input type="checkbox" checked={draft.baselineFillMissing} onChange={(e) => set({ baselineFillMissing: e.target.checked })} /> A label set seen before but silent now reads 0 (no-data alerts)
                </label>
                <p className="muted small">
                  The condition can then use <code>baseline</code> (median), <code>baseline_mad</code>, <code>zscore</code> and <code>baseline_samples</code>, e.g.{' '}
                  <code>zscore &gt; 4 and baseline_samples &gt;= 6 and n &gt;= 50</code>.
                </p>
              </div>
            )}
          </Panel>
          <Panel title="Labels and annotations">
            <div className="grid2">
              <PairRows label="Labels (routing and silences match on them)" what="label" rows={draft.labels} onChange={(labels) => set({ labels })} error={err('labels')} />
              <PairRows label="Annotations ({{ $labels.name }}, {{ $value | humanize }})" what="annotation" rows={draft.annotations} onChange={(annotations) => set({ annotations })} error={err('annotations')} />
            </div>
          </Panel>
          {!saved && (
            <Panel title="Where it is saved">
              <div className="row">
                <Field label="File" error={err('file')} hint="In the rules directory; created when missing.">
                  <input value={draft.file} onChange={(e) => set({ file: e.target.value })} />
                </Field>
                <Field label="Group" error={err('group')}>
                  <input value={draft.group} onChange={(e) => set({ group: e.target.value })} />
                </Field>
                <Field label="Group interval" error={err('interval')} hint="How often the group is evaluated (also on new data).">
                  <input className="short" value={draft.interval} onChange={(e) => set({ interval: e.target.value })} />
                </Field>
              </div>
            </Panel>
          )}
        </fieldset>
        <FormError error={errors._form} />
        {canWrite && (
          <div className="row form-actions">
            <button className="btn primary" type="submit" disabled={busy}>
              {busy ? 'Saving…' : saved ? 'Save' : 'Create rule'}
            </button>
            {savedAt && <span className="form-ok">Saved at {fmtTime(savedAt)}{saved?.file ? ` into ${saved.file}` : ''}.</span>}
            {saved && (
              <ConfirmButton
                label="Delete rule"
                confirm={`Delete ${saved.rule.alert}${saved.file ? ` from ${saved.file}` : ''}`}
                onConfirm={() => api<void>(rulePath(saved.id), { method: 'DELETE' }).then(() => navigate('/alerts/rules'), (e: Error) => setErrors({ _form: e.message }))}
              />
            )}
          </div>
        )}
      </form>
      <Backtest draft={draft} interval={saved?.interval ?? draft.interval} unit={unit} />
      <Panel
        title="YAML"
        actions={
          saved && (
            <div className="seg" role="group" aria-label="YAML view">
              <button type="button" className={yamlView === 'saved' ? 'on' : ''} aria-pressed={yamlView === 'saved'} onClick={() => setYamlView('saved')}>
                Saved
              </button>
              <button type="button" className={yamlView === 'draft' ? 'on' : ''} aria-pressed={yamlView === 'draft'} onClick={() => setYamlView('draft')}>
                This draft
              </button>
            </div>
          )
        }
      >
        <p className="muted small">
          {saved && yamlView === 'saved' ? `As written in ${saved.file}, comments kept.` : 'The draft as a rule-file entry, to paste under a group\'s rules: (Prometheus format; Vigil reads range, condition, resolve_when, baseline, metric and monitor too).'}
        </p>
        <pre className="mono small yaml" data-testid="rule-yaml">
          {saved && yamlView === 'saved' ? saved.yaml : draftYaml}
        </pre>
      </Panel>
    </>
  );
}

type Setter = (patch: Partial<RuleDraft>) => void;

function SourceFields({ draft: d, set, err, exprError }: { draft: RuleDraft; set: Setter; err: (f: string) => string | undefined; exprError: { message: string; position?: number } | null }) {
  const metrics = useLoad((signal) => (d.kind === 'metric' ? api<{ metrics: { name: string; unit: string }[] }>('/api/v1/apm/metrics/names?since=7d', { signal }) : Promise.resolve(null)), [d.kind === 'metric']);
  const monitors = useLoad((signal) => (d.kind === 'monitor' ? api<{ monitors: { id: string; name: string; system: string }[] }>('/api/v1/monitors', { signal }) : Promise.resolve(null)), [d.kind === 'monitor']);
  if (d.kind === 'query')
    return (
      <Field label="Query" error={err('expr')} hint="Every row is one alert: the by-columns become its labels (service.name → service_name), the column named value (else the last number) is its value.">
        <QueryBar
          value={d.expr}
          onChange={(expr) => set({ expr })}
          onSubmit={() => undefined}
          error={exprError}
          fields={SPAN_FIELDS}
          placeholder="from spans kind=server | stats p95(duration_ms) as value count() as n by service.name"
        />
      </Field>
    );
  if (d.kind === 'metric')
    return (
      <>
        <div className="row">
          <Field label="Metric" error={err('metric.name') ?? err('metric')}>
            <input list="rule-metric-names" value={d.metricName} onChange={(e) => set({ metricName: e.target.value })} placeholder="system.cpu.utilization" className="mono" />
            <datalist id="rule-metric-names">
              {(metrics.data?.metrics ?? []).map((m) => (
                <option key={m.name} value={m.name} />
              ))}
            </datalist>
          </Field>
          <Field label="Aggregation" error={err('metric.agg')} className="narrow-field">
            <select value={d.metricAgg} onChange={(e) => set({ metricAgg: e.target.value })}>
              {METRIC_AGGS.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </Field>
          {d.metricAgg === 'predict_linear' && (
            <Field label="Project ahead" error={err('metric.horizon')} hint="The value is where the series will be this far ahead (linear fit over the range).">
              <input className="short" value={d.metricHorizon} onChange={(e) => set({ metricHorizon: e.target.value })} placeholder="24h" />
            </Field>
          )}
          <Field label="Service" error={err('metric.service')}>
            <input value={d.metricService} onChange={(e) => set({ metricService: e.target.value })} placeholder="any" />
          </Field>
          <Field label="One alert per" error={err('metric.group_by')} hint="An attribute whose values become a label.">
            <input value={d.metricGroupBy} onChange={(e) => set({ metricGroupBy: e.target.value })} placeholder="host.name" className="mono" />
          </Field>
        </div>
        <PairRows label="Attributes must equal" what="attribute" rows={d.metricWhere} onChange={(metricWhere) => set({ metricWhere })} error={err('metric.where')} />
      </>
    );
  const systems = [...new Set((monitors.data?.monitors ?? []).map((m) => m.system).filter(Boolean))];
  return (
    <>
      <div className="row">
        <Field label="Monitor" error={err('monitor.id') ?? err('monitor')} hint="One monitor, or leave empty and name a system.">
          <select value={d.monitorId} onChange={(e) => set({ monitorId: e.target.value })}>
            <option value="">— every monitor of a system —</option>
            {(monitors.data?.monitors ?? []).map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} ({m.id})
              </option>
            ))}
            {d.monitorId && !monitors.data?.monitors.some((m) => m.id === d.monitorId) && <option value={d.monitorId}>{d.monitorId}</option>}
          </select>
        </Field>
        {!d.monitorId && (
          <Field label="System" error={err('monitor.system')}>
            <input list="rule-systems" value={d.monitorSystem} onChange={(e) => set({ monitorSystem: e.target.value })} placeholder="rms" />
            <datalist id="rule-systems">
              {systems.map((s) => (
                <option key={s} value={s} />
              ))}
            </datalist>
          </Field>
        )}
      </div>
      <fieldset className="choose">
        <legend>Fires when a monitor is</legend>
        <label className="check">
          <input type="checkbox" checked={d.monitorDown} onChange={(e) => set({ monitorDown: e.target.checked })} /> down
        </label>
        <label className="check">
          <input type="checkbox" checked={d.monitorDegraded} onChange={(e) => set({ monitorDegraded: e.target.checked })} /> degraded
        </label>
        {err('monitor.states') && <div className="field-error">{err('monitor.states')}</div>}
      </fieldset>
    </>
  );
}

/** Editable name/value rows. */
function PairRows({ label, what, rows, onChange, error }: { label: string; what: string; rows: Pair[]; onChange: (rows: Pair[]) => void; error?: string }) {
  const update = (i: number, row: Pair) => onChange(rows.map((r, k) => (k === i ? row : r)));
  return (
    <fieldset className="pairs">
      <legend>{label}</legend>
      {rows.map((r, i) => (
        <div className="pair" key={i}>
          <input aria-label={`${what} ${i + 1} name`} value={r.name} onChange={(e) => update(i, { ...r, name: e.target.value })} placeholder="name" className="mono" />
          <input aria-label={`${what} ${i + 1} value`} value={r.value} onChange={(e) => update(i, { ...r, value: e.target.value })} placeholder="value" className="pair-value" />
          <button type="button" className="btn tiny" aria-label={`Remove ${what} ${i + 1}`} onClick={() => onChange(rows.filter((_, k) => k !== i))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" className="btn small" onClick={() => onChange([...rows, { name: '', value: '' }])}>
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

/** The backtest under the editor: the current draft, replayed over the last 1, 3 or 7 days. */
function Backtest({ draft, interval, unit }: { draft: RuleDraft; interval: string; unit: string }) {
  const [days, setDays] = useState<number>(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ r: BacktestResponse; days: number; at: number } | null>(null);
  const run = async (n: number) => {
    setDays(n);
    setBusy(true);
    setError(null);
    try {
      const body: BacktestRequest = { rule: ruleOf(draft), interval: interval.trim() || undefined, days: n };
      setResult({ r: await api<BacktestResponse>('/api/v1/rules/backtest', { method: 'POST', body }), days: n, at: Date.now() });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const r = result?.r;
  return (
    <Panel
      title="Backtest"
      className="backtest"
      actions={
        <div className="row-actions">
          <span className="muted small">Backtest last</span>
          <div className="seg" role="group" aria-label="backtest days">
            {DAYS.map((n) => (
              <button key={n} type="button" className={days === n ? 'on' : ''} aria-pressed={days === n} disabled={busy} onClick={() => void run(n)}>
                {n} {n === 1 ? 'day' : 'days'}
              </button>
            ))}
          </div>
          <button type="button" className="btn primary small" disabled={busy} onClick={() => void run(days)}>
            {busy ? 'Replaying…' : result ? 'Run again' : 'Run backtest'}
          </button>
        </div>
      }
    >
      {!result && !error && !busy && <p className="muted">Replays this draft (saved or not) over stored data and shows when it would have fired, for how long, and how many notifications it would have sent.</p>}
      {busy && <Loading what={`Replaying the last ${days} ${days === 1 ? 'day' : 'days'}`} />}
      {error && (
        <div className="form-error" role="alert">
          {error}
        </div>
      )}
      {r && result && !busy && (
        <>
          <p className="backtest-summary" data-testid="backtest-summary">
            Over the last {result.days} {result.days === 1 ? 'day' : 'days'} this rule <strong>{backtestSummary(r)}</strong>
            <span className="muted small">
              {' '}
              · {r.evaluations.toLocaleString('en-US')} evaluations every {humanizeDuration(r.step * 1000)} from {fmtTime(r.from, true)} to {fmtTime(r.to, true)}
            </span>
          </p>
          <BacktestChart result={r} unit={unit} />
          {r.firings.length > 0 && (
            <SortTable
              label="backtest firings"
              rows={r.firings}
              rowKey={(f, i) => `${f.start}${i}`}
              initialSort="start"
              columns={[
                { key: 'start', label: 'Would have fired', value: (f) => -Date.parse(f.start), render: (f) => fmtTime(f.start, true) },
                {
                  key: 'duration',
                  label: 'For',
                  numeric: true,
                  value: (f) => (f.end ? Date.parse(f.end) : Date.parse(r.to)) - Date.parse(f.start),
                  render: (f) => (f.end ? humanizeDuration(Date.parse(f.end) - Date.parse(f.start)) : `${humanizeDuration(Date.parse(r.to) - Date.parse(f.start))}, still firing`),
                },
                { key: 'peak', label: 'Peak', numeric: true, render: (f) => fmtAlertValue(f.peak, unit) },
                { key: 'labels', label: 'Labels', grow: true, value: (f) => labelPairs(f.labels).join(' '), render: (f) => <LabelChips labels={f.labels} /> },
              ]}
            />
          )}
        </>
      )}
    </Panel>
  );
}
