/**
 * The demo supervisor: spawns rms-api, payment-gateway, lms-api, auth-service and the traffic generator as child
 * processes (`node --import tsx demo/...`) on loopback ports, applies faults and remediations, and serves the demo
 * admin API (`GET /faults`, `POST /faults/:name/on|off`, `POST /remediate/:action`, `GET /status`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { announceChange } from './changes.ts';
import { FAULTS, findFault, REMEDIATIONS, SERVICES, type FaultSpec, type ServiceName } from './faults.ts';
import type { ControlReply } from './service.ts';

const DEMO_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(DEMO_DIR, '..');

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Vigil's OTLP/HTTP base URL, e.g. http://127.0.0.1:4318. */
  vigilOtlpUrl: string;
  /** Vigil's Splunk HEC base URL, e.g. http://127.0.0.1:8088. */
  vigilHecUrl: string;
  /** Vigil's API base URL, for change events (optional). */
  vigilUrl?: string;
  /** Ingest token sent as `Authorization: Bearer` (OTLP) and `Splunk` (HEC). */
  token: string;
  /** Where services keep their databases and volumes. */
  dataDir: string;
  /** Admin API port on 127.0.0.1; default 4480, 0 = ephemeral. */
  adminPort?: number;
  /** Workflows per second across LMS and RMS; default 4, 0 = no traffic generator. */
  trafficRate?: number;
  /** PostgreSQL URL for the RMS database instead of SQLite. */
  databaseUrl?: string;
  /** Fixed ports per service; others are picked free on 127.0.0.1. */
  ports?: Partial<Record<ServiceName, number>>;
  /** Telemetry export interval in ms (default 3000). */
  exportIntervalMs?: number;
  /** Extra environment for every child (bounds for tests, e.g. DEMO_DISK_FILL_MAX_MB). */
  env?: Record<string, string>;
}

/** One running service as {@link startDemo} reports it. */
export interface ServiceInfo {
  name: ServiceName;
  url: string;
  port: number;
  pid: number | undefined;
  version: string;
  state: 'starting' | 'running' | 'stopped';
  restarts: number;
}

/** State of one fault. */
export interface FaultState {
  name: string;
  description: string;
  target: ServiceName;
  remediation: string;
  state: 'on' | 'off';
  since: string | null;
}

/** A running demo. */
export interface Demo {
  adminUrl: string;
  services: Record<ServiceName, ServiceInfo>;
  faults(): FaultState[];
  setFault(name: string, on: boolean, target?: ServiceName): Promise<FaultState>;
  remediate(action: string, target?: ServiceName): Promise<{ action: string; result: unknown }>;
  status(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Default versions; bad-deploy moves lms-api to BAD_VERSION. */
export const VERSIONS: Record<ServiceName, string> = { 'rms-api': '1.4.2', 'payment-gateway': '3.1.0', 'lms-api': '2.4.1', 'auth-service': '1.9.3' };
const BAD_VERSION = '2.5.0';
const NAMESPACE: Record<ServiceName, 'rms' | 'lms'> = { 'rms-api': 'rms', 'payment-gateway': 'rms', 'lms-api': 'lms', 'auth-service': 'lms' };
const SCRIPT: Record<ServiceName | 'traffic', string> = {
  'rms-api': 'rms/main.ts',
  'payment-gateway': 'payment-gateway/main.ts',
  'lms-api': 'lms/main.ts',
  'auth-service': 'auth-service/main.ts',
  traffic: 'traffic.ts',
};
/**
 * Faults that change a configuration setting, with the key a configuration system would name in its change
 * event, what the fault sets and what restoring sets, and the remediation that restores it.
 */
const CONFIG_FAULTS: Record<string, { key: string; on: string; off: string; restoredBy: string }> = {
  'lms-role-misconfig': { key: 'role_mappings', on: 'group students → role guest', off: 'group students → role student', restoredBy: 'restore-role-mapping' },
  'lms-login-redundant-calls': { key: 'auth.session_validation', on: 'per-step', off: 'once', restoredBy: 'restore-auth-config' },
};
/** Faults that live only in a process's memory: a restart of their target clears them. */
const IN_MEMORY = new Set(['cpu-hog', 'memory-leak', 'rms-payment-gateway-latency', 'lms-db-connection-failures']);

/** Faults that outlive their process (a dropped index, configuration rows): a new demo undoes them. */
const PERSISTENT = ['rms-slow-query', 'lms-role-misconfig', 'lms-login-redundant-calls'];

/** The persistent faults the last run left on; all of them when it never said (an older or crashed data dir). */
function leftOn(file: string): string[] {
  try {
    const on = (JSON.parse(fs.readFileSync(file, 'utf8')) as { on?: unknown }).on;
    return Array.isArray(on) ? PERSISTENT.filter((f) => on.includes(f)) : PERSISTENT;
  } catch {
    return PERSISTENT;
  }
}

/** Remembers which persistent faults are on, for the next start. */
function savePersistent(file: string, on: string[]): void {
  fs.writeFileSync(file, `${JSON.stringify({ on })}\n`);
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A child process speaking the IPC protocol of `service.ts`. */
class Child {
  proc: ChildProcess | undefined;
  state: ServiceInfo['state'] = 'stopped';
  restarts = 0;
  /** Set while the supervisor means the process to be down (stop, service-down): no automatic restart. */
  intendedDown = true;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    readonly name: ServiceName | 'traffic',
    readonly port: number,
    public version: string,
    private readonly env: () => Record<string, string>,
    private readonly logFile: string,
  ) {}

  /** Forks the process and waits for its `ready` message. */
  async start(timeoutMs = 90_000): Promise<void> {
    this.intendedDown = false;
    this.state = 'starting';
    const out = fs.openSync(this.logFile, 'a');
    const proc = fork(path.join(DEMO_DIR, SCRIPT[this.name]), [], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...this.env(), PORT: String(this.port), SERVICE_VERSION: this.version },
      stdio: ['ignore', out, out, 'ipc'],
    });
    fs.closeSync(out);
    this.proc = proc;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not become ready within ${timeoutMs} ms (see ${this.logFile})`)), timeoutMs);
      proc.on('message', (raw) => {
        const msg = raw as ControlReply;
        if (msg.type === 'ready') {
          clearTimeout(timer);
          this.state = 'running';
          resolve();
        } else if (msg.type === 'reply') {
          const p = this.pending.get(msg.id);
          if (!p) return;
          this.pending.delete(msg.id);
          clearTimeout(p.timer);
          msg.ok ? p.resolve(msg.result) : p.reject(new Error(msg.error ?? 'failed'));
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.proc === proc) {
          this.state = 'stopped';
          this.proc = undefined;
        }
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new Error(`${this.name} exited`));
        }
        this.pending.clear();
        reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before it was ready; see ${this.logFile}`));
        // Crashed on its own: restart like a process manager would, after a pause.
        if (!this.intendedDown && this.proc === undefined) {
          setTimeout(() => {
            if (!this.intendedDown && !this.proc) {
              this.restarts++;
              this.start().catch(() => undefined);
            }
          }, 1000).unref();
        }
      });
    });
    await ready;
  }

  /** Sends a control message and waits for the reply. */
  request(msg: Record<string, unknown>, timeoutMs = 15_000): Promise<unknown> {
    const proc = this.proc;
    if (!proc || this.state !== 'running') return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not answer ${String(msg.type)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      proc.send({ ...msg, id });
    });
  }

  /** Stops the process: graceful (flushes telemetry) or a hard kill, as a crash would be. */
  async stop(hard = false): Promise<void> {
    this.intendedDown = true;
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (hard) proc.kill('SIGKILL');
    else {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await exited;
    this.state = 'stopped';
    this.proc = undefined;
  }
}

/** Starts the whole demo and its admin API. */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  const ports = {} as Record<ServiceName, number>;
  for (const s of SERVICES) ports[s] = options.ports?.[s] ?? (await freePort());
  const url = (s: ServiceName) => `http://127.0.0.1:${ports[s]}`;
  const baseEnv: Record<string, string> = {
    VIGIL_OTLP_URL: options.vigilOtlpUrl,
    VIGIL_HEC_URL: options.vigilHecUrl,
    VIGIL_TOKEN: options.token,
    DEMO_DATA_DIR: dataDir,
    DEMO_EXPORT_INTERVAL_MS: String(options.exportIntervalMs ?? 3000),
    PAYMENT_GATEWAY_URL: url('payment-gateway'),
    AUTH_SERVICE_URL: url('auth-service'),
    RMS_URL: url('rms-api'),
    LMS_URL: url('lms-api'),
    TRAFFIC_RATE: String(options.trafficRate ?? 4),
    ...(options.databaseUrl ? { DEMO_DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  };
  const children = {} as Record<ServiceName, Child>;
  for (const s of SERVICES) children[s] = new Child(s, ports[s], VERSIONS[s], () => baseEnv, path.join(dataDir, 'logs', `${s}.log`));
  const traffic = new Child('traffic', 0, '1', () => baseEnv, path.join(dataDir, 'logs', 'traffic.log'));
  const faultState = new Map<string, { on: boolean; target: ServiceName; since: string | null }>(FAULTS.map((f) => [f.name, { on: false, target: f.target, since: null }]));
  const persistentFile = path.join(dataDir, 'persistent-faults.json');
  const rememberPersistent = () => savePersistent(persistentFile, PERSISTENT.filter((f) => faultState.get(f)?.on));

  const stopAll = async () => {
    await traffic.stop().catch(() => undefined);
    await Promise.all(SERVICES.map((s) => children[s].stop().catch(() => undefined)));
  };

  try {
    // Dependencies first so the APIs find them; the two APIs seed their databases in parallel.
    await Promise.all([children['payment-gateway'].start(), children['auth-service'].start()]);
    await Promise.all([children['rms-api'].start(), children['lms-api'].start()]);
    // A fresh demo starts healthy: undo persistent damage a previous run left (index, config, spool). Only
    // what it left on (remembered in the data dir; all of them when a run never said), since each undo is
    // a database write that Vigil sees as an out-of-band change.
    for (const f of leftOn(persistentFile)) {
      const spec = findFault(f) as FaultSpec;
      await children[spec.target].request({ type: 'fault', name: f, on: false });
    }
    savePersistent(persistentFile, []);
    for (const s of SERVICES) await children[s].request({ type: 'fault', name: 'disk-fill', on: false });
    if ((options.trafficRate ?? 4) > 0) await traffic.start();
  } catch (err) {
    await stopAll();
    throw err;
  }

  const infos = () =>
    Object.fromEntries(
      SERVICES.map((s) => [
        s,
        { name: s, url: url(s), port: ports[s], pid: children[s].proc?.pid, version: children[s].version, state: children[s].state, restarts: children[s].restarts },
      ]),
    ) as Record<ServiceName, ServiceInfo>;

  const describe = (f: FaultSpec): FaultState => {
    const st = faultState.get(f.name) ?? { on: false, target: f.target, since: null };
    return { name: f.name, description: f.description, target: st.target, remediation: f.remediation, state: st.on ? 'on' : 'off', since: st.since };
  };

  const restart = async (s: ServiceName, version = children[s].version) => {
    await children[s].stop();
    children[s].version = version;
    await children[s].start();
    children[s].restarts++;
    for (const f of FAULTS) {
      const st = faultState.get(f.name);
      if (st?.on && st.target === s && (IN_MEMORY.has(f.name) || f.name === 'service-down')) faultState.set(f.name, { on: false, target: f.target, since: null });
    }
  };

  const deploy = async (s: ServiceName, version: string, kind: 'deploy' | 'rollback') => {
    const previous = children[s].version;
    await restart(s, version);
    await announceChange(options.vigilUrl, options.token, {
      service: s,
      namespace: NAMESPACE[s],
      kind,
      version,
      previousVersion: previous,
      description: `${s} ${kind === 'rollback' ? 'rolled back' : 'deployed'}: ${previous} → ${version}`,
    });
  };

  // Configuration changes are announced as a configuration system would, naming the key that changed.
  const announceConfig = (fault: string, svc: ServiceName, on: boolean, how: string) => {
    const cfg = CONFIG_FAULTS[fault];
    if (!cfg) return Promise.resolve(false);
    const value = on ? cfg.on : cfg.off;
    return announceChange(options.vigilUrl, options.token, {
      service: svc,
      namespace: NAMESPACE[svc],
      // Turning a fault off or restoring a setting returns it to its known-good value: a rollback.
      kind: on ? 'config' : 'rollback',
      description: `${svc} configuration change: ${cfg.key} ${how} (${value})`,
      attributes: { key: cfg.key, value },
    });
  };

  // One fault operation at a time: restarts and IPC round trips must not interleave.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const setFault = (name: string, on: boolean, target?: ServiceName) =>
    serial(async () => {
      const spec = findFault(name);
      if (!spec) throw new DemoError(404, `unknown fault ${name}; known: ${FAULTS.map((f) => f.name).join(', ')}`);
      const current = faultState.get(name) ?? { on: false, target: spec.target, since: null };
      if (target && !SERVICES.includes(target)) throw new DemoError(400, `unknown service ${target}`);
      if (target && target !== spec.target && !spec.retargetable) throw new DemoError(400, `${name} only applies to ${spec.target}`);
      const svc = on ? (target ?? spec.target) : current.on ? current.target : (target ?? spec.target);
      if (spec.kind === 'ipc') {
        await children[svc].request({ type: 'fault', name, on });
        // Turning a config fault off reverts the setting: announced too, but only when it was on.
        if (on || current.on) await announceConfig(name, svc, on, on ? 'updated' : 'reverted');
      } else if (spec.kind === 'deploy') {
        if (on !== current.on) await deploy(svc, on ? BAD_VERSION : VERSIONS[svc], on ? 'deploy' : 'rollback');
      } else if (on) {
        await children[svc].stop(true);
      } else if (children[svc].state === 'stopped') {
        await children[svc].start();
      }
      faultState.set(name, { on, target: svc, since: on ? new Date().toISOString() : null });
      rememberPersistent();
      return describe(spec);
    });

  const remediate = (action: string, target?: ServiceName) =>
    serial(async () => {
      if (!(action in REMEDIATIONS)) throw new DemoError(404, `unknown remediation ${action}; known: ${Object.keys(REMEDIATIONS).join(', ')}`);
      let result: unknown;
      const restartOf = /^restart-(.+)$/.exec(action)?.[1] as ServiceName | undefined;
      if (restartOf) {
        await restart(restartOf);
        result = `${restartOf} restarted (pid ${children[restartOf].proc?.pid})`;
      } else if (action === 'rollback') {
        const s: ServiceName = 'lms-api';
        if (children[s].version === VERSIONS[s]) result = `${s} already runs ${VERSIONS[s]}`;
        else {
          await deploy(s, VERSIONS[s], 'rollback');
          result = `${s} rolled back to ${VERSIONS[s]}`;
        }
      } else if (action === 'free-disk') {
        const s = target ?? faultState.get('disk-fill')?.target ?? 'rms-api';
        result = await children[s].request({ type: 'remediate', action });
      } else {
        const owner: ServiceName = action === 'recreate-index' ? 'rms-api' : 'lms-api';
        result = await children[owner].request({ type: 'remediate', action });
        const restored = Object.entries(CONFIG_FAULTS).find(([, c]) => c.restoredBy === action)?.[0];
        if (restored) await announceConfig(restored, owner, false, 'restored');
      }
      // The faults this action fixes are over, whether toggled off or not.
      for (const f of FAULTS) {
        if (f.remediation === action || (action === 'free-disk' && f.name === 'disk-fill')) faultState.set(f.name, { on: false, target: f.target, since: null });
      }
      rememberPersistent();
      return { action, result };
    });

  const status = async () => {
    const services: Record<string, unknown> = {};
    for (const s of SERVICES) {
      const detail = children[s].state === 'running' ? await children[s].request({ type: 'status' }, 5000).catch(() => null) : null;
      services[s] = { ...infos()[s], detail };
    }
    const trafficStats = traffic.state === 'running' ? await traffic.request({ type: 'status' }, 5000).catch(() => null) : null;
    return { services, traffic: trafficStats, faults: FAULTS.map(describe) };
  };

  const admin = http.createServer((req, res) => {
    void handleAdmin(req, res);
  });
  async function handleAdmin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://localhost');
    const send = (code: number, body: unknown) => {
      const text = JSON.stringify(body, null, 2);
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(text);
    };
    try {
      const target = (u.searchParams.get('service') ?? undefined) as ServiceName | undefined;
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && u.pathname === '/faults') return send(200, { faults: FAULTS.map(describe) });
      if (req.method === 'GET' && u.pathname === '/remediations') return send(200, { remediations: REMEDIATIONS });
      if (req.method === 'GET' && u.pathname === '/status') return send(200, await status());
      if (req.method === 'POST' && (m = /^\/faults\/([^/]+)\/(on|off)$/.exec(u.pathname))) {
        return send(200, await setFault(decodeURIComponent(m[1] ?? ''), m[2] === 'on', target));
      }
      if (req.method === 'POST' && (m = /^\/remediate\/([^/]+)$/.exec(u.pathname))) return send(200, await remediate(decodeURIComponent(m[1] ?? ''), target));
      send(404, { error: 'not_found', message: `no route ${req.method} ${u.pathname}` });
    } catch (err) {
      send(err instanceof DemoError ? err.status : 500, { error: 'failed', message: err instanceof Error ? err.message : String(err) });
    }
  }
  try {
    await new Promise<void>((resolve, reject) => {
      admin.once('error', reject);
      admin.listen(options.adminPort ?? 4480, '127.0.0.1', resolve);
    });
  } catch (err) {
    await stopAll();
    throw err;
  }
  const adminUrl = `http://127.0.0.1:${(admin.address() as net.AddressInfo).port}`;

  let stopped = false;
  return {
    adminUrl,
    get services() {
      return infos();
    },
    faults: () => FAULTS.map(describe),
    setFault,
    remediate,
    status,
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => {
        admin.close(() => resolve());
        admin.closeAllConnections();
      });
      // Leave no damage behind in the data dir (spool files); persistent DB faults are reset on the next start.
      await Promise.all(SERVICES.map((s) => (children[s].state === 'running' ? children[s].request({ type: 'fault', name: 'disk-fill', on: false }, 3000).catch(() => undefined) : undefined)));
      await stopAll();
    },
  };
}

/** An admin API error with its HTTP status. */
export class DemoError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
