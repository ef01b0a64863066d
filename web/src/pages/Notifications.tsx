/**
 * Notification settings: the Alertmanager-format configuration (route tree, inhibit rules, time
 * intervals, receivers) as YAML — secrets masked for non-admins, read-only for viewers — saved with
 * errors by line; each receiver with a "Send test" button and its per-integration results; and the
 * delivery log of every notification sent.
 */
import { useRef, useState } from 'react';
import { api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { fileErrorText } from '../alert-format.ts';
import { FormError } from '../components/Field.tsx';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { fmt, fmtTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { AlertsNav } from './Alerts.tsx';
import type { AlertingFileError, DeliveriesResponse, NotificationConfigResponse, ReceiverTestResponse } from '../../../src/api/contract.ts';

const CONFIG = '/api/v1/alerting/notifications';

/** Line numbers a message names (`alertmanager.yml:12: …`, `line 12`), for "go to line". */
function linesOf(message: string): number[] {
  const out = new Set<number>();
  for (const m of message.matchAll(/(?::(\d+):|\bline (\d+)\b)/g)) out.add(Number(m[1] ?? m[2]));
  return [...out];
}

/** `/alerts/notifications`. */
export function Notifications() {
  const cfg = useLoad((signal) => api<NotificationConfigResponse>(CONFIG, { signal }), []);
  // A save answers with the new settings: shown at once, without reloading the editor.
  const [saved, setSaved] = useState<NotificationConfigResponse | null>(null);
  const current = saved ?? cfg.data;
  return (
    <>
      <PageHead title="Notifications" sub="Where alerts go: Alertmanager's configuration format (route, inhibit_rules, time_intervals, receivers), so an existing alertmanager.yml works as it is." />
      <AlertsNav />
      {cfg.error && <ErrorState error={cfg.error} retry={cfg.reload} />}
      {!cfg.data && !cfg.error && <Loading what="Loading the notification settings" />}
      {current && <ConfigEditor key={current.file} config={current} onSaved={setSaved} />}
      {current && <Receivers receivers={current.receivers} />}
      <Deliveries />
    </>
  );
}

function ConfigEditor({ config, onSaved }: { config: NotificationConfigResponse; onSaved: (c: NotificationConfigResponse) => void }) {
  const { canWrite, user } = useAuth();
  const [text, setText] = useState(config.yaml);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const ta = useRef<HTMLTextAreaElement>(null);
  const changed = text !== config.yaml;
  const goTo = (line: number) => {
    const el = ta.current;
    if (!el) return;
    const lines = text.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    el.focus();
    el.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
    // Scroll the line into view: the textarea's line height times the lines above it, less a few.
    el.scrollTop = Math.max(0, (line - 4) * (parseFloat(getComputedStyle(el).lineHeight) || 18));
  };
  const save = async () => {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const next = await api<NotificationConfigResponse>(CONFIG, { method: 'PUT', body: { yaml: text } });
      setSaved(Date.now());
      // The saved text as the server shows it (secrets masked again for non-admins).
      setText(next.yaml);
      onSaved(next);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const errorLines = error ? linesOf(error) : [];
  return (
    <Panel title={`Configuration (${config.file})`}>
      {config.errors.length > 0 && <FileErrors errors={config.errors} goTo={goTo} title="The file has errors; the last good version is in use:" />}
      {user?.role !== 'admin' && <p className="muted small">Secrets (passwords, API keys, webhook and routing keys) show as masks for your role; a mask left as it is keeps the saved secret.</p>}
      {!canWrite && <p className="muted small">Your role can read the configuration but not change it.</p>}
      <textarea
        ref={ta}
        className="mono config-yaml"
        aria-label="notification configuration"
        spellCheck={false}
        rows={Math.min(40, Math.max(14, text.split('\n').length + 1))}
        value={text}
        readOnly={!canWrite}
        onChange={(e) => setText(e.target.value)}
      />
      {error && (
        <div className="form-error" role="alert" data-testid="config-error">
          {error}
          {errorLines.map((l) => (
            <button key={l} type="button" className="btn tiny" onClick={() => goTo(l)}>
              go to line {l}
            </button>
          ))}
        </div>
      )}
      {canWrite && (
        <div className="row form-actions">
          <button type="button" className="btn primary" disabled={busy || !changed} onClick={() => void save()}>
            {busy ? 'Saving…' : 'Save'}
          </button>
          <button type="button" className="btn" disabled={busy || !changed} onClick={() => setText(config.yaml)}>
            Discard changes
          </button>
          {saved && <span className="form-ok">Saved at {fmtTime(saved)}; new notifications follow it.</span>}
        </div>
      )}
    </Panel>
  );
}

function FileErrors({ errors, goTo, title }: { errors: AlertingFileError[]; goTo: (line: number) => void; title: string }) {
  return (
    <div className="form-error" role="alert">
      {title}
      {errors.map((e, i) => (
        <div key={i} className="mono">
          {fileErrorText(e)}{' '}
          {e.line !== null && (
            <button type="button" className="btn tiny" onClick={() => goTo(e.line!)}>
              go to line {e.line}
            </button>
          )}
        </div>
      ))}
    </div>
  );
}

function Receivers({ receivers }: { receivers: NotificationConfigResponse['receivers'] }) {
  const { canWrite } = useAuth();
  return (
    <Panel title="Receivers">
      {receivers.length === 0 && <Empty title="No receivers.">Add one under receivers: in the configuration (webhook_configs, slack_configs, msteams_configs, email_configs or pagerduty_configs) and route alerts to it.</Empty>}
      <ul className="receivers">
        {receivers.map((r) => (
          <Receiver key={r.name} name={r.name} integrations={r.integrations} canTest={canWrite} />
        ))}
      </ul>
    </Panel>
  );
}

function Receiver({ name, integrations, canTest }: { name: string; integrations: string[]; canTest: boolean }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ReceiverTestResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const test = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api<ReceiverTestResponse>(`/api/v1/alerting/receivers/${encodeURIComponent(name)}/test`, { method: 'POST', body: {} }));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="receiver" data-testid="receiver" aria-label={`receiver ${name}`}>
      <div className="receiver-head">
        <strong>{name}</strong>
        <span className="label-chips">
          {integrations.length === 0 ? <span className="muted small">no integrations: alerts routed here are dropped</span> : integrations.map((i, k) => <span key={`${i}${k}`} className="label-chip">{i}</span>)}
        </span>
        {canTest && integrations.length > 0 && (
          <button type="button" className="btn small" disabled={busy} onClick={() => void test()}>
            {busy ? 'Sending…' : 'Send test'}
          </button>
        )}
      </div>
      {error && <div className="form-error">{error}</div>}
      {result && (
        <table className="table test-results" aria-label={`test of ${name}`}>
          <thead>
            <tr>
              <th>Integration</th>
              <th>Result</th>
              <th className="num">HTTP</th>
              <th className="num">Took</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {result.results.map((t, i) => (
              <tr key={i}>
                <td>{t.integration}</td>
                <td>
                  <span className={`badge ${t.ok ? 'ok' : 'bad'}`}>{t.ok ? 'delivered' : 'failed'}</span>
                </td>
                <td className="num">{t.status ?? '—'}</td>
                <td className="num">{fmt(t.ms, 'ms')}</td>
                <td className="bad-text">{t.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}

function Deliveries() {
  const d = useLoad((signal) => api<DeliveriesResponse>('/api/v1/alerting/deliveries', { signal }), [], 10_000);
  const [receiver, setReceiver] = useState('');
  const all = d.data?.deliveries ?? [];
  const names = [...new Set(all.map((x) => x.receiver))].sort();
  const rows = receiver ? all.filter((x) => x.receiver === receiver) : all;
  const failed = rows.filter((x) => x.status === 'failed').length;
  return (
    <Panel
      title={`Delivery log${d.data ? ` · ${rows.length} notification${rows.length === 1 ? '' : 's'}${failed ? ` · ${failed} failed` : ''}` : ''}`}
      actions={
        names.length > 1 && (
          <select aria-label="receiver" value={receiver} onChange={(e) => setReceiver(e.target.value)}>
            <option value="">every receiver</option>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        )
      }
    >
      {d.error && <ErrorState error={d.error} retry={d.reload} />}
      {!d.data && !d.error && <Loading what="Loading deliveries" />}
      {d.data && rows.length === 0 && <Empty title="Nothing delivered yet.">Every notification sent (and every attempt that failed after its retries) is listed here, newest first.</Empty>}
      {rows.length > 0 && (
        <SortTable
          label="deliveries"
          rows={rows}
          rowKey={(x) => String(x.id)}
          initialSort="at"
          columns={[
            { key: 'at', label: 'Time', value: (x) => -Date.parse(x.at), render: (x) => <span className="nowrap" title={fmtTime(x.at, true)}>{fmtTime(x.at, true).slice(5, 19)}</span> },
            { key: 'receiver', label: 'Receiver' },
            { key: 'integration', label: 'Integration' },
            { key: 'status', label: 'Status', render: (x) => <span className={`badge ${x.status === 'ok' ? 'ok' : 'bad'}`}>{x.status === 'ok' ? 'delivered' : 'failed'}</span> },
            { key: 'alerts', label: 'Alerts', value: (x) => x.firing + x.resolved, render: (x) => `${x.firing} firing${x.resolved ? `, ${x.resolved} resolved` : ''}` },
            { key: 'attempts', label: 'Tries', title: 'Attempts (with retries and backoff)', numeric: true },
            { key: 'httpStatus', label: 'HTTP', numeric: true, render: (x) => (x.httpStatus === null ? '—' : String(x.httpStatus)) },
            { key: 'durationMs', label: 'Took', numeric: true, render: (x) => fmt(x.durationMs, 'ms') },
            { key: 'error', label: 'Error', grow: true, value: (x) => x.error ?? '', render: (x) => <span className="bad-text" title={x.error ?? ''}>{x.error ?? ''}</span> },
          ]}
        />
      )}
    </Panel>
  );
}
