/** The application shell: navigation, theme switch, the signed-in user. */
import { useState, type ReactNode } from 'react';
import { Link, NavLink, Outlet, useNavigate } from 'react-router-dom';
import { api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { useLoad } from '../hooks.ts';
import { applyTheme, initialTheme, type Theme } from '../theme.ts';
import { useLinkRange, withRange } from '../time.ts';
import type { PromAlertsResponse } from '../../../src/api/contract.ts';

// `admin` entries are management pages only admins can use; others do not see them.
const NAV: { to: string; label: string; icon: string; soon?: boolean; admin?: boolean }[] = [
  { to: '/', label: 'Overview', icon: '◉' },
  { to: '/services', label: 'Services', icon: '▤' },
  { to: '/logs', label: 'Logs', icon: '≡' },
  { to: '/traces', label: 'Traces', icon: '⋔' },
  { to: '/explore/metrics', label: 'Metrics', icon: '∿' },
  { to: '/dashboards', label: 'Dashboards', icon: '▦' },
  { to: '/alerts', label: 'Alerts', icon: '!' },
  { to: '/changes', label: 'Changes', icon: '⇄' },
  { to: '/incidents', label: 'Incidents', icon: '⚑' },
  { to: '/runbooks', label: 'Runbooks', icon: '☰' },
  { to: '/monitors', label: 'Monitors', icon: '♥' },
  { to: '/knowledge', label: 'Knowledge', icon: '❏', soon: true },
  { to: '/reports', label: 'Reports', icon: '▣', soon: true },
  { to: '/status-pages', label: 'Status pages', icon: '◎', admin: true },
  { to: '/users', label: 'Users', icon: '☺', admin: true },
  { to: '/tokens', label: 'API tokens', icon: '✱', admin: true },
];

/** The shell around every signed-in page. */
export function Layout() {
  const { user, logout } = useAuth();
  const navigate = useNavigate();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  // Sidebar links carry the time range being looked at, so moving between pages keeps the window.
  const range = useLinkRange();
  // How many alerts fire now, beside "Alerts" on every page: the first thing on-call looks for.
  const firing = useLoad((signal) => api<PromAlertsResponse>('/api/v1/alerts', { signal }).then((r) => r.data.alerts.filter((a) => a.state === 'firing').length), [], 15_000);
  const toggle = () => {
    const t = theme === 'dark' ? 'light' : 'dark';
    setTheme(t);
    applyTheme(t);
  };
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="main">
        <Link to={withRange('/', range)} className="brand">
          <svg width="22" height="22" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#2563eb" />
            <path d="M7 17h5l3-8 4 15 3-7h3" fill="none" stroke="#fff" strokeWidth="2.5" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          Vigil
        </Link>
        <ul>
          {NAV.filter((n) => !n.admin || user?.role === 'admin').map((n) => (
            <li key={n.to}>
              <NavLink to={withRange(n.to, range)} end={n.to === '/'} className={({ isActive }) => (isActive ? 'active' : '')}>
                <span className="icon" aria-hidden="true">
                  {n.icon}
                </span>
                {n.label}
                {n.soon && <span className="soon">soon</span>}
                {n.to === '/alerts' && !!firing.data && (
                  <span className="nav-count" title={`${firing.data} alert${firing.data === 1 ? '' : 's'} firing`} data-testid="nav-firing">
                    {firing.data}
                  </span>
                )}
              </NavLink>
            </li>
          ))}
        </ul>
        <div className="sidebar-foot">
          <button type="button" className="btn ghost small" onClick={toggle} aria-label="Switch theme">
            {theme === 'dark' ? '☀ Light' : '☾ Dark'}
          </button>
          {user && (
            <div className="who">
              <Link to="/account" title="Account">
                {user.username}
              </Link>
              <span className="role">{user.role}</span>
              <button
                type="button"
                className="btn ghost small"
                onClick={() => {
                  void logout().then(() => navigate('/login'));
                }}
              >
                Sign out
              </button>
            </div>
          )}
        </div>
      </nav>
      <main className="main">
        <Outlet />
      </main>
    </div>
  );
}

/** A page title row with controls on the right. */
export function PageHead({ title, sub, children }: { title: ReactNode; sub?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-head">
      <div>
        <h1>{title}</h1>
        {sub && <div className="sub">{sub}</div>}
      </div>
      <div className="page-controls">{children}</div>
    </header>
  );
}

/** Tabs between the pages of one section (alerts: Alerts | Rules | Silences | Notifications). */
export function SubNav({ label, items }: { label: string; items: { to: string; label: string; end?: boolean }[] }) {
  return (
    <nav className="subnav" aria-label={label}>
      {items.map((i) => (
        <NavLink key={i.to} to={i.to} end={i.end} className={({ isActive }) => (isActive ? 'active' : '')}>
          {i.label}
        </NavLink>
      ))}
    </nav>
  );
}
