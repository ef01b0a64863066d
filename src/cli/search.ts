import { Command } from 'commander';
import { fail } from './options.ts';

interface SearchResponse {
  columns: { name: string }[];
  rows: Record<string, unknown>[];
  truncated: boolean;
  elapsedMs: number;
  warnings?: { message: string }[];
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toFixed(3)));
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** `vigil search`: runs a query against a Vigil server and prints a table or JSON lines. */
export function searchCommand(): Command {
  return new Command('search')
    .description('Search logs and spans with the query language (see docs/query-language.md)')
    .argument('<query>', "e.g. 'service.name=rms-api severity>=ERROR | stats count() by http.route'")
    .option('--url <url>', 'Vigil API URL (VIGIL_URL, default http://127.0.0.1:4400)')
    .option('--token <token>', 'API token with read scope (VIGIL_TOKEN)')
    .option('--since <duration>', 'relative time range, e.g. 15m, 24h (default 15m)')
    .option('--from <time>', 'start: ISO-8601, Unix ms or now-<duration>')
    .option('--to <time>', 'end: ISO-8601, Unix ms or now-<duration>')
    .option('--limit <n>', 'maximum rows')
    .option('--json', 'one JSON object per row')
    .action(async (query: string, opts: { url?: string; token?: string; since?: string; from?: string; to?: string; limit?: string; json?: boolean }) => {
      const url = (opts.url ?? process.env.VIGIL_URL ?? 'http://127.0.0.1:4400').replace(/\/$/, '');
      const token = opts.token ?? process.env.VIGIL_TOKEN;
      if (!token) fail('no token: pass --token or set VIGIL_TOKEN (create one with `vigil token create --name me --scope read`)', 2);
      const body: Record<string, string> = { q: query };
      for (const k of ['since', 'from', 'to', 'limit'] as const) if (opts[k]) body[k] = opts[k]!;
      let res: Response;
      try {
        res = await fetch(`${url}/api/v1/search`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      } catch (err) {
        fail(`cannot reach ${url}: ${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}`);
      }
      const answer = (await res.json()) as SearchResponse & { error?: string; position?: number };
      if (res.status === 400) {
        const caret = answer.position !== undefined ? `\n  ${query}\n  ${' '.repeat(answer.position)}^` : '';
        fail(`${answer.error}${caret}`, 2);
      }
      if (!res.ok) fail(`${res.status}: ${answer.error ?? 'request failed'}`);
      // Warnings go to stderr so --json output stays machine-readable.
      for (const w of answer.warnings ?? []) process.stderr.write(`warning: ${w.message}\n`);
      if (opts.json) {
        for (const row of answer.rows) process.stdout.write(`${JSON.stringify(row)}\n`);
        return;
      }
      if (answer.rows.length === 0) {
        process.stdout.write('No results. Widen the time range (--since 24h) or loosen the query.\n');
        return;
      }
      const names = answer.columns.map((c) => c.name);
      const table = [names, ...answer.rows.map((r) => names.map((n) => cell(r[n])))];
      const widths = names.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
      for (const r of table) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
      process.stderr.write(`${answer.rows.length} row(s)${answer.truncated ? ' (truncated: raise --limit)' : ''} in ${answer.elapsedMs.toFixed(0)} ms\n`);
    });
}
