/**
 * Silences (Alertmanager API v2): create one from matchers (`alertname="X" service_name=~"rms.*"`), a
 * duration and a comment, seeing while typing which current alerts it would silence (matched here with
 * the notifier's own matcher code); list active, pending and expired silences; expire one.
 */
import { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { amMatchersText, humanizeDuration, labelKey, matchesLabels, parsePromDuration, parseSilenceMatchers, silenceSelects, toAmMatchers, type Matcher } from '../alert-format.ts';
import { ConfirmButton, Field, FormError } from '../components/Field.tsx';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { fmtTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { AlertsNav, AlertStateBadge, LabelChips } from './Alerts.tsx';
import type { AlertLabels, AmGettableAlert, AmGettableSilence, AmPostableSilence, PromAlertsResponse } from '../../../src/api/contract.ts';

const STATES = ['active', 'pending', 'expired'] as const;
type SilenceState = (typeof STATES)[number];
const QUICK = ['1h', '2h', '4h', '1d', '1w'];

/** A current alert a silence could match. */
interface Current {
  labels: AlertLabels;
  state: string;
}

/** Every alert known now: rule alerts (pending and firing) and alerts the notifier holds from other tools. */
function currentAlerts(prom: PromAlertsResponse | undefined, am: AmGettableAlert[] | undefined): Current[] {
  const out = new Map<string, Current>();
  for (const a of prom?.data.alerts ?? []) out.set(labelKey(a.labels), { labels: a.labels, state: a.state });
  for (const a of am ?? []) if (!out.has(labelKey(a.labels))) out.set(labelKey(a.labels), { labels: a.labels, state: 'firing' });
  return [...out.values()];
}

function endsText(s: AmGettableSilence, now: number): string {
  const end = Date.parse(s.endsAt);
  return end > now ? `in ${humanizeDuration(end - now)}` : `${humanizeDuration(now - end)} ago`;
}

/** `/alerts/silences`. */
export function Silences() {
  const { canWrite, user } = useAuth();
  const [sp] = useSearchParams();
  const list = useLoad((signal) => api<AmGettableSilence[]>('/api/v2/silences', { signal }), [], 10_000);
  const prom = useLoad((signal) => api<PromAlertsResponse>('/api/v1/alerts', { signal }), [], 10_000);
  const am = useLoad((signal) => api<AmGettableAlert[]>('/api/v2/alerts', { signal }), [], 10_000);
  const [show, setShow] = useState<SilenceState>('active');
  const [matchers, setMatchers] = useState(sp.get('matchers') ?? '');
  const [duration, setDuration] = useState('2h');
  const [comment, setComment] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const now = Date.now();
  const current = useMemo(() => currentAlerts(prom.data, am.data), [prom.data, am.data]);

  let parsed: Matcher[] | null = null;
  let matcherError: string | undefined;
  if (matchers.trim()) {
    try {
      parsed = parseSilenceMatchers(matchers);
    } catch (e) {
      matcherError = (e as Error).message;
    }
  }
  const durationMs = parsePromDuration(duration);
  const would = parsed ? current.filter((a) => matchesLabels(parsed!, a.labels)) : [];
  const silences = list.data ?? [];
  const counts = Object.fromEntries(STATES.map((s) => [s, silences.filter((x) => x.status.state === s).length])) as Record<SilenceState, number>;
  const rows = silences.filter((s) => s.status.state === show);

  const create = async () => {
    const errs: Record<string, string> = {};
    if (!parsed) errs.matchers = matcherError ?? 'add at least one matcher, e.g. alertname="HighErrorRate"';
    if (durationMs === null || durationMs <= 0) errs.duration = 'a duration such as 30m, 2h or 1d';
    if (!comment.trim()) errs.comment = 'say why (the on-call after you will read it)';
    setErrors(errs);
    setCreated(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      const start = Date.now();
      const body: AmPostableSilence = { matchers: toAmMatchers(parsed!), startsAt: new Date(start).toISOString(), endsAt: new Date(start + durationMs!).toISOString(), createdBy: user?.username ?? 'web', comment: comment.trim() };
      const out = await api<{ silenceID: string }>('/api/v2/silences', { method: 'POST', body });
      setCreated(out.silenceID);
      setMatchers('');
      setComment('');
      setShow('active');
      list.reload();
      am.reload();
    } catch (e) {
      setErrors({ _form: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  const expire = (id: string) =>
    api<void>(`/api/v2/silence/${encodeURIComponent(id)}`, { method: 'DELETE' }).then(
      () => {
        list.reload();
        am.reload();
      },
      (e: Error) => setErrors({ _form: e.message }),
    );

  return (
    <>
      <PageHead title="Silences" sub="A silence stops notifications for the alerts its matchers select, for a while. Alerts still show, marked silenced." />
      <AlertsNav />
      {canWrite && (
        <Panel title="New silence">
          <form
            className="form"
            aria-label="new silence"
            onSubmit={(e) => {
              e.preventDefault();
              void create();
            }}
          >
            <Field label="Matchers" error={errors.matchers ?? matcherError} hint={'Label matchers, all must hold: name="value", name!="value", name=~"regex", name!~"regex" (regexes match the whole value).'}>
              <input className="mono" value={matchers} onChange={(e) => setMatchers(e.target.value)} placeholder='alertname="RmsHighErrorRate" service_name=~"rms.*"' />
            </Field>
            <div className="row">
              <Field label="Duration" error={errors.duration ?? (duration.trim() && durationMs === null ? 'a duration such as 30m, 2h or 1d' : undefined)} className="narrow-field">
                <input className="short" value={duration} onChange={(e) => setDuration(e.target.value)} />
              </Field>
              <div className="row-actions quick">
                {QUICK.map((q) => (
                  <button key={q} type="button" className={`chip ${duration === q ? 'on' : ''}`} onClick={() => setDuration(q)}>
                    {q}
                  </button>
                ))}
                {durationMs !== null && durationMs > 0 && <span className="muted small">until {fmtTime(now + durationMs, true).slice(0, 16)}</span>}
              </div>
              <Field label="Comment" error={errors.comment}>
                <input value={comment} onChange={(e) => setComment(e.target.value)} placeholder="Deploying the payment fix; INC-42" />
              </Field>
            </div>
            <div className="silence-preview" data-testid="silence-preview">
              {!parsed ? (
                <span className="muted small">Type matchers to see which of the {current.length} current alert{current.length === 1 ? '' : 's'} it would silence.</span>
              ) : (
                <>
                  <strong>
                    Would silence {would.length} of {current.length} current alert{current.length === 1 ? '' : 's'}
                  </strong>
                  {would.length === 0 && <span className="muted small"> — none match now; it will still apply to alerts that start while it is active.</span>}
                  <ul className="plain-list">
                    {would.slice(0, 20).map((a) => (
                      <li key={labelKey(a.labels)}>
                        <AlertStateBadge state={a.state} /> <strong>{a.labels.alertname ?? '(no name)'}</strong> <LabelChips labels={a.labels} />
                      </li>
                    ))}
                    {would.length > 20 && <li className="muted">and {would.length - 20} more</li>}
                  </ul>
                </>
              )}
            </div>
            <FormError error={errors._form} />
            <div className="row form-actions">
              <button className="btn primary" type="submit" disabled={busy}>
                {busy ? 'Creating…' : 'Create silence'}
              </button>
              {created && (
                <span className="form-ok" data-testid="silence-created">
                  Silence {created} created.
                </span>
              )}
            </div>
          </form>
        </Panel>
      )}
      <div className="filters">
        <div className="seg" role="group" aria-label="silence state">
          {STATES.map((s) => (
            <button key={s} type="button" className={show === s ? 'on' : ''} aria-pressed={show === s} onClick={() => setShow(s)}>
              {s[0]!.toUpperCase()}
              {s.slice(1)} {counts[s]}
            </button>
          ))}
        </div>
      </div>
      <Panel>
        {list.error && <ErrorState error={list.error} retry={list.reload} />}
        {!list.data && !list.error && <Loading what="Loading silences" />}
        {list.data && rows.length === 0 && (
          <Empty title={`No ${show} silences.`}>
            {show === 'active' ? (canWrite ? 'Create one above, or from an alert with Silence… on the alerts page. amtool works too: amtool silence add --alertmanager.url=<this Vigil>.' : 'Responders and admins create silences.') : show === 'pending' ? 'A silence whose start is in the future waits here.' : 'Expired silences stay listed for a while after they end.'}
          </Empty>
        )}
        {rows.length > 0 && (
          <SortTable
            label="silences"
            rows={rows}
            rowKey={(s) => s.id}
            initialSort="ends"
            columns={[
              { key: 'state', label: 'State', value: (s) => s.status.state, render: (s) => <span className={`badge ${s.status.state === 'active' ? 'warn' : ''}`}>{s.status.state}</span> },
              {
                key: 'matchers',
                label: 'Matchers',
                grow: true,
                value: (s) => amMatchersText(s.matchers).join(' '),
                render: (s) => (
                  <span className="label-chips" title={amMatchersText(s.matchers).join(' ')}>
                    {amMatchersText(s.matchers).map((m) => (
                      <code key={m} className="label-chip">
                        {m}
                      </code>
                    ))}
                  </span>
                ),
              },
              {
                key: 'matching',
                label: 'Silencing now',
                numeric: true,
                title: 'Current alerts its matchers select',
                value: (s) => current.filter((a) => silenceSelects(s, a.labels)).length,
                render: (s) => (s.status.state === 'expired' ? '—' : String(current.filter((a) => silenceSelects(s, a.labels)).length)),
              },
              { key: 'starts', label: 'Starts', value: (s) => Date.parse(s.startsAt), render: (s) => <span className="nowrap">{fmtTime(s.startsAt, true).slice(0, 19)}</span> },
              { key: 'ends', label: 'Ends', value: (s) => Date.parse(s.endsAt), render: (s) => <span title={fmtTime(s.endsAt, true)} className="nowrap">{endsText(s, now)}</span> },
              { key: 'createdBy', label: 'By' },
              { key: 'comment', label: 'Comment', render: (s) => <span title={s.comment}>{s.comment}</span> },
              {
                key: 'actions',
                label: '',
                value: () => null,
                render: (s) =>
                  !canWrite ? null : s.status.state === 'expired' ? (
                    <button
                      type="button"
                      className="btn small"
                      onClick={() => {
                        setMatchers(amMatchersText(s.matchers).join(' '));
                        setComment(s.comment);
                        window.scrollTo({ top: 0, behavior: 'smooth' });
                      }}
                    >
                      Recreate
                    </button>
                  ) : (
                    <ConfirmButton label="Expire" confirm={`Expire now`} onConfirm={() => void expire(s.id)} />
                  ),
              },
            ]}
          />
        )}
      </Panel>
    </>
  );
}
