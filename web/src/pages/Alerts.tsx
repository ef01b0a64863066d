/**
 * What fires now: pending, firing, silenced and inhibited alerts with their values and durations.
 * Values and states come from Prometheus's `/api/v1/alerts`; whether the notifier silences or
 * inhibits an alert comes from Alertmanager's `/api/v2/alerts`, joined by fingerprint (else by label
 * set). Alerts posted by other tools appear from the second only. Refreshes every 5 s.
 */
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { fmtAlertValue, labelKey, labelPairs, matchersForLabels, matchesLabels, parseSilenceMatchers, since, valueUnit, type Matcher } from '../alert-format.ts';
import { PageHead, SubNav } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { fmtTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import type { AlertLabels, AmGettableAlert, PromAlert, PromAlertsResponse, PromRulesResponse } from '../../../src/api/contract.ts';

/**
 * The editor's address of a rule. Rule ids hold their file name (`rms.yml:rms:HighErrorRate`), and the
 * server answers a path whose last segment has a dot as a missing file, not with the app: the id is
 * followed by `/edit`, so a reload or a bookmark opens the rule.
 */
export function ruleHref(id: string): string {
  return `/alerts/rules/${encodeURIComponent(id)}/edit`;
}

/** The alerting section's tabs. */
export function AlertsNav() {
  return (
    <SubNav
      label="alerting"
      items={[
        { to: '/alerts', label: 'Alerts', end: true },
        { to: '/alerts/rules', label: 'Rules' },
        { to: '/alerts/silences', label: 'Silences' },
        { to: '/alerts/notifications', label: 'Notifications' },
      ]}
    />
  );
}

type RowState = 'firing' | 'pending' | 'silenced' | 'inhibited';
const STATE_ORDER: RowState[] = ['firing', 'pending', 'inhibited', 'silenced'];

/** A state as a coloured badge. */
export function AlertStateBadge({ state }: { state: string }) {
  const cls = state === 'firing' ? 'bad' : state === 'pending' ? 'warn' : state === 'inactive' ? 'ok' : '';
  return <span className={`badge ${cls}`}>{state}</span>;
}

/** Labels as chips (text only: label values are telemetry). */
export function LabelChips({ labels, omit = ['alertname'] }: { labels: AlertLabels; omit?: string[] }) {
  return (
    <span className="label-chips">
      {labelPairs(labels, omit).map(([k, v]) => (
        <span key={k} className="label-chip" title={`${k}="${v}"`}>
          <em>{k}</em>={v}
        </span>
      ))}
    </span>
  );
}

interface Row {
  key: string;
  state: RowState;
  labels: AlertLabels;
  annotations: AlertLabels;
  value: string;
  unit: string;
  /** When it began firing (pending: when the condition began to hold). */
  since: string | null;
  ruleId: string | null;
  flapping: boolean;
  silencedBy: string[];
  inhibitedBy: string[];
}

function rowsOf(prom: PromAlert[], am: AmGettableAlert[] | undefined, units: Map<string, string>, now: number): Row[] {
  const amBy = new Map<string, AmGettableAlert>();
  for (const a of am ?? []) {
    amBy.set(a.fingerprint, a);
    amBy.set(labelKey(a.labels), a);
  }
  const used = new Set<AmGettableAlert>();
  const rows: Row[] = prom.map((a) => {
    const n = amBy.get(a.fingerprint) ?? amBy.get(labelKey(a.labels));
    if (n) used.add(n);
    const silencedBy = n?.status.silencedBy ?? [];
    const inhibitedBy = n?.status.inhibitedBy ?? [];
    const state: RowState = a.state === 'pending' ? 'pending' : silencedBy.length ? 'silenced' : inhibitedBy.length ? 'inhibited' : 'firing';
    return {
      key: a.fingerprint || labelKey(a.labels),
      state,
      labels: a.labels,
      annotations: a.annotations,
      value: a.value,
      unit: units.get(a.ruleId) ?? 'none',
      since: a.state === 'firing' ? (a.firedAt ?? a.activeAt) : a.activeAt,
      ruleId: a.ruleId || null,
      flapping: a.flapping,
      silencedBy,
      inhibitedBy,
    };
  });
  // Alerts the notifier holds that no rule here produced: posted by other tools through the API.
  for (const a of am ?? []) {
    if (used.has(a) || Date.parse(a.endsAt) <= now) continue;
    // Open incidents are held by the notifier as VigilIncident alerts (so receivers hear of them); they
    // are listed on the Incidents page, not here among the alerts that point at them.
    if (a.labels.alertname === 'VigilIncident') continue;
    used.add(a);
    rows.push({
      key: a.fingerprint,
      state: a.status.silencedBy.length ? 'silenced' : a.status.inhibitedBy.length ? 'inhibited' : 'firing',
      labels: a.labels,
      annotations: a.annotations,
      value: '',
      unit: 'none',
      since: a.startsAt,
      ruleId: null,
      flapping: false,
      silencedBy: a.status.silencedBy,
      inhibitedBy: a.status.inhibitedBy,
    });
  }
  return rows;
}

/** `/alerts`. */
export function Alerts() {
  const { canWrite } = useAuth();
  const [sp, setSp] = useSearchParams();
  const prom = useLoad((signal) => api<PromAlertsResponse>('/api/v1/alerts', { signal }), [], 5_000);
  const am = useLoad((signal) => api<AmGettableAlert[]>('/api/v2/alerts', { signal }), [], 5_000);
  const rules = useLoad((signal) => api<PromRulesResponse>('/api/v1/rules', { signal }), [], 30_000);
  const [filter, setFilter] = useState(sp.get('filter') ?? '');
  const show = (sp.get('state') ?? 'all') as RowState | 'all';
  const now = Date.now();

  const units = useMemo(() => {
    const m = new Map<string, string>();
    for (const g of rules.data?.data.groups ?? []) for (const r of g.rules) m.set(r.id, valueUnit(r.source, r.query));
    return m;
  }, [rules.data]);
  const ruleCount = rules.data?.data.groups.reduce((n, g) => n + g.rules.length, 0);
  // Recomputed on each answer (every 5 s), which also moves `now` on for the durations.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const all = useMemo(() => (prom.data ? rowsOf(prom.data.data.alerts, am.data, units, Date.now()) : []), [prom.data, am.data, units]);

  let matchers: Matcher[] = [];
  let filterError: string | null = null;
  if (filter.trim()) {
    try {
      matchers = parseSilenceMatchers(filter);
    } catch (e) {
      filterError = (e as Error).message;
    }
  }
  const filtered = all.filter((r) => matchesLabels(matchers, r.labels));
  const counts = Object.fromEntries(STATE_ORDER.map((s) => [s, filtered.filter((r) => r.state === s).length])) as Record<RowState, number>;
  const rows = show === 'all' ? filtered : filtered.filter((r) => r.state === show);
  const setShow = (s: string) =>
    setSp((p) => {
      const n = new URLSearchParams(p);
      if (s === 'all') n.delete('state');
      else n.set('state', s);
      return n;
    });

  return (
    <>
      <PageHead title="Alerts" sub={prom.data ? `Refreshes every 5 s · updated ${fmtTime(now)}` : 'What fires now, from the alert rules and from tools that post alerts.'}>
        {canWrite && (
          <Link className="btn" to="/alerts/silences">
            New silence
          </Link>
        )}
      </PageHead>
      <AlertsNav />
      <div className="filters alert-filters">
        <div className="seg" role="group" aria-label="state">
          {(['all', ...STATE_ORDER] as const).map((s) => (
            <button key={s} type="button" className={show === s ? 'on' : ''} aria-pressed={show === s} onClick={() => setShow(s)}>
              {s === 'all' ? `All ${filtered.length}` : `${s[0]!.toUpperCase()}${s.slice(1)} ${counts[s]}`}
            </button>
          ))}
        </div>
        <label className="grow">
          <input aria-label="Filter alerts by label" placeholder='Filter by labels: severity="critical" service_name=~"rms.*"' value={filter} onChange={(e) => setFilter(e.target.value)} className="mono" />
          {filterError && <span className="field-error">{filterError}</span>}
        </label>
      </div>
      {am.error && <p className="muted small">The notifier's view did not load ({am.error.message}): silenced alerts show as firing.</p>}
      <Panel>
        {prom.error && <ErrorState error={prom.error} retry={prom.reload} />}
        {!prom.data && !prom.error && <Loading what="Loading alerts" />}
        {prom.data && all.length === 0 && (
          <Empty title="Nothing is firing." action={<Link to="/alerts/rules">See the rules</Link>}>
            {ruleCount === 0
              ? 'No alert rules are loaded. Put Prometheus-format rule files in the rules directory (alerting.rulesDir, default <data dir>/rules) or create a rule under Rules.'
              : `${ruleCount ?? 'The'} rule${ruleCount === 1 ? ' is' : 's are'} evaluated as data arrives; an alert shows here the moment its condition holds (pending), and fires once it has held for its "for".`}
          </Empty>
        )}
        {prom.data && all.length > 0 && rows.length === 0 && <Empty title="No alerts match.">Clear the filter or choose another state.</Empty>}
        {rows.length > 0 && (
          <SortTable
            label="alerts"
            rows={rows}
            rowKey={(r) => r.key}
            initialSort="state"
            columns={[
              { key: 'state', label: 'State', value: (r) => STATE_ORDER.indexOf(r.state) * 1e13 + (Date.parse(r.since ?? '') || 0) / 1e3, render: (r) => <AlertStateBadge state={r.state} /> },
              {
                key: 'alertname',
                label: 'Alert',
                value: (r) => r.labels.alertname ?? '',
                render: (r) => (
                  <span className="alert-name">
                    {r.ruleId ? <Link to={ruleHref(r.ruleId)}>{r.labels.alertname ?? '(no name)'}</Link> : <span title="Posted to /api/v2/alerts by another tool">{r.labels.alertname ?? '(no name)'}</span>}
                    {r.flapping && (
                      <span className="badge warn" title="Changing state often: notifications are damped">
                        flapping
                      </span>
                    )}
                  </span>
                ),
              },
              { key: 'labels', label: 'Labels', value: (r) => labelPairs(r.labels, ['alertname']).join(' '), render: (r) => <LabelChips labels={r.labels} /> },
              {
                key: 'value',
                label: 'Value',
                numeric: true,
                value: (r) => (r.value === '' ? null : Number(r.value)),
                render: (r) => (
                  <span data-testid="alert-value" data-value={r.value} title={r.value}>
                    {fmtAlertValue(r.value, r.unit)}
                  </span>
                ),
              },
              {
                key: 'since',
                label: 'For',
                value: (r) => (r.since ? -Date.parse(r.since) || null : null),
                render: (r) => (
                  <span className="nowrap" title={r.since ? fmtTime(r.since, true) : undefined}>
                    {r.state === 'pending' ? 'pending' : 'firing'} for {since(r.since, now)}
                  </span>
                ),
              },
              {
                key: 'summary',
                label: 'Summary',
                grow: true,
                value: (r) => r.annotations.summary ?? r.annotations.description ?? '',
                render: (r) => {
                  const text = r.annotations.summary ?? r.annotations.description ?? '';
                  return (
                    <span title={text}>
                      {r.state === 'silenced' && (
                        <Link to="/alerts/silences" className="muted small">
                          silenced by {r.silencedBy.length} silence{r.silencedBy.length === 1 ? '' : 's'} ·{' '}
                        </Link>
                      )}
                      {r.state === 'inhibited' && <span className="muted small">inhibited by a firing alert · </span>}
                      {text}
                    </span>
                  );
                },
              },
              {
                key: 'actions',
                label: '',
                value: () => null,
                render: (r) =>
                  canWrite && r.state !== 'silenced' ? (
                    <Link className="btn small" to={`/alerts/silences?matchers=${encodeURIComponent(matchersForLabels(r.labels))}`}>
                      Silence…
                    </Link>
                  ) : null,
              },
            ]}
          />
        )}
      </Panel>
    </>
  );
}
