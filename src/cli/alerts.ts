/**
 * `vigil alerts`: what fires now, from a running Vigil's Prometheus-format `/api/v1/alerts`. Also the
 * small HTTP client the alerting commands share (URL and token as `vigil search` takes them).
 */
import { Command } from 'commander';
import type { PromAlert, PromAlertsResponse } from '../api/contract.ts';
import { fail } from './options.ts';

/** Options of every command that talks to a running Vigil. */
export interface ClientOptions {
  url?: string;
  token?: string;
}

/** Adds `--url` and `--token` to a command. */
export function clientOptions(cmd: Command, scope: 'read' | 'write'): Command {
  return cmd.option('--url <url>', 'Vigil API URL (VIGIL_URL, default http://127.0.0.1:4400)').option('--token <token>', `API token with ${scope} scope (VIGIL_TOKEN)`);
}

/** Calls the API; prints the server's error and exits 1 (2 for a refused request) unless it succeeds. */
export async function callApi<T>(opts: ClientOptions, method: string, path: string, body?: unknown): Promise<T> {
  const url = (opts.url ?? process.env.VIGIL_URL ?? 'http://127.0.0.1:4400').replace(/\/$/, '');
  const token = opts.token ?? process.env.VIGIL_TOKEN;
  if (!token) fail('no token: pass --token or set VIGIL_TOKEN (create one with `vigil token create --name me --scope write`)', 2);
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    fail(`cannot reach ${url}: ${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}`);
  }
  const text = await res.text();
  let answer: unknown = undefined;
  try {
    answer = text ? JSON.parse(text) : undefined;
  } catch {
    answer = text;
  }
  if (!res.ok) {
    // Vigil answers {error}; the Alertmanager API answers a bare string, as Alertmanager does.
    const message = typeof answer === 'string' ? answer : ((answer as { error?: string } | undefined)?.error ?? 'request failed');
    fail(`${res.status}: ${message}`, res.status === 400 ? 2 : 1);
  }
  return answer as T;
}

/** "3m", "2h5m", "4d": a rough age for tables. */
export function humanAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Prints rows as an aligned table. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .filter(([k]) => k !== 'alertname')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}

function valueText(v: string): string {
  const n = Number(v);
  return v === '' ? '' : Number.isFinite(n) && !Number.isInteger(n) ? String(Number(n.toPrecision(4))) : v;
}

/** `vigil alerts`. */
export function alertsCommand(): Command {
  return clientOptions(new Command('alerts').description('Show the alerts that fire (and are pending) now'), 'read')
    .option('--firing', 'only firing alerts, not pending ones')
    .option('--json', 'one JSON object per alert (the Prometheus API shape)')
    .action(async (opts: ClientOptions & { json?: boolean; firing?: boolean }) => {
      const answer = await callApi<PromAlertsResponse>(opts, 'GET', '/api/v1/alerts');
      const now = Date.now();
      const alerts = answer.data.alerts
        .filter((a) => !opts.firing || a.state === 'firing')
        // Firing first, then the longest-running.
        .sort((a, b) => (a.state === b.state ? since(a) - since(b) : a.state === 'firing' ? -1 : 1));
      if (opts.json) {
        for (const a of alerts) process.stdout.write(`${JSON.stringify(a)}\n`);
        return;
      }
      if (alerts.length === 0) {
        process.stdout.write('Nothing fires. (Rules and their health: GET /api/v1/rules, or the Alerts page.)\n');
        return;
      }
      printTable([['STATE', 'ALERTNAME', 'LABELS', 'SINCE', 'VALUE'], ...alerts.map((a) => [a.state, a.labels.alertname ?? '', labelText(a.labels), humanAge(now - since(a)), valueText(a.value)])]);
    });
}

function since(a: PromAlert): number {
  return Date.parse(a.firedAt ?? a.activeAt);
}
