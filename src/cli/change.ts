/**
 * `vigil change`: tells a running Vigil about a deploy, configuration change, feature flag… (what a
 * CI/CD pipeline runs after it deploys), and `vigil change list` shows recent changes.
 */
import { userInfo } from 'node:os';
import { Command } from 'commander';
import type { ChangeCreated, ChangeEntry, ChangeInput, ChangeKind, ChangesResponse } from '../api/contract.ts';
import { CHANGE_KINDS } from '../changes/input.ts';
import { ParamError, parseInstant } from '../query/time-range.ts';
import { callApi, clientOptions, humanAge, printTable, type ClientOptions } from './alerts.ts';
import { fail } from './options.ts';

interface RecordOptions extends ClientOptions {
  service?: string;
  kind: string;
  namespace?: string;
  version?: string;
  previousVersion?: string;
  description?: string;
  author?: string;
  commit?: string;
  at?: string;
  attr: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

function versionText(c: ChangeEntry): string {
  if (!c.version) return '';
  return c.previousVersion ? `${c.version} ← ${c.previousVersion}` : c.version;
}

function shorten(s: string, n: number): string {
  const line = s.replace(/\s+/g, ' ');
  return line.length > n ? `${line.slice(0, n - 1)}…` : line;
}

/** `vigil change` and `vigil change list`. */
export function changeCommand(): Command {
  const change = clientOptions(new Command('change').description('Record a deploy, configuration change, feature flag or infrastructure change (prints its id); `change list` shows them'), 'write')
    .option('--service <name>', 'the service that changed (required)')
    .option('--kind <kind>', `one of ${CHANGE_KINDS.join(', ')}`, 'deploy')
    .option('--version <version>', 'the version now running')
    .option('--previous-version <version>', 'the version it replaced')
    .option('--description <text>', 'what changed, in a sentence')
    .option('--author <name>', 'who made the change (default: your user name)')
    .option('--commit <sha>', 'the commit deployed')
    .option('--namespace <name>', 'the service namespace (service.namespace)')
    .option('--at <time>', 'when it took effect: ISO-8601, Unix ms or now-<duration> (default now)')
    .option('--attr <name=value>', 'an attribute to keep with the change (repeatable)', collect, [])
    .addHelpText('after', '\nExamples:\n  vigil change --service lms-api --kind deploy --version 2.5.0 --previous-version 2.4.1 --commit 9fceb02\n  vigil change --service rms-api --kind config --description "payout batch size 500 → 1000" --at now-5m\n  vigil change list --since 24h --service lms-api\n\nThe token (VIGIL_TOKEN) needs ingest or write scope to record, read scope to list.')
    .action(async (opts: RecordOptions) => {
      if (!opts.service) fail('--service is required (the service that changed)', 2);
      if (!(CHANGE_KINDS as readonly string[]).includes(opts.kind)) fail(`--kind: "${opts.kind}" is not one of ${CHANGE_KINDS.join(', ')}`, 2);
      let timestamp: string | undefined;
      if (opts.at) {
        try {
          timestamp = new Date(Number(parseInstant('--at', opts.at, new Date()) / 1_000_000n)).toISOString();
        } catch (err) {
          if (err instanceof ParamError) fail(err.message, 2);
          throw err;
        }
      }
      const attributes: Record<string, string> = {};
      for (const a of opts.attr) {
        const eq = a.indexOf('=');
        if (eq <= 0) fail(`--attr: "${a}" is not name=value`, 2);
        attributes[a.slice(0, eq)] = a.slice(eq + 1);
      }
      const body: ChangeInput = {
        service: opts.service,
        kind: opts.kind as ChangeKind,
        source: 'cli',
        author: opts.author ?? userInfo().username,
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        ...(opts.version ? { version: opts.version } : {}),
        ...(opts.previousVersion ? { previousVersion: opts.previousVersion } : {}),
        ...(opts.description ? { description: opts.description } : {}),
        ...(opts.commit ? { commit: opts.commit } : {}),
        ...(timestamp ? { timestamp } : {}),
        ...(opts.attr.length ? { attributes } : {}),
      };
      const answer = await callApi<ChangeCreated>(opts, 'POST', '/api/v1/changes', body);
      process.stdout.write(`${answer.id}\n`);
    });
  clientOptions(change.command('list').description('List recent changes, newest first'), 'read')
    .option('--since <duration>', 'how far back, e.g. 1h, 24h, 7d', '24h')
    .option('--service <name>', 'only this service')
    .option('--kind <kinds>', 'only these kinds (comma-separated)')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'one JSON object per change (the API shape)')
    .action(async (opts: ClientOptions & { since: string; service?: string; kind?: string; limit: string; json?: boolean }) => {
      const q = new URLSearchParams({ since: opts.since, limit: opts.limit });
      if (opts.service) q.set('service', opts.service);
      if (opts.kind) q.set('kind', opts.kind);
      const answer = await callApi<ChangesResponse>(opts, 'GET', `/api/v1/changes?${q}`);
      if (opts.json) {
        for (const c of answer.changes) process.stdout.write(`${JSON.stringify(c)}\n`);
        return;
      }
      if (answer.changes.length === 0) {
        process.stdout.write(`No changes in the last ${opts.since}. Record one with: vigil change --service <name> --kind deploy --version <version>\n`);
        return;
      }
      const now = Date.now();
      printTable([
        ['TIME', 'AGE', 'SERVICE', 'KIND', 'VERSION', 'SOURCE', 'AUTHOR', 'DESCRIPTION'],
        ...answer.changes.map((c) => [c.at, humanAge(now - Date.parse(c.at)), c.service, c.kind, versionText(c), c.source, c.author ?? '', shorten(c.description, 60)]),
      ]);
      if (answer.truncated) process.stderr.write(`more changes than --limit ${opts.limit}: raise it or narrow --since\n`);
    });
  return change;
}
