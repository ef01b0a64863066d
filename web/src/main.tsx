/** Entry of the web UI: routes behind the session login. */
import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { AuthProvider, useAuth } from './auth.tsx';
import { Layout } from './components/Layout.tsx';
import { Loading } from './components/States.tsx';
import { applyTheme, initialTheme } from './theme.ts';
import { Login } from './pages/Login.tsx';
import { Overview } from './pages/Overview.tsx';
import { Services } from './pages/Services.tsx';
import { ServicePage } from './pages/Service.tsx';
import { Logs } from './pages/Logs.tsx';
import { Traces } from './pages/Traces.tsx';
import { TracePage } from './pages/Trace.tsx';
import { Metrics } from './pages/Metrics.tsx';
import { Dashboards } from './pages/Dashboards.tsx';
import { DashboardPage } from './pages/Dashboard.tsx';
import { Account } from './pages/Account.tsx';
import { Coming } from './pages/Coming.tsx';
import { MonitorDetail, Monitors } from './pages/Monitors.tsx';
import { MonitorForm } from './pages/MonitorForm.tsx';
import { StatusPages } from './pages/StatusPages.tsx';
import { Tokens } from './pages/Tokens.tsx';
import { Users } from './pages/Users.tsx';
import { Alerts } from './pages/Alerts.tsx';
import { AlertRules } from './pages/AlertRules.tsx';
import { AlertRuleEditor } from './pages/AlertRuleEditor.tsx';
import { Silences } from './pages/Silences.tsx';
import { Notifications } from './pages/Notifications.tsx';
import { Changes } from './pages/Changes.tsx';
import { IncidentPage, Incidents } from './pages/Incidents.tsx';
import { Runbooks } from './pages/Runbooks.tsx';
import './styles.css';

applyTheme(initialTheme());

/** Sends anonymous visitors to the login page, remembering where they wanted to go. */
function RequireUser({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  const loc = useLocation();
  if (user === undefined) return <Loading what="Checking your session" />;
  if (user === null) return <Navigate to={`/login?next=${encodeURIComponent(loc.pathname + loc.search)}`} replace />;
  return <>{children}</>;
}

function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <Routes>
          <Route path="/login" element={<Login />} />
          <Route
            element={
              <RequireUser>
                <Layout />
              </RequireUser>
            }
          >
            <Route index element={<Overview />} />
            <Route path="services" element={<Services />} />
            <Route path="services/:name" element={<ServicePage />} />
            <Route path="logs" element={<Logs />} />
            <Route path="traces" element={<Traces />} />
            <Route path="traces/:id" element={<TracePage />} />
            {/* Not /metrics: that path is Vigil's Prometheus endpoint on the same port. */}
            <Route path="explore/metrics" element={<Metrics />} />
            <Route path="dashboards" element={<Dashboards />} />
            <Route path="dashboards/:id" element={<DashboardPage />} />
            <Route path="account" element={<Account />} />
            <Route path="alerts" element={<Alerts />} />
            <Route path="alerts/rules" element={<AlertRules />} />
            <Route path="alerts/rules/new" element={<AlertRuleEditor />} />
            <Route path="alerts/rules/:id/edit" element={<AlertRuleEditor />} />
            <Route path="alerts/silences" element={<Silences />} />
            <Route path="alerts/notifications" element={<Notifications />} />
            <Route path="changes" element={<Changes />} />
            <Route path="incidents" element={<Incidents />} />
            <Route path="incidents/:id" element={<IncidentPage />} />
            <Route path="runbooks" element={<Runbooks />} />
            <Route path="monitors" element={<Monitors />} />
            <Route path="monitors/new" element={<MonitorForm />} />
            <Route path="monitors/:id" element={<MonitorDetail />} />
            <Route path="monitors/:id/edit" element={<MonitorForm />} />
            <Route path="status-pages" element={<StatusPages />} />
            <Route path="users" element={<Users />} />
            <Route path="tokens" element={<Tokens />} />
            <Route path="knowledge" element={<Coming what="Knowledge" />} />
            <Route path="reports" element={<Coming what="Reports" />} />
            <Route path="*" element={<Coming what="Not found" />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </AuthProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
