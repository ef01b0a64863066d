/**
 * `vigil silence add|list|expire`: silences on a running Vigil through its Alertmanager API v2, with
 * amtool's matcher syntax (`alertname=HighErrorRate service_name=~"rms.*"`).
 */
import { userInfo } from 'node:os';
import { Command } from 'commander';
import type { AmGettableSilence, AmPostableSilence } from '../api/contract.ts';
import { parsePromDuration } from '../alerting/duration.ts';
import { fromAmMatcher, formatMatcher, MatcherError, parseMatcher, toAmMatcher } from '../alerting/notify/matchers.ts';
import { callApi, clientOptions, humanAge, printTable, type ClientOptions } from './alerts.ts';
import { fail } from './options.ts';

/** `vigil silence`. */
export function silenceCommand(): Command {
  const silence = new Command('silence').description('Silence alerts for a while (Alertmanager silences)');
  clientOptions(silence.command('add').description('Add a silence; prints its id'), 'write')
    .argument('<matcher...>', 'label matchers, e.g. alertname=HighErrorRate \'service_name=~"rms.*"\'')
    .option('--duration <duration>', 'how long it lasts, e.g. 30m, 2h, 1d', '1h')
    .requiredOption('--comment <text>', 'why (shown beside the silence)')
    .option('--author <name>', 'who silences (default: your user name)')
    .action(async (matchers: string[], opts: ClientOptions & { duration: string; comment: string; author?: string }) => {
      let ms: number;
      try {
        ms = parsePromDuration(opts.duration);
      } catch (err) {
        fail(`--duration: ${(err as Error).message}`, 2);
      }
      if (ms <= 0) fail('--duration: expected a positive duration such as 2h', 2);
      let parsed;
      try {
        parsed = matchers.map((m) => toAmMatcher(parseMatcher(m)));
      } catch (err) {
        if (err instanceof MatcherError) fail(`matcher: ${err.message}`, 2);
        throw err;
      }
      const now = Date.now();
      const body: AmPostableSilence = {
        matchers: parsed,
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + ms).toISOString(),
        createdBy: opts.author ?? userInfo().username,
        comment: opts.comment,
      };
      const answer = await callApi<{ silenceID: string }>(opts, 'POST', '/api/v2/silences', body);
      process.stdout.write(`${answer.silenceID}\n`);
    });
  clientOptions(silence.command('list').description('List silences (active and pending; --expired adds expired ones)'), 'read')
    .option('--expired', 'include expired silences')
    .option('--json', 'one JSON object per silence (the Alertmanager API shape)')
    .action(async (opts: ClientOptions & { expired?: boolean; json?: boolean }) => {
      const list = (await callApi<AmGettableSilence[]>(opts, 'GET', '/api/v2/silences')).filter((s) => opts.expired || s.status.state !== 'expired');
      if (opts.json) {
        for (const s of list) process.stdout.write(`${JSON.stringify(s)}\n`);
        return;
      }
      if (list.length === 0) {
        process.stdout.write('No silences. Add one with: vigil silence add alertname=NAME --duration 2h --comment "why"\n');
        return;
      }
      const now = Date.now();
      const when = (s: AmGettableSilence) => {
        const ends = Date.parse(s.endsAt);
        if (s.status.state === 'pending') return `starts in ${humanAge(Date.parse(s.startsAt) - now)}`;
        return s.status.state === 'expired' ? `ended ${humanAge(now - ends)} ago` : `ends in ${humanAge(ends - now)}`;
      };
      printTable([
        ['ID', 'STATE', 'MATCHERS', 'WHEN', 'CREATED BY', 'COMMENT'],
        ...list.map((s) => [s.id, s.status.state, s.matchers.map((m) => formatMatcher(fromAmMatcher(m))).join(' '), when(s), s.createdBy, s.comment.length > 60 ? `${s.comment.slice(0, 57)}...` : s.comment]),
      ]);
    });
  clientOptions(silence.command('expire').description('Expire silences now, by id'), 'write')
    .argument('<id...>', 'silence ids (from `vigil silence list`)')
    .action(async (ids: string[], opts: ClientOptions) => {
      for (const id of ids) {
        await callApi<unknown>(opts, 'DELETE', `/api/v2/silence/${encodeURIComponent(id)}`);
        process.stdout.write(`Expired silence ${id}.\n`);
      }
    });
  return silence;
}
