/**
 * Configuration: defaults < config file (YAML or JSON) < `VIGIL_*` environment < command-line flags.
 * Validated once at start; an error names the key, where the value came from and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration such as `30s`, `15m`, `7d` into milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}": use a number and a unit (ms, s, m, h, d), e.g. 7d`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

const duration = z.string().regex(DURATION, 'expected a duration such as 30s, 15m, 1h or 7d');
const port = z.coerce.number().int('expected an integer port').min(0, 'expected a port 0-65535').max(65535, 'expected a port 0-65535');
const positiveInt = z.coerce.number().int('expected an integer').positive('expected a positive integer');

// Booleans from files are booleans; from the environment they are the words true/false.
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const CIDR = /^([0-9.]+|[0-9a-fA-F:]+)(\/\d{1,3})?$/;
// Lists from the environment are comma-separated.
const cidrList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v),
  z.array(z.string().regex(CIDR, 'expected CIDRs such as 10.0.0.0/8')),
);

const schema = z
  .object({
    dataDir: z.string().min(1, 'expected a directory path').default('./data'),
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(4400),
    otlpPort: port.default(4318),
    hecPort: port.default(8088),
    metricsPublic: bool.default(false),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ingest: z
      .object({
        maxBodyBytes: positiveInt.default(20 * 1024 * 1024),
        maxInflightBytes: positiveInt.default(256 * 1024 * 1024),
        maxQueuedRows: positiveInt.default(100_000),
        maxRowsPerCommit: positiveInt.default(50_000),
        /** Default per-token ingest limit in records per second; 0 = unlimited. */
        tokenRecordsPerSecond: z.coerce.number().int().min(0).default(0),
        /** How far ahead of the server clock a record's time may be (older than retention is refused too). */
        maxClockSkew: duration.default('1h'),
      })
      .strict()
      .default({ maxBodyBytes: 20 * 1024 * 1024, maxInflightBytes: 256 * 1024 * 1024, maxQueuedRows: 100_000, maxRowsPerCommit: 50_000, tokenRecordsPerSecond: 0, maxClockSkew: '1h' }),
    server: z
      .object({
        // Against slow clients (slow-loris) on all three listeners: headers, then the whole request with its body.
        headersTimeout: duration.default('10s'),
        requestTimeout: duration.default('30s'),
        // Above the 60 s idle timeout of common load balancers, so they close idle connections first.
        keepAliveTimeout: duration.default('65s'),
      })
      .strict()
      // Malformed durations are reported by their own keys; this only compares well-formed ones.
      .refine((s) => !DURATION.test(s.headersTimeout) || !DURATION.test(s.requestTimeout) || (parseDuration(s.headersTimeout) > 0 && parseDuration(s.requestTimeout) >= parseDuration(s.headersTimeout)), {
        path: ['requestTimeout'],
        message: 'expected at least server.headersTimeout, and both above 0',
      })
      .default({ headersTimeout: '10s', requestTimeout: '30s', keepAliveTimeout: '65s' }),
    retention: z
      .object({
        logs: duration.default('7d'),
        traces: duration.default('7d'),
        metrics: duration.default('30d'),
        interval: duration.default('1h'),
      })
      .strict()
      .default({ logs: '7d', traces: '7d', metrics: '30d', interval: '1h' }),
    demo: z
      .object({
        enabled: bool.default(true),
        adminPort: port.default(4480),
        rate: z.coerce.number().min(0, 'expected workflows per second >= 0').default(4),
      })
      .strict()
      .default({ enabled: true, adminPort: 4480, rate: 4 }),
    secrets: z
      .object({
        /** Key file for secrets at rest; default <dataDir>/secret.key (keep it out of database backups). */
        keyFile: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    redaction: z
      .object({
        enabled: bool.default(true),
        /** Keep the built-in rules (e-mail, card numbers, URL credentials, auth headers, secret keys). */
        defaults: bool.default(true),
        rules: z
          .array(
            z
              .object({
                name: z.string().regex(/^[a-z0-9_]+$/, 'expected a rule name of a-z, 0-9 and _'),
                pattern: z.string().refine((p) => {
                  try {
                    new RegExp(p, 'g');
                    return true;
                  } catch {
                    return false;
                  }
                }, 'expected a valid regular expression'),
                replacement: z.string().default('[REDACTED]'),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .default({ enabled: true, defaults: true, rules: [] }),
    auth: z
      .object({
        sessionIdle: duration.default('12h'),
        sessionMax: duration.default('7d'),
        secureCookies: z.enum(['auto', 'always', 'never']).default('auto'),
        lockoutWindow: duration.default('15m'),
        maxFailuresPerUser: positiveInt.default(5),
        maxFailuresPerIp: positiveInt.default(20),
        /** Trust X-Forwarded-* from a reverse proxy (for client addresses and TLS detection). */
        trustProxy: bool.default(false),
      })
      .strict()
      .default({ sessionIdle: '12h', sessionMax: '7d', secureCookies: 'auto', lockoutWindow: '15m', maxFailuresPerUser: 5, maxFailuresPerIp: 20, trustProxy: false }),
    outbound: z
      .object({
        allowPrivate: bool.default(true),
        allowLoopback: bool.default(true),
        deny: cidrList.default([]),
        allow: cidrList.default([]),
      })
      .strict()
      .default({ allowPrivate: true, allowLoopback: true, deny: [], allow: [] }),
    monitors: z
      .object({
        // Empty: <dataDir>/monitors. YAML files there are monitors as code, reloaded on change.
        dir: z.string().default(''),
        enabled: bool.default(true),
        // Checks running at once; more wait their turn (and their delay is measured).
        maxConcurrent: positiveInt.default(200),
      })
      .strict()
      .default({ dir: '', enabled: true, maxConcurrent: 200 }),
    alerting: z
      .object({
        enabled: bool.default(true),
        // Empty: <dataDir>/rules. Prometheus-format rule files (*.yml, *.yaml), reloaded on change.
        rulesDir: z.string().default(''),
        // Empty: <dataDir>/alertmanager.yml. Alertmanager-format routing, receivers, inhibitions.
        notificationsFile: z.string().default(''),
        // Write <rulesDir>/defaults.yml on first start (error rate, latency, no data, host resources).
        defaultRules: bool.default(true),
        // How long a resolved alert is kept (and its resolved notification retried) before it is forgotten.
        resolvedRetention: duration.default('15m'),
        // The address people reach Vigil at (behind a proxy), for links in notifications; empty: the API's own address.
        externalUrl: z.union([z.literal(''), z.string().url('expected a URL such as https://vigil.example.com')]).default(''),
        // Existing Alertmanagers (base URLs) that also receive every alert on /api/v2/alerts.
        forwardTo: z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v), z.array(z.string().url('expected a URL such as http://alertmanager:9093'))).default([]),
        // Rules evaluated at once; more wait their turn.
        maxConcurrent: positiveInt.default(4),
      })
      .strict()
      .default({ enabled: true, rulesDir: '', notificationsFile: '', defaultRules: true, resolvedRetention: '15m', externalUrl: '', forwardTo: [], maxConcurrent: 4 }),
    incidents: z
      .object({
        // Open an incident when an alert starts firing and no open incident of its system/service takes it.
        autoOpen: bool.default(true),
        // How long after an incident's last alert event a new alert of the same system or service still joins it.
        correlationWindow: duration.default('30m'),
        // After an incident is resolved: how long its alerts, error rate and p95 must stay normal and its monitors pass before it closes.
        verificationWindow: duration.default('10m'),
        // The same signature firing again within this long after an incident resolved opens a new incident linked to it.
        recurrenceWindow: duration.default('14d'),
        // Run a diagnosis when an incident opens.
        diagnose: bool.default(true),
        // Time budget of one diagnosis (every detector runs in parallel within it).
        diagnosisBudget: duration.default('20s'),
      })
      .strict()
      .default({ autoOpen: true, correlationWindow: '30m', verificationWindow: '10m', recurrenceWindow: '14d', diagnose: true, diagnosisBudget: '20s' }),
    agent: z
      .object({ selfMonitor: bool.default(true), interval: duration.default('10s') })
      .strict()
      .default({ selfMonitor: true, interval: '10s' }),
    query: z
      .object({
        timeout: duration.default('30s'),
        maxConcurrent: positiveInt.default(4),
      })
      .strict()
      .default({ timeout: '30s', maxConcurrent: 4 }),
    store: z
      .object({
        memoryLimit: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'expected a size such as 1GB').default('1GB'),
        // Where users, tokens, monitors, dashboards… live: "sqlite" (<dataDir>/state.sqlite) or a PostgreSQL URL.
        state: z
          .string()
          .refine((v) => v === 'sqlite' || (/^postgres(ql)?:\/\/[^/]/i.test(v) && URL.canParse(v)), 'expected "sqlite" or a URL such as postgres://vigil@db-host:5432/vigil')
          .default('sqlite'),
      })
      .strict()
      .default({ memoryLimit: '1GB', state: 'sqlite' }),
  })
  .strict();

/** Vigil's validated configuration. */
export type Config = z.infer<typeof schema>;

/** A configuration error; the CLI prints it and exits with status 2. */
export class ConfigError extends Error {}

type Source = Record<string, unknown>;

/** Reads `VIGIL_*` variables: `VIGIL_OTLP_PORT` → otlpPort, `VIGIL_INGEST__MAX_BODY_BYTES` → ingest.maxBodyBytes. */
export function configFromEnv(env: NodeJS.ProcessEnv): { values: Source; names: Map<string, string> } {
  const values: Source = {};
  const names = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('VIGIL_') || value === undefined) continue;
    // Client-side variables of the CLI, not server configuration.
    if (name === 'VIGIL_URL' || name === 'VIGIL_TOKEN' || name === 'VIGIL_CONFIG') continue;
    const path = name
      .slice('VIGIL_'.length)
      .split('__')
      .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    setPath(values, path, value);
    names.set(path.join('.'), name);
  }
  return { values, names };
}

function setPath(target: Source, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Source;
  }
  node[path[path.length - 1]!] = value;
}

function merge(base: Source, over: Source): Source {
  const out: Source = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = typeof v === 'object' && v !== null && !Array.isArray(v) && typeof b === 'object' && b !== null ? merge(b as Source, v as Source) : v;
  }
  return out;
}

/** Loads and validates the configuration from a file, the environment and flags. */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; flags?: Source } = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.VIGIL_CONFIG;
  let fromFile: Source = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`config file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    try {
      const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
      if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw new Error('expected a mapping of keys to values');
      }
      fromFile = (parsed ?? {}) as Source;
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
  }
  const fromEnv = configFromEnv(env);
  const flags = Object.fromEntries(Object.entries(opts.flags ?? {}).filter(([, v]) => v !== undefined));
  const merged = merge(merge(fromFile, fromEnv.values), flags);
  const result = schema.safeParse(merged);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join('.');
    const flagName = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const source = key in flags ? `flag ${flagName}` : fromEnv.names.has(key) ? `environment ${fromEnv.names.get(key)}` : file ? `config file ${file}` : 'default';
    const message = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
    return `${key || '(top level)'} (${source}): ${message}`;
  });
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}
