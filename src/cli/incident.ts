/**
 * `vigil incident list|open|show|status|note|diagnose`: incidents on a running Vigil through `/api/v1/incidents`
 * (URL and token as the other client commands take them).
 */
import { Command } from 'commander';
import type {
  DiagnosisResponse,
  IncidentCreateRequest,
  IncidentCreated,
  IncidentDetail,
  IncidentListResponse,
  IncidentSeverity,
  IncidentStatus,
  IncidentSummary,
  IncidentTimelineEvent,
} from '../api/contract.ts';
import { INCIDENT_STATUSES, isIncidentStatus } from '../incidents/state.ts';
import { isSeverity } from '../incidents/reducer.ts';
import { callApi, clientOptions, humanAge, printTable, type ClientOptions } from './alerts.ts';
import { fail } from './options.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** How long an incident has lasted (to its resolution, else to now). */
function lasted(i: IncidentSummary, now: number): string {
  const end = i.resolvedAt ? Date.parse(i.resolvedAt) : now;
  return humanAge(end - Date.parse(i.openedAt));
}

function idArg(text: string): number {
  if (!/^\d{1,15}$/.test(text)) fail(`incident id: expected a number such as 12, got "${text}"`, 2);
  return Number(text);
}

/** One line of the timeline, as `show` prints it. */
export function timelineLine(e: IncidentTimelineEvent): string {
  const d = e.data;
  const s = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : '');
  const labels = (d.labels ?? {}) as Record<string, string>;
  let what: string;
  switch (e.kind) {
    case 'opened':
      what = `opened: ${s('title')} (${s('severity')})`;
      break;
    case 'status_changed':
      what = `${s('from')} → ${s('to')}${s('note') ? `: ${s('note')}` : ''}`;
      break;
    case 'note':
      what = `note: ${s('text')}`;
      break;
    case 'alert_firing':
      what = `alert firing: ${labels.alertname ?? s('ruleId')}`;
      break;
    case 'alert_resolved':
      what = `alert resolved: ${labels.alertname ?? s('ruleId')}`;
      break;
    case 'assigned':
      what = `assigned:${d.commander !== undefined ? ` commander ${String(d.commander ?? 'none')}` : ''}${Array.isArray(d.assignees) ? ` assignees ${(d.assignees as string[]).join(', ') || 'none'}` : ''}`;
      break;
    case 'severity_changed':
      what = `severity ${s('from')} → ${s('to')}`;
      break;
    case 'diagnosis': {
      const top = d.top as { category?: string; component?: string } | null;
      what = d.state === 'failed' ? `diagnosis failed: ${s('error')}` : top ? `diagnosis: ${top.category ?? ''} — ${top.component ?? ''}` : 'diagnosis: no likely cause found';
      break;
    }
    case 'action_run':
      what = `action ${s('action')}: ${d.ok ? 'ok' : 'failed'}${d.status !== null && d.status !== undefined ? ` (HTTP ${String(d.status)})` : ''}`;
      break;
    case 'verification_started':
      what = `verification started (until ${new Date(Number(d.endsAt)).toISOString()})`;
      break;
    case 'verification_finished':
      what = `verification ${s('outcome')}: ${s('reason')}`;
      break;
  }
  return `${e.at}  ${e.actor.padEnd(14)}  ${what}`;
}

/** `vigil incident`. */
export function incidentCommand(): Command {
  const incident = new Command('incident').description('Open, list, show and move incidents');

  clientOptions(incident.command('list').description('List incidents, newest first (open ones unless --status says otherwise)'), 'read')
    .option('--status <status>', `open, all, or one state (${INCIDENT_STATUSES.join(', ')})`, 'open')
    .option('--service <name>', 'only incidents affecting this service')
    .option('--system <name>', 'only incidents affecting this system')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'one JSON object per incident (the API shape)')
    .action(async (opts: ClientOptions & { status: string; service?: string; system?: string; limit: string; json?: boolean }) => {
      const q = new URLSearchParams({ status: opts.status, limit: opts.limit });
      if (opts.service) q.set('service', opts.service);
      if (opts.system) q.set('system', opts.system);
      const { incidents } = await callApi<IncidentListResponse>(opts, 'GET', `/api/v1/incidents?${q}`);
      if (opts.json) {
        for (const i of incidents) process.stdout.write(`${JSON.stringify(i)}\n`);
        return;
      }
      if (incidents.length === 0) {
        process.stdout.write(`No ${opts.status === 'all' ? '' : `${opts.status} `}incidents. Open one with: vigil incident open "what is wrong"\n`);
        return;
      }
      const now = Date.now();
      printTable([
        ['ID', 'SEV', 'STATUS', 'TITLE', 'AFFECTS', 'OPENED', 'DURATION'],
        ...incidents.map((i) => [String(i.id), i.severity, i.status, i.title.length > 50 ? `${i.title.slice(0, 47)}...` : i.title, [...i.systems, ...i.services].join(',') || '-', `${humanAge(now - Date.parse(i.openedAt))} ago`, lasted(i, now)]),
      ]);
    });

  clientOptions(incident.command('open').description('Open an incident; prints its id'), 'write')
    .argument('<title>', 'what is wrong, e.g. "LMS course registration fails"')
    .option('--severity <sev>', 'SEV1 (most severe) to SEV4', 'SEV3')
    .option('--service <name>', 'an affected service (repeatable)', collect, [])
    .option('--system <name>', 'an affected system (repeatable)', collect, [])
    .option('--description <text>', 'what is known so far')
    .option('--started-at <time>', 'when the problem began (RFC 3339), if earlier than now')
    .action(async (title: string, opts: ClientOptions & { severity: string; service: string[]; system: string[]; description?: string; startedAt?: string }) => {
      const severity = opts.severity.toUpperCase();
      if (!isSeverity(severity)) fail('--severity: expected SEV1, SEV2, SEV3 or SEV4', 2);
      const body: IncidentCreateRequest = {
        title,
        severity: severity as IncidentSeverity,
        ...(opts.service.length ? { services: opts.service } : {}),
        ...(opts.system.length ? { systems: opts.system } : {}),
        ...(opts.description ? { description: opts.description } : {}),
        ...(opts.startedAt ? { startedAt: opts.startedAt } : {}),
      };
      const { id } = await callApi<IncidentCreated>(opts, 'POST', '/api/v1/incidents', body);
      process.stdout.write(`${id}\n`);
    });

  clientOptions(incident.command('show').description('Show an incident: its fields, linked alerts and timeline'), 'read')
    .argument('<id>', 'incident id (from `vigil incident list`)')
    .option('--json', 'the API answer as JSON')
    .action(async (idText: string, opts: ClientOptions & { json?: boolean }) => {
      const d = await callApi<IncidentDetail>(opts, 'GET', `/api/v1/incidents/${idArg(idText)}`);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(d)}\n`);
        return;
      }
      const now = Date.now();
      const out = [
        `#${d.id} ${d.title}`,
        `Severity:  ${d.severity}`,
        `Status:    ${d.status} (next: ${d.allowedTransitions.join(', ') || 'none'})`,
        `Opened:    ${d.openedAt} (${lasted(d, now)}${d.resolvedAt ? ' to resolution' : ' so far'})`,
        ...(d.acknowledgedAt ? [`Acked:     ${d.acknowledgedAt} (MTTA ${humanAge((d.mttaSeconds ?? 0) * 1000)})`] : []),
        ...(d.resolvedAt ? [`Resolved:  ${d.resolvedAt} (MTTR ${humanAge((d.mttrSeconds ?? 0) * 1000)})`] : []),
        `Affects:   ${[...d.systems, ...d.services].join(', ') || '-'}`,
        `Commander: ${d.commander ?? '-'}${d.assignees.length ? `; assignees: ${d.assignees.join(', ')}` : ''}`,
        ...(d.description ? ['', d.description] : []),
        '',
        d.alerts.length ? 'Alerts:' : 'Alerts: none linked',
        ...d.alerts.map((a) => `  ${a.state.padEnd(8)} ${a.labels.alertname ?? a.ruleId}  ${Object.entries(a.labels).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`).join(' ')}`),
        '',
        'Timeline:',
        ...d.timeline.map((e) => `  ${timelineLine(e)}`),
      ];
      process.stdout.write(`${out.join('\n')}\n`);
    });

  clientOptions(incident.command('status').description('Move an incident to another state (acknowledged, investigating, identified, monitoring, resolved, closed, reopened)'), 'write')
    .argument('<id>', 'incident id')
    .argument('<status>', 'the new state')
    .option('--note <text>', 'why, on the timeline with the change')
    .action(async (idText: string, status: string, opts: ClientOptions & { note?: string }) => {
      const id = idArg(idText);
      if (!isIncidentStatus(status)) fail(`status: expected one of ${INCIDENT_STATUSES.join(', ')}`, 2);
      const d = await callApi<IncidentDetail>(opts, 'POST', `/api/v1/incidents/${id}/status`, { status: status as IncidentStatus, ...(opts.note ? { note: opts.note } : {}) });
      process.stdout.write(`Incident ${d.id} is ${d.status}.\n`);
    });

  clientOptions(incident.command('note').description('Add a note to an incident timeline'), 'write')
    .argument('<id>', 'incident id')
    .argument('<text>', 'the note')
    .action(async (idText: string, text: string, opts: ClientOptions) => {
      const d = await callApi<IncidentDetail>(opts, 'POST', `/api/v1/incidents/${idArg(idText)}/notes`, { text });
      process.stdout.write(`Note added to incident ${d.id}.\n`);
    });

  clientOptions(incident.command('diagnose').description("Show an incident's diagnosis: the likely root causes, ranked, with their evidence (--run starts a new one)"), 'read')
    .argument('<id>', 'incident id')
    .option('--run', 'run a new diagnosis first and wait for it (needs write access)')
    .option('--json', 'the API answer as JSON')
    .action(async (idText: string, opts: ClientOptions & { run?: boolean; json?: boolean }) => {
      const id = idArg(idText);
      let report = opts.run ? await callApi<DiagnosisResponse>(opts, 'POST', `/api/v1/incidents/${id}/diagnosis`) : await callApi<DiagnosisResponse>(opts, 'GET', `/api/v1/incidents/${id}/diagnosis`);
      if (report.state === 'running' && !opts.json) process.stderr.write('Diagnosing');
      for (let waited = 0; report.state === 'running' && waited < 120_000; waited += 1000) {
        await new Promise((r) => setTimeout(r, 1000));
        if (!opts.json) process.stderr.write('.');
        report = await callApi<DiagnosisResponse>(opts, 'GET', `/api/v1/incidents/${id}/diagnosis`);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      process.stderr.write(report.state === 'running' ? '\n' : '');
      process.stdout.write(`${diagnosisText(report)}\n`);
    });

  return incident;
}

/** A diagnosis report as `vigil incident diagnose` prints it. */
export function diagnosisText(r: DiagnosisResponse): string {
  const out = [
    `Diagnosis ${r.id} of incident ${r.incidentId}: ${r.state}${r.finishedAt ? ` (${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s)` : ''}`,
    `Compared ${r.scope.window.from} – ${r.scope.window.to} with ${r.scope.baseline.from} – ${r.scope.baseline.to}; onset ${r.scope.onsetAt}`,
  ];
  if (r.error) out.push(`Error: ${r.error}`);
  if (r.state === 'ready' && r.hypotheses.length === 0) out.push('', 'No cause stood out: the incident window looks like its baseline to every detector.');
  for (const h of r.hypotheses) {
    out.push('', `${h.rank}. [${h.category}] ${h.component}  (${Math.round(h.confidence * 100)}%)`, `   ${h.summary}`, `   Next: ${h.next_step}`);
    for (const e of h.evidence.slice(0, 5)) out.push(`   - ${e.detector} (${e.role}, ${Math.round(e.score * 100)}%): ${e.summary}`);
  }
  const trouble = r.detectors.filter((d) => d.state !== 'ok');
  if (trouble.length) out.push('', `Detectors that did not finish: ${trouble.map((d) => `${d.name} ${d.state}${d.error ? ` (${d.error})` : ''}`).join('; ')}`);
  return out.join('\n');
}
