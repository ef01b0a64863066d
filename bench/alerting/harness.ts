/**
 * Shared pieces of `npm run bench:alerting`: free loopback ports, child processes that are always
 * killed, readiness polling, the webhook receiver both sides notify, and the latency summary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback port that was free a moment ago (Prometheus and Alertmanager need one on the command line). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A child process the bench started, with its output in a log file. */
export interface Child {
  name: string;
  proc: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const children = new Set<Child>();

// Whatever happens to the bench (error, Ctrl-C), the processes it started do not outlive it.
process.on('exit', () => {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    process.exit(130);
  });
}

/** Starts `command args…` with stdout and stderr going to `logFile`; `stop()` sends SIGTERM, then SIGKILL after 5 s. */
export function startChild(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Child {
  const out = createWriteStream(logFile);
  const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.pipe(out);
  proc.stderr!.pipe(out);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const child: Child = {
    name,
    proc,
    logFile,
    exited,
    async stop() {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(child);
  return child;
}

/** Registers a child started elsewhere (e.g. by spawnVigil) so it is killed with the others. */
export function adoptChild(name: string, proc: ChildProcess, exited: Promise<number | null>): Child {
  const child: Child = {
    name,
    proc,
    logFile: '',
    exited,
    async stop() {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(child);
  return child;
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 200 ms until it returns true; throws `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** One alert of an Alertmanager webhook payload (version 4). */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint?: string;
}

/** When a notification arrived, and when its alert started (the evaluation that found it firing). */
export interface Arrival {
  /** performance.now() when the request's headers were in. */
  at: number;
  /** Date.now() at the same moment, to compare with `startsAt`. */
  wall: number;
  /** The alert's startsAt (epoch ms): the time of the evaluation that found it. */
  startsAt: number;
}

/**
 * The webhook receiver both sides notify: records when the first firing notification of each key
 * arrived (the moment the request's headers are in, on the bench's own clock), and lets a trial wait for it.
 */
export class WebhookReceiver {
  private server: Server | undefined;
  private readonly arrived = new Map<string, Arrival>();
  private readonly waiters = new Map<string, (arrival: Arrival) => void>();
  /** Requests received, and alerts in them (firing and resolved). */
  requests = 0;
  alerts = 0;
  url = '';

  constructor(private readonly keyOf: (labels: Record<string, string>) => string | undefined) {}

  /** Listens on an ephemeral loopback port; `url` is then set. */
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const at = performance.now();
      const wall = Date.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200).end();
        this.requests++;
        let payload: { alerts?: WebhookAlert[] };
        try {
          payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts?: WebhookAlert[] };
        } catch {
          return;
        }
        for (const alert of payload.alerts ?? []) {
          this.alerts++;
          if (alert.status !== 'firing') continue;
          const key = this.keyOf(alert.labels);
          if (key === undefined || this.arrived.has(key)) continue;
          const arrival: Arrival = { at, wall, startsAt: Date.parse(alert.startsAt) };
          this.arrived.set(key, arrival);
          this.waiters.get(key)?.(arrival);
          this.waiters.delete(key);
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Resolves with the arrival of the first firing alert with this key. */
  expect(key: string, timeoutMs: number): Promise<Arrival> {
    const seen = this.arrived.get(key);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`no notification for ${key} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, (arrival) => {
        clearTimeout(timer);
        resolve(arrival);
      });
    });
  }

  /** Whether a firing notification for this key has arrived. */
  has(key: string): boolean {
    return this.arrived.has(key);
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Latencies of one side, in ms. */
export interface LatencySummary {
  trials: number;
  missed: number;
  p50: number;
  p95: number;
  max: number;
  min: number;
  all: number[];
  /** T0 → the evaluation that found the alert (its startsAt), p50/p95: waiting for scrape and evaluation. */
  toEvaluation: { p50: number; p95: number };
  /** That evaluation → the webhook, p50/p95: the notification path. */
  toWebhook: { p50: number; p95: number };
}

/** One trial's measurements (ms). */
export interface TrialTiming {
  total: number;
  toEvaluation: number;
  toWebhook: number;
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** One trial from its T0 (both clocks) and the notification's arrival. */
export function trialTiming(t0: number, t0Wall: number, arrival: Arrival): TrialTiming {
  return { total: arrival.at - t0, toEvaluation: arrival.startsAt - t0Wall, toWebhook: arrival.wall - arrival.startsAt };
}

/** p50/p95/max of the trials; `missed` trials got no notification in time. */
export function summarise(trials: readonly TrialTiming[], missed: number): LatencySummary {
  const sorted = (pick: (t: TrialTiming) => number) => trials.map(pick).sort((a, b) => a - b);
  const total = sorted((t) => t.total);
  const toEvaluation = sorted((t) => t.toEvaluation);
  const toWebhook = sorted((t) => t.toWebhook);
  return {
    trials: total.length,
    missed,
    p50: quantile(total, 0.5),
    p95: quantile(total, 0.95),
    max: total[total.length - 1] ?? Number.NaN,
    min: total[0] ?? Number.NaN,
    all: trials.map((t) => t.total),
    toEvaluation: { p50: quantile(toEvaluation, 0.5), p95: quantile(toEvaluation, 0.95) },
    toWebhook: { p50: quantile(toWebhook, 0.5), p95: quantile(toWebhook, 0.95) },
  };
}

/** A pause between trials, random so trials do not lock onto the scrape or evaluation phase. */
export function trialGap(): number {
  return 300 + Math.random() * 1000;
}
