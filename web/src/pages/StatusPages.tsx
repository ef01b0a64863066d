/** Status pages (admin): create and edit a page, choose its monitors and their public names, preview it. */
import { useState } from 'react';
import { ApiError, deleteStatusPage, listMonitors, listStatusPages, publicStatusPage, saveStatusPage, type MonitorInfo, type PublicStatusPage, type StatusPageDef } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { ConfirmButton, Field, FormError, NeedsRole } from '../components/Field.tsx';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { errorsByField, type FieldErrors } from '../form-errors.ts';
import { fmt, fmtTime } from '../format.ts';
import { useLoad } from '../hooks.ts';

const PAGE_FIELDS = ['slug', 'title', 'description', 'components'] as const;
const EMPTY: StatusPageDef = { slug: '', title: '', description: '', components: [] };

/** The status pages page; admins only. */
export function StatusPages() {
  const { user } = useAuth();
  if (user?.role !== 'admin')
    return (
      <>
        <PageHead title="Status pages" />
        <NeedsRole what="Managing status pages" role="admin" />
      </>
    );
  return <StatusPagesAdmin />;
}

function StatusPagesAdmin() {
  const pages = useLoad((signal) => listStatusPages(signal), []);
  const monitors = useLoad((signal) => listMonitors(signal), []);
  // The page being edited: a copy of a saved one (with its slug as `existing`) or a new one.
  const [editing, setEditing] = useState<{ page: StatusPageDef; existing?: string } | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);
  const list = pages.data?.statusPages ?? [];
  return (
    <>
      <PageHead title="Status pages" sub="Public pages that show the people who use a system whether it works: only the monitors you choose, under the names you give them.">
        <button type="button" className="btn primary" onClick={() => setEditing({ page: { ...EMPTY } })}>
          New status page
        </button>
      </PageHead>
      {editing && (
        <PageEditor
          key={editing.existing ?? 'new'}
          initial={editing.page}
          existing={editing.existing}
          monitors={monitors.data?.monitors ?? []}
          onCancel={() => setEditing(null)}
          onSaved={(p) => {
            setEditing(null);
            setPreview(p.slug);
            pages.reload();
          }}
        />
      )}
      {preview && <Preview slug={preview} onClose={() => setPreview(null)} />}
      <Panel title={pages.data ? `${list.length} status pages` : 'Status pages'}>
        {rowError && (
          <div className="form-error" role="alert">
            {rowError}
          </div>
        )}
        {pages.error && <ErrorState error={pages.error} retry={pages.reload} />}
        {!pages.data && !pages.error && <Loading what="Loading status pages" />}
        {pages.data && list.length === 0 && <Empty title="No status pages yet.">Create one for RMS or LMS and choose the monitors it shows.</Empty>}
        {list.length > 0 && (
          <SortTable
            label="status pages"
            rows={list}
            rowKey={(p) => p.slug}
            initialSort="title"
            columns={[
              { key: 'title', label: 'Title' },
              { key: 'slug', label: 'Public address', render: (p) => <a href={`/status/${encodeURIComponent(p.slug)}`} target="_blank" rel="noreferrer">/status/{p.slug}</a> },
              { key: 'components', label: 'Components', numeric: true, value: (p) => p.components.length, render: (p) => String(p.components.length) },
              {
                key: 'actions',
                label: '',
                value: () => '',
                render: (p) => (
                  <span className="row-actions">
                    <button type="button" className="btn small" onClick={() => setPreview(p.slug)}>
                      Preview
                    </button>
                    <button type="button" className="btn small" onClick={() => setEditing({ page: p, existing: p.slug })}>
                      Edit
                    </button>
                    <ConfirmButton
                      label="Delete"
                      confirm={`Delete /status/${p.slug}`}
                      onConfirm={() => {
                        setRowError(null);
                        if (preview === p.slug) setPreview(null);
                        deleteStatusPage(p.slug).then(pages.reload, (err: ApiError) => setRowError(err.message));
                      }}
                    />
                  </span>
                ),
              },
            ]}
          />
        )}
      </Panel>
    </>
  );
}

/** The form of one page: slug, title, description, and a public name per chosen monitor. */
function PageEditor({ initial, existing, monitors, onCancel, onSaved }: { initial: StatusPageDef; existing?: string; monitors: MonitorInfo[]; onCancel: () => void; onSaved: (p: StatusPageDef) => void }) {
  const [page, setPage] = useState<StatusPageDef>(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const chosen = new Map(page.components.map((c) => [c.monitorId, c.name]));
  const set = (patch: Partial<StatusPageDef>) => setPage((p) => ({ ...p, ...patch }));
  // Chosen monitors keep their place in the list; a new one goes to the end, named after the monitor.
  const toggle = (m: MonitorInfo, on: boolean) =>
    set({ components: on ? [...page.components, { monitorId: m.id, name: m.name }] : page.components.filter((c) => c.monitorId !== m.id) });
  const rename = (id: string, name: string) => set({ components: page.components.map((c) => (c.monitorId === id ? { ...c, name } : c)) });
  const submit = async () => {
    setBusy(true);
    setErrors({});
    try {
      onSaved(await saveStatusPage({ ...page, slug: page.slug.trim(), title: page.title.trim() }, existing));
    } catch (err) {
      setErrors(errorsByField((err as Error).message, PAGE_FIELDS, { 'status page': 'slug' }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title={existing ? `Edit /status/${existing}` : 'New status page'}>
      <form
        className="form"
        aria-label="status page"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="row">
          <Field label="Title" error={errors.title}>
            <input value={page.title} onChange={(e) => set({ title: e.target.value })} required maxLength={200} placeholder="Learning Management System" />
          </Field>
          <Field label="Slug" error={errors.slug} hint={`Public address: /status/${page.slug || '…'}`}>
            <input value={page.slug} onChange={(e) => set({ slug: e.target.value })} required disabled={!!existing} placeholder="lms" maxLength={64} />
          </Field>
        </div>
        <Field label="Description" error={errors.description}>
          <input value={page.description} onChange={(e) => set({ description: e.target.value })} maxLength={2000} />
        </Field>
        <fieldset className="choose">
          <legend>Components: the monitors this page shows, under a public name (ids, URLs and errors are never shown)</legend>
          {monitors.length === 0 && <p className="muted">No monitors yet: create one first.</p>}
          {monitors.map((m) => (
            <div key={m.id} className="choose-row">
              <label className="check">
                <input type="checkbox" checked={chosen.has(m.id)} onChange={(e) => toggle(m, e.target.checked)} />
                {m.name} <span className="muted small">({String(m.system)} · {m.type})</span>
              </label>
              {chosen.has(m.id) && <input aria-label={`Public name of ${m.name}`} value={chosen.get(m.id)} onChange={(e) => rename(m.id, e.target.value)} maxLength={200} required />}
            </div>
          ))}
          {errors.components && (
            <div className="field-error" role="alert">
              {errors.components}
            </div>
          )}
        </fieldset>
        <FormError error={errors._form} />
        <div className="row">
          <button className="btn primary" type="submit" disabled={busy}>
            {existing ? 'Save' : 'Create status page'}
          </button>
          <button className="btn ghost" type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Panel>
  );
}

const BADGE: Record<PublicStatusPage['status'], string> = { operational: 'ok', degraded: 'warn', outage: 'bad', unknown: '' };

/** Uptime of one day as a colour class, with the thresholds the public page uses. */
function barClass(uptime: number | null): string {
  if (uptime === null) return 'none';
  return uptime >= 0.999 ? 'ok' : uptime >= 0.99 ? 'warn' : 'bad';
}

/** The saved page as the public sees it (from its public JSON), with a link to the real page. */
function Preview({ slug, onClose }: { slug: string; onClose: () => void }) {
  const p = useLoad((signal) => publicStatusPage(slug, signal), [slug]);
  return (
    <Panel
      title={`Preview of /status/${slug}`}
      className="status-preview"
      actions={
        <>
          <a className="btn small" href={`/status/${encodeURIComponent(slug)}`} target="_blank" rel="noreferrer">
            Open public page
          </a>
          <button type="button" className="btn small ghost" onClick={onClose}>
            Close
          </button>
        </>
      }
    >
      {p.error && <ErrorState error={p.error} retry={p.reload} />}
      {!p.data && !p.error && <Loading what="Loading the public page" />}
      {p.data && (
        <div data-testid="status-preview">
          <h2>
            {p.data.title} <span className={`badge ${BADGE[p.data.status]}`}>{p.data.status}</span>
          </h2>
          {p.data.description && <p className="muted">{p.data.description}</p>}
          {p.data.components.length === 0 && <Empty title="This page shows no components." />}
          {p.data.components.map((c) => (
            <div key={c.name} className="preview-component">
              <div className="preview-head">
                <strong>{c.name}</strong> <span className={`badge ${BADGE[c.status]}`}>{c.status}</span>
                <span className="muted small">{fmt(c.uptime90d, 'percent')} uptime, 90 days</span>
              </div>
              <div className="bars" aria-hidden="true">
                {c.bars.map((b) => (
                  <span key={b.date} className={barClass(b.uptime)} title={`${b.date}: ${b.uptime === null ? 'no checks' : fmt(b.uptime, 'percent')}`} />
                ))}
              </div>
            </div>
          ))}
          <p className="muted small">Updated {fmtTime(p.data.updatedAt, true)}</p>
        </div>
      )}
    </Panel>
  );
}
