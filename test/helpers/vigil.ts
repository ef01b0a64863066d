/**
 * Test harness: a real Vigil on ephemeral loopback ports with its own temporary data directory,
 * either in this process (fast, gives the store handle) or as a child process (for kill tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { startVigil, type VigilServer } from '../../src/server/app.ts';

/** A fresh temporary data directory, removed by the returned cleanup. */
export function tempDir(prefix = 'vigil-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An in-process Vigil with an ingest token and an admin token. */
export interface TestVigil {
  server: VigilServer;
  ingestToken: string;
  adminToken: string;
  stop(): Promise<void>;
}

/** Starts Vigil in this process on ephemeral ports. */
export async function startTestVigil(overrides: Record<string, unknown> = {}): Promise<TestVigil> {
  const { dir, cleanup } = tempDir();
  const config: Config = loadConfig({
    env: {},
    // No demo monitors: tests start the demo themselves when they need it.
    flags: { dataDir: dir, port: 0, otlpPort: 0, hecPort: 0, logLevel: 'silent', demo: { enabled: false }, ...overrides },
  });
  const server = await startVigil(config);
  const ingestToken = await server.tokens.create('test-ingest', 'ingest');
  const adminToken = await server.tokens.create('test-admin', 'admin');
  return {
    server,
    ingestToken,
    adminToken,
    async stop() {
      await server.stop();
      cleanup();
    },
  };
}

/** Counts rows of a telemetry table. */
export async function countRows(server: VigilServer, table: string, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const rows = await server.store.query(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params);
  return Number(rows[0]?.n ?? 0);
}

const ROOT = new URL('../../', import.meta.url).pathname;

/** A Vigil child process. */
export interface ChildVigil {
  proc: ChildProcess;
  urls: { api: string; otlp: string; hec: string };
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `vigil <args>` as a child process and resolves once it prints its URLs. */
export async function spawnVigil(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildVigil> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/vigil.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, VIGIL_LOG_LEVEL: 'warn', VIGIL_DEMO__ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const urls = await new Promise<ChildVigil['urls']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vigil did not start:\n${out}`)), 30_000);
    const check = () => {
      const api = /UI and API\s+(\S+)/.exec(out)?.[1];
      const otlp = /OTLP\/HTTP\s+(http:\/\/[^/\s]+)/.exec(out)?.[1];
      const hec = /Splunk HEC\s+(http:\/\/[^/\s]+)/.exec(out)?.[1];
      if (api && otlp && hec) {
        clearTimeout(timer);
        resolve({ api, otlp, hec });
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`vigil exited with ${code}:\n${out}`)));
  });
  return { proc, urls, output: () => out, exited };
}

/** Runs `vigil <args>` to completion. */
export async function runVigil(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/vigil.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  return { code, stdout, stderr };
}
