/**
 * `vigil runbook list|show|add|rm` and `vigil action list|run`: runbooks and remediation actions on a
 * running Vigil through `/api/v1/runbooks`, `/api/v1/actions` and `/api/v1/incidents/{id}/actions/{name}/run`
 * (URL and token as the other client commands take them). `action run` prints the request it would
 * send and sends it only with `--yes`, as the UI asks for confirmation.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { ActionPreview, ActionRunResponse, RemediationActionListResponse, Runbook, RunbookInput, RunbookListResponse } from '../api/contract.ts';
import { callApi, clientOptions, printTable, type ClientOptions } from './alerts.ts';
import { fail } from './options.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function idArg(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) fail(`${what} id: expected a number such as 12, got "${text}"`, 2);
  return Number(text);
}

const scopeText = (r: Runbook) => (r.scope.kind === 'general' ? 'general' : `${r.scope.kind}:${r.scope.value}`);

/** The request as the CLI shows it: method and URL, headers, body. */
export function previewText(p: ActionPreview): string {
  return [`${p.method} ${p.url}`, ...Object.entries(p.headers).map(([k, v]) => `${k}: ${v}`), ...(p.body ? ['', p.body] : [])].join('\n');
}

/** `vigil runbook`. */
export function runbookCommand(): Command {
  const runbook = new Command('runbook').description('Runbooks: Markdown steps for a service, an alert rule or every incident, shown on matching incidents');

  clientOptions(runbook.command('list').description('List runbooks'), 'read')
    .option('--service <name>', "only this service's")
    .option('--rule <alertname>', "only this alert rule's")
    .option('--json', 'the API answer as JSON')
    .action(async (opts: ClientOptions & { service?: string; rule?: string; json?: boolean }) => {
      const q = new URLSearchParams();
      if (opts.service) q.set('service', opts.service);
      if (opts.rule) q.set('rule', opts.rule);
      const r = await callApi<RunbookListResponse>(opts, 'GET', `/api/v1/runbooks${q.size ? `?${q}` : ''}`);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      if (r.runbooks.length === 0) return void process.stdout.write('No runbooks. Add one with `vigil runbook add --service <name> --title <title> --file steps.md`.\n');
      printTable([['ID', 'SCOPE', 'TITLE', 'ACTIONS'], ...r.runbooks.map((b) => [String(b.id), scopeText(b), b.title, b.actions.join(',') || '-'])]);
    });

  clientOptions(runbook.command('show').description('Print a runbook (its Markdown)'), 'read')
    .argument('<id>', 'runbook id')
    .action(async (idText: string, opts: ClientOptions) => {
      const r = await callApi<Runbook>(opts, 'GET', `/api/v1/runbooks/${idArg(idText, 'runbook')}`);
      process.stdout.write(`${r.title} (${scopeText(r)}; actions: ${r.actions.join(', ') || 'none'})\n\n${r.body}\n`);
    });

  clientOptions(runbook.command('add').description('Add a runbook; prints its id'), 'write')
    .requiredOption('--title <title>', 'what it is for')
    .option('--service <name>', 'for incidents of this service')
    .option('--rule <alertname>', 'for incidents this alert rule fired')
    .option('--general', 'for every incident')
    .requiredOption('--file <path>', "the Markdown steps ('-' reads standard input)")
    .option('--action <name>', 'an action it offers (repeatable)', collect, [])
    .action(async (opts: ClientOptions & { title: string; service?: string; rule?: string; general?: boolean; file: string; action: string[] }) => {
      const scopes = [opts.service !== undefined, opts.rule !== undefined, !!opts.general].filter(Boolean).length;
      if (scopes !== 1) fail('say what the runbook is for: exactly one of --service, --rule or --general', 2);
      let body: string;
      try {
        body = readFileSync(opts.file === '-' ? 0 : opts.file, 'utf8');
      } catch (err) {
        fail(`cannot read ${opts.file}: ${(err as Error).message}`, 2);
      }
      const scope: RunbookInput['scope'] = opts.general ? { kind: 'general', value: '' } : opts.service !== undefined ? { kind: 'service', value: opts.service } : { kind: 'rule', value: opts.rule! };
      const r = await callApi<Runbook>(opts, 'POST', '/api/v1/runbooks', { title: opts.title, scope, body, actions: opts.action } satisfies RunbookInput);
      process.stdout.write(`${r.id}\n`);
    });

  clientOptions(runbook.command('rm').description('Delete a runbook'), 'write')
    .argument('<id>', 'runbook id')
    .action(async (idText: string, opts: ClientOptions) => {
      await callApi(opts, 'DELETE', `/api/v1/runbooks/${idArg(idText, 'runbook')}`);
    });
  return runbook;
}

/** Sends a run; answers the 400 preview instead of failing when it was not confirmed. */
async function runRequest(opts: ClientOptions, path: string, body: unknown): Promise<{ preview: ActionPreview } | ActionRunResponse> {
  const url = (opts.url ?? process.env.VIGIL_URL ?? 'http://127.0.0.1:4400').replace(/\/$/, '');
  const token = opts.token ?? process.env.VIGIL_TOKEN;
  if (!token) fail('no token: pass --token or set VIGIL_TOKEN (create one with `vigil token create --name me --scope write`)', 2);
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    fail(`cannot reach ${url}: ${(err as Error).message}`);
  }
  const answer = (await res.json().catch(() => ({}))) as { error?: string; field?: string; preview?: ActionPreview };
  if (res.status === 400 && answer.field === 'confirm' && answer.preview) return { preview: answer.preview };
  if (!res.ok) fail(`${res.status}: ${answer.error ?? 'request failed'}`, res.status === 400 ? 2 : 1);
  return answer as unknown as ActionRunResponse;
}

/** `vigil action`. */
export function actionCommand(): Command {
  const action = new Command('action').description('Remediation actions: HTTP calls responders run on an incident after confirming');

  clientOptions(action.command('list').description('List actions (secret headers masked)'), 'read')
    .option('--json', 'the API answer as JSON')
    .action(async (opts: ClientOptions & { json?: boolean }) => {
      const r = await callApi<RemediationActionListResponse>(opts, 'GET', '/api/v1/actions');
      if (opts.json) return void process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      if (r.actions.length === 0) return void process.stdout.write('No actions. Create them with POST /api/v1/actions or on the Runbooks page.\n');
      printTable([['NAME', 'REQUEST', 'SERVICES', 'INPUTS'], ...r.actions.map((a) => [a.name, `${a.method} ${a.url}`, a.services.join(',') || 'any', Object.keys(a.inputs).join(',') || '-'])]);
    });

  clientOptions(action.command('run').description('Run an action on an incident: prints the request, and sends it only with --yes'), 'write')
    .argument('<incident>', 'incident id')
    .argument('<name>', 'action name')
    .option('--input <name=value>', 'an input of the action (repeatable)', collect, [])
    .option('--yes', 'send the request (without it, only show it)')
    .action(async (incidentText: string, name: string, opts: ClientOptions & { input: string[]; yes?: boolean }) => {
      const input: Record<string, string> = {};
      for (const kv of opts.input) {
        const at = kv.indexOf('=');
        if (at <= 0) fail(`--input: expected name=value, got "${kv}"`, 2);
        input[kv.slice(0, at)] = kv.slice(at + 1);
      }
      const path = `/api/v1/incidents/${idArg(incidentText, 'incident')}/actions/${encodeURIComponent(name)}/run`;
      const r = await runRequest(opts, path, { confirm: !!opts.yes, input });
      if ('preview' in r) {
        process.stdout.write(`${previewText(r.preview)}\n`);
        process.stderr.write('Not sent: add --yes to send this request.\n');
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${r.ok ? 'ok' : 'failed'}${r.status !== null ? ` (HTTP ${r.status})` : ''} in ${r.ms} ms\n${r.result}\n`);
      if (!r.ok) process.exitCode = 1;
    });
  return action;
}
