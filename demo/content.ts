/**
 * The demo's content in Vigil: the RMS and LMS overview dashboards, the monitors of their key user
 * workflows (LMS log in → register for a course, RMS calculate royalties → pay a batch), and the
 * remediation actions (the demo admin API's `POST /remediate/<action>`) with one runbook per service
 * offering them. Vigil itself
 * knows no demo name (DESIGN.md §1): the demo creates these through Vigil's public HTTP API, like any
 * user would, with a write-scoped token that `vigil start` hands it.
 *
 * Installed once per demo data directory: what was created is remembered in `content.json` there, so a
 * dashboard or monitor the user deletes does not come back on the next start.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DashboardSpec, RemediationActionInput, RunbookInput } from '../src/api/contract.ts';
import { FAULTS, REMEDIATIONS, SERVICES, type ServiceName } from './faults.ts';

/** A dashboard as `POST /api/v1/dashboards` takes it. */
export interface DemoDashboard {
  title: string;
  description: string;
  spec: DashboardSpec;
}

/** A monitor as `POST /api/v1/monitors` takes it (the API validates it). */
export interface DemoMonitor {
  id: string;
  name: string;
  system: string;
  type: 'workflow';
  [field: string]: unknown;
}

type Panel = DashboardSpec['panels'][number];

/** The overview dashboard of one demo system (service.namespace `ns`). */
function systemDashboard(ns: string, label: string): DemoDashboard {
  const scope = `service.namespace=${ns} service.name=$service`;
  const panel = (id: string, title: string, type: Panel['type'], query: string, x: number, y: number, w: number, h: number, unit?: string): Panel => ({ id, title, type, source: 'search', query, unit, x, y, w, h });
  return {
    title: `${label} overview`,
    description: `Requests, errors, latency and slow spots of the ${label} services (service.namespace=${ns}).`,
    spec: {
      time: { since: '1h' },
      refresh: '30s',
      variables: [{ name: 'service', label: 'Service', type: 'service', default: '*' }],
      panels: [
        panel('req', 'Requests', 'stat', `from spans kind=server ${scope} | stats count()`, 0, 0, 3, 4),
        panel('err', 'Failed requests', 'stat', `from spans kind=server ${scope} status=error | stats count()`, 3, 0, 3, 4),
        panel('p95s', 'p95 latency', 'stat', `from spans kind=server ${scope} | stats p95(duration_ms)`, 6, 0, 3, 4, 'ms'),
        panel('errlogs', 'Error logs', 'stat', `${scope} severity>=ERROR | stats count()`, 9, 0, 3, 4),
        panel('tput', 'Requests by service', 'timeseries', `from spans kind=server ${scope} | timechart count() by service.name`, 0, 4, 6, 8),
        panel('p95', 'p95 latency by service', 'timeseries', `from spans kind=server ${scope} | timechart p95(duration_ms) by service.name`, 6, 4, 6, 8, 'ms'),
        panel('errors', 'Failed requests by route', 'timeseries', `from spans kind=server ${scope} status=error | timechart count() by http.route`, 0, 12, 6, 8),
        panel('logsev', 'Logs by severity', 'bar', `${scope} | stats count() by severity`, 6, 12, 6, 8),
        panel('routes', 'Busiest routes', 'toplist', `from spans kind=server ${scope} | top 10 http.route`, 0, 20, 6, 9),
        panel('db', 'Slowest database statements', 'table', `from spans ${scope} db.system=* | stats count() as calls p95(duration_ms) as p95_ms by db.statement | sort -p95_ms | head 10`, 6, 20, 6, 9),
      ],
    },
  };
}

/** The demo's dashboards: one overview per system. */
export function demoDashboards(): DemoDashboard[] {
  return [systemDashboard('rms', 'RMS'), systemDashboard('lms', 'LMS')];
}

/**
 * The demo's workflow monitors, for a demo admin API at `adminUrl`. The demo services listen on
 * ephemeral ports, so each workflow's first step asks the admin API (`GET /status`) for the service
 * URL and keeps it in a variable — plain workflow features, no special resolver.
 */
export function demoMonitors(adminUrl: string): DemoMonitor[] {
  return [
    {
      id: 'lms-login-register',
      name: 'LMS login and course registration',
      system: 'lms',
      type: 'workflow',
      interval: '30s',
      timeout: '15s',
      retries: 1,
      steps: [
        { name: 'find the LMS', url: `${adminUrl}/status`, extract: { lms: 'services.lms-api.url' } },
        {
          name: 'log in',
          method: 'POST',
          url: '{{lms}}/api/login',
          body: { email: 'sami.kowalski.300@uni.example', password: 'pw-300-2126' },
          expect: { status: [200], maxResponseTime: '2s' },
          extract: { token: 'token' },
        },
        {
          name: 'register for a course',
          method: 'POST',
          url: '{{lms}}/api/courses/1/registrations',
          headers: { authorization: 'Bearer {{token}}' },
          body: {},
          expect: { status: [201, 409], maxResponseTime: '2s' },
        },
      ],
    },
    {
      id: 'rms-calculate-pay',
      name: 'RMS royalty calculation and payment',
      system: 'rms',
      type: 'workflow',
      interval: '30s',
      timeout: '20s',
      retries: 1,
      steps: [
        { name: 'find the RMS', url: `${adminUrl}/status`, extract: { rms: 'services.rms-api.url' } },
        {
          name: 'calculate royalties',
          method: 'POST',
          url: '{{rms}}/api/royalties/calculate',
          body: { period: '2025-11' },
          expect: { status: [200], json: [{ path: 'runId' }], maxResponseTime: '5s' },
        },
        {
          name: 'pay a batch',
          method: 'POST',
          url: '{{rms}}/api/payments/batches',
          body: { period: '2025-11', limit: 2 },
          expect: { status: [201], maxResponseTime: '5s' },
        },
      ],
    },
  ];
}

/** The services a remediation acts on (whose incidents offer it). */
function remediationServices(action: string): ServiceName[] {
  const restartOf = /^restart-(.+)$/.exec(action)?.[1];
  if (restartOf) return [restartOf as ServiceName];
  if (action === 'recreate-index') return ['rms-api'];
  // Any service's volume can fill; the admin API frees the one the fault filled.
  if (action === 'free-disk') return [...SERVICES];
  return ['lms-api'];
}

/**
 * The demo's remediation actions, one per admin API remediation and named like it, for a demo admin API
 * at `adminUrl`. The incident rides along in a header, as a real runbook automation would log it.
 */
export function demoActions(adminUrl: string): RemediationActionInput[] {
  return Object.entries(REMEDIATIONS).map(([name, description]) => ({
    name,
    description,
    method: 'POST',
    url: `${adminUrl}/remediate/${name}`,
    headers: { 'X-Vigil-Incident': '{{ .Incident.ID }}' },
    body: '{"incident": {{ .Incident.ID }}, "title": {{ .Incident.Title | toJson }}}',
    services: remediationServices(name),
    timeoutSeconds: 60,
  }));
}

// What each demo service calls: its runbook offers those services' restarts too.
const DEPENDENCIES: Record<ServiceName, ServiceName[]> = { 'rms-api': ['payment-gateway'], 'lms-api': ['auth-service'], 'payment-gateway': [], 'auth-service': [] };

/** One runbook per demo service: its known failure modes and the actions that fix them. */
export function demoRunbooks(): RunbookInput[] {
  return SERVICES.map((service) => {
    const faults = FAULTS.filter((f) => f.target === service);
    const actions = [...new Set([...faults.map((f) => f.remediation), `restart-${service}`, ...DEPENDENCIES[service].map((d) => `restart-${d}`), 'free-disk'])];
    const lines = [
      `# ${service}`,
      '',
      `Start with the diagnosis above, then [the service page](/services/${service}) and its error logs.`,
      '',
      ...(faults.length ? ['## Known failure modes', '', ...faults.map((f) => `- ${f.description} Fix: **${f.remediation}**.`), ''] : []),
      '## Actions',
      '',
      ...actions.map((a) => `- **${a}**: ${REMEDIATIONS[a] ?? ''}`),
      '',
      'After an action, resolve the incident: Vigil verifies that the alerts stay clear and the error rate and latency are back to their baseline before it closes.',
    ];
    return { title: `${service} runbook`, scope: { kind: 'service' as const, value: service }, body: lines.join('\n'), actions };
  });
}

/** What {@link installDemoContent} needs. */
export interface InstallOptions {
  /** Vigil's API base URL. */
  vigilUrl: string;
  /** A write-scoped Vigil token. */
  token: string;
  /** The demo admin API, which the workflow monitors ask for service URLs. */
  adminUrl: string;
  /** Where to remember what was installed; omit to install without remembering (tests). */
  stateFile?: string;
  /** Only this kind (default all: dashboards, monitors, remediation actions and runbooks). */
  only?: 'dashboards' | 'monitors' | 'remediation';
}

/** What was created, and what Vigil refused (status and message), by item. */
export interface InstallReport {
  created: string[];
  failed: string[];
}

interface Installed {
  items: string[];
}

/**
 * Creates the demo's dashboards, monitors, actions and runbooks in Vigil that this data directory never
 * created before. A monitor id or action name that already exists (409, e.g. an older
 * `monitors/demo.yaml`) counts as installed. Actions come before the runbooks that offer them.
 */
export async function installDemoContent(o: InstallOptions): Promise<InstallReport> {
  const done = new Set<string>(o.stateFile && existsSync(o.stateFile) ? (JSON.parse(readFileSync(o.stateFile, 'utf8')) as Installed).items : []);
  const base = o.vigilUrl.replace(/\/+$/, '');
  const post = async (route: string, body: unknown): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${base}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, text: await res.text() };
  };
  const want = (kind: NonNullable<InstallOptions['only']>) => o.only === undefined || o.only === kind;
  const items: { key: string; route: string; body: unknown }[] = [
    ...(want('dashboards') ? demoDashboards().map((d) => ({ key: `dashboard:${d.title}`, route: '/api/v1/dashboards', body: d })) : []),
    ...(want('monitors') ? demoMonitors(o.adminUrl).map((m) => ({ key: `monitor:${m.id}`, route: '/api/v1/monitors', body: m })) : []),
    ...(want('remediation') ? demoActions(o.adminUrl).map((a) => ({ key: `action:${a.name}`, route: '/api/v1/actions', body: a })) : []),
    ...(want('remediation') ? demoRunbooks().map((r) => ({ key: `runbook:${r.scope.value}`, route: '/api/v1/runbooks', body: r })) : []),
  ];
  const report: InstallReport = { created: [], failed: [] };
  for (const item of items) {
    if (done.has(item.key)) continue;
    const res = await post(item.route, item.body);
    if (res.status === 201 || res.status === 409) {
      done.add(item.key);
      if (res.status === 201) report.created.push(item.key);
    } else {
      report.failed.push(`${item.key}: ${res.status} ${res.text.slice(0, 200)}`);
    }
  }
  if (o.stateFile) writeFileSync(o.stateFile, `${JSON.stringify({ items: [...done] } satisfies Installed, null, 2)}\n`);
  return report;
}

/** The file in a demo data directory that remembers installed content. */
export function contentStateFile(dataDir: string): string {
  return path.join(dataDir, 'content.json');
}
