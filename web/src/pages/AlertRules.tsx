/**
 * Alert rules by group (`/api/v1/rules`): state, health with the evaluation error, flapping, last
 * evaluation and the file and line each rule comes from. Rule files with errors are listed first:
 * they stay loaded at their last good version until fixed.
 */
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { fileErrorText, humanizeDuration, promDuration } from '../alert-format.ts';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { fmt, fmtAgo, fmtTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { AlertsNav, AlertStateBadge, ruleHref } from './Alerts.tsx';
import type { PromAlertingRule, PromRuleGroup, PromRulesResponse } from '../../../src/api/contract.ts';

const SHOW = ['all', 'firing', 'pending', 'errors', 'flapping'] as const;
type Show = (typeof SHOW)[number];

/** Prometheus's zero time means "never evaluated". */
function evaluated(iso: string): boolean {
  const t = Date.parse(iso);
  return !Number.isNaN(t) && t > 0;
}

function keep(r: PromAlertingRule, show: Show, text: string): boolean {
  if (show === 'firing' && r.state !== 'firing') return false;
  if (show === 'pending' && r.state !== 'pending') return false;
  if (show === 'errors' && r.health !== 'err') return false;
  if (show === 'flapping' && !r.flapping) return false;
  if (!text) return true;
  const hay = `${r.name} ${r.query} ${r.file} ${Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`.toLowerCase();
  return hay.includes(text.toLowerCase());
}

/** `/alerts/rules`. */
export function AlertRules() {
  const { canWrite } = useAuth();
  const [sp, setSp] = useSearchParams();
  const [text, setText] = useState('');
  const show = (SHOW as readonly string[]).includes(sp.get('show') ?? '') ? (sp.get('show') as Show) : 'all';
  const d = useLoad((signal) => api<PromRulesResponse>('/api/v1/rules', { signal }), [], 10_000);
  const groups = d.data?.data.groups ?? [];
  const fileErrors = d.data?.data.fileErrors ?? [];
  const allRules = groups.flatMap((g) => g.rules);
  const count = (s: Show) => allRules.filter((r) => keep(r, s, '')).length;
  const shown = groups.map((g) => ({ ...g, rules: g.rules.filter((r) => keep(r, show, text.trim())) })).filter((g) => g.rules.length > 0);

  return (
    <>
      <PageHead title="Alert rules" sub="Prometheus-format rule files in the rules directory, and rules made here (saved to ui.yml). A change to a file shows here at once.">
        {canWrite && (
          <Link className="btn primary" to="/alerts/rules/new">
            New rule
          </Link>
        )}
      </PageHead>
      <AlertsNav />
      {fileErrors.length > 0 && (
        <Panel title="Rule files with errors (kept at their last good version)" className="file-errors">
          {fileErrors.map((e, i) => (
            <p key={i} className="bad-text mono" data-testid="rule-file-error">
              {fileErrorText(e)}
            </p>
          ))}
        </Panel>
      )}
      <div className="filters">
        <div className="seg" role="group" aria-label="show">
          {SHOW.map((s) => (
            <button
              key={s}
              type="button"
              className={show === s ? 'on' : ''}
              aria-pressed={show === s}
              onClick={() =>
                setSp((p) => {
                  const n = new URLSearchParams(p);
                  if (s === 'all') n.delete('show');
                  else n.set('show', s);
                  return n;
                })
              }
            >
              {s[0]!.toUpperCase()}
              {s.slice(1)} {count(s)}
            </button>
          ))}
        </div>
        <label className="grow">
          <input aria-label="Find rules" placeholder="Find by name, query, file or label" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
      </div>
      {d.error && <ErrorState error={d.error} retry={d.reload} />}
      {!d.data && !d.error && <Loading what="Loading rules" />}
      {d.data && allRules.length === 0 && (
        <Panel>
          <Empty title="No alert rules yet." action={canWrite ? <Link to="/alerts/rules/new">Create a rule</Link> : undefined}>
            Put Prometheus-format rule files (<code>groups: [{'{'}name, rules: [{'{'}alert, expr, for, labels, annotations{'}'}]{'}'}]</code>) in the rules directory
            (<code>alerting.rulesDir</code>, default <code>&lt;data dir&gt;/rules</code>), or create one here. See docs/alerting.md.
          </Empty>
        </Panel>
      )}
      {d.data && allRules.length > 0 && shown.length === 0 && (
        <Panel>
          <Empty title="No rules match.">Clear the search or choose another filter.</Empty>
        </Panel>
      )}
      {shown.map((g) => (
        <GroupPanel key={`${g.file}\u0000${g.name}`} group={g} />
      ))}
    </>
  );
}

function GroupPanel({ group: g }: { group: PromRuleGroup }) {
  const firing = g.rules.filter((r) => r.state === 'firing').length;
  return (
    <Panel
      title={
        <>
          {g.name} <span className="muted small">· {g.file} · every {promDuration(g.interval * 1000)}{firing ? ` · ${firing} firing` : ''}</span>
        </>
      }
      actions={<span className="muted small">{evaluated(g.lastEvaluation) ? `evaluated ${fmtAgo(g.lastEvaluation)} in ${fmt(g.evaluationTime * 1000, 'ms')}` : 'not evaluated yet'}</span>}
    >
      <SortTable
        label={`rules of ${g.name}`}
        rows={g.rules}
        rowKey={(r) => r.id}
        initialSort="state"
        columns={[
          {
            key: 'state',
            label: 'State',
            value: (r) => ['firing', 'pending', 'inactive'].indexOf(r.state),
            render: (r) => (
              <span className="nowrap">
                <AlertStateBadge state={r.state} />
                {r.alerts.length > 0 && <span className="muted small"> {r.alerts.length}</span>}
              </span>
            ),
          },
          {
            key: 'name',
            label: 'Rule',
            grow: true,
            render: (r) => (
              <div className="rule-cell">
                <Link to={ruleHref(r.id)}>{r.name}</Link>
                <code className="muted small" title={r.query}>
                  {r.source === 'query' ? r.query : `${r.source}: ${r.query}`}
                  {r.condition ? ` · when ${r.condition}` : ''}
                </code>
              </div>
            ),
          },
          {
            key: 'duration',
            label: 'For',
            numeric: true,
            title: 'How long the condition must hold before the alert fires (and the window each evaluation reads)',
            render: (r) => (
              <span className="nowrap" title={`reads the last ${promDuration(r.range * 1000)}${r.keepFiringFor ? `; keeps firing ${promDuration(r.keepFiringFor * 1000)} after it stops holding` : ''}`}>
                {r.duration ? humanizeDuration(r.duration * 1000) : 'at once'}
              </span>
            ),
          },
          {
            key: 'health',
            label: 'Health',
            value: (r) => (r.health === 'err' ? 0 : r.health === 'unknown' ? 1 : 2),
            render: (r) => (
              <div>
                <span className={`badge ${r.health === 'ok' ? 'ok' : r.health === 'err' ? 'bad' : ''}`}>{r.health}</span>
                {r.lastError && (
                  <div className="bad-text small" data-testid="rule-error">
                    {r.lastError}
                  </div>
                )}
              </div>
            ),
          },
          {
            key: 'flapsPerHour',
            label: 'Flaps',
            numeric: true,
            title: 'Firing↔resolved changes over the last hour; a flapping rule does not notify on every change',
            render: (r) =>
              r.flapping ? (
                <span className="badge warn" data-testid="flapping">
                  flapping · {r.flapsPerHour}/h
                </span>
              ) : r.flapsPerHour ? (
                `${r.flapsPerHour}/h`
              ) : (
                '—'
              ),
          },
          {
            key: 'lastEvaluation',
            label: 'Evaluated',
            value: (r) => (evaluated(r.lastEvaluation) ? -Date.parse(r.lastEvaluation) : null),
            render: (r) => (evaluated(r.lastEvaluation) ? <span title={`${fmtTime(r.lastEvaluation, true)} · took ${fmt(r.evaluationTime * 1000, 'ms')}`}>{fmtAgo(r.lastEvaluation)}</span> : <span className="muted">not yet</span>),
          },
          { key: 'file', label: 'Defined in', value: (r) => `${r.file}:${String(r.line ?? 0).padStart(6, '0')}`, render: (r) => <span className="mono small">{r.line === null ? r.file : `${r.file}:${r.line}`}</span> },
        ]}
      />
    </Panel>
  );
}
