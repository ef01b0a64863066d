/**
 * Runs the demo systems (demo/main.ts) as a child process. The CLI never imports demo/ code
 * (DESIGN.md §1): the demo is a separate program that talks to Vigil over OTLP and HEC like any
 * other instrumented system, and is controlled over its admin HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DEMO_MAIN = fileURLToPath(new URL('../../demo/main.ts', import.meta.url));

/** Default address of the demo's admin API. */
export const DEMO_ADMIN_URL = 'http://127.0.0.1:4480';

/** Where to send telemetry and how to run the demo. */
export interface DemoProcessOptions {
  otlpUrl: string;
  hecUrl: string;
  apiUrl?: string;
  token: string;
  /** A write-scoped token with which the demo creates its dashboards and monitors (once per data directory). */
  setupToken?: string;
  dataDir: string;
  adminPort?: number;
  rate?: number;
  /** 'inherit' for a foreground `vigil demo`; 'prefix' to interleave with the server's output. */
  output: 'inherit' | 'prefix';
}

/** Whether this installation ships the demo (it does unless pruned). */
export function demoAvailable(): boolean {
  return existsSync(DEMO_MAIN);
}

/** Name of the write-scoped token `vigil start` gives the demo to create its content through the API. */
export const DEMO_SETUP_TOKEN = 'demo-setup';

/** Starts the demo supervisor; the tokens travel in the environment, never in argv. */
export function spawnDemo(o: DemoProcessOptions): ChildProcess {
  const args = ['--import', 'tsx', DEMO_MAIN, '--otlp-url', o.otlpUrl, '--hec-url', o.hecUrl, '--data-dir', o.dataDir];
  if (o.apiUrl) args.push('--url', o.apiUrl);
  if (o.adminPort !== undefined) args.push('--admin-port', String(o.adminPort));
  if (o.rate !== undefined) args.push('--rate', String(o.rate));
  const child = spawn(process.execPath, args, {
    env: { ...process.env, VIGIL_TOKEN: o.token, ...(o.setupToken ? { VIGIL_SETUP_TOKEN: o.setupToken } : {}) },
    stdio: o.output === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  });
  if (o.output === 'prefix') {
    const forward = (stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream) => {
      let pending = '';
      stream?.on('data', (d: Buffer) => {
        pending += d.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) out.write(`[demo] ${line}\n`);
      });
    };
    forward(child.stdout, process.stdout);
    forward(child.stderr, process.stderr);
  }
  return child;
}

/** Stops the demo and waits for it (and so its services) to exit. */
export async function stopDemo(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
