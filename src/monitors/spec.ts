/**
 * Monitor definitions: one zod schema per monitor type, shared by YAML files and the API, so both
 * report the same field paths in their errors.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration } from '../config/config.ts';
import { parsePath } from './json-path.ts';

/** A DNS resolver address (`10.0.0.2`, `10.0.0.2:5353`, `2001:db8::53`, `[2001:db8::53]:53`) as address and port, or undefined. */
export function parseDnsServer(text: string): { address: string; port: number } | undefined {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(text) ?? /^([0-9a-fA-F:]+)()$/.exec(text);
  if (!m || isIP(m[1]!) === 0) return undefined;
  const port = m[2] ? Number(m[2]) : 53;
  return port >= 1 && port <= 65535 ? { address: m[1]!, port } : undefined;
}

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const duration = z.string().regex(DURATION, 'expected a duration such as 30s, 5m or 1h');
const minDuration = (minMs: number, what: string) => duration.refine((d) => parseDuration(d) >= minMs, `${what} must be at least ${minMs / 1000}s`);
const host = z.string().min(1, 'expected a host name or address');
const port = z.number().int().min(1, 'expected a port 1-65535').max(65535, 'expected a port 1-65535');
const jsonPath = z.string().refine((p) => {
  try {
    parsePath(p);
    return true;
  } catch {
    return false;
  }
}, 'expected a path such as data.items[0].id');

/** A JSON assertion: the value at `path` exists, equals a value, or contains a text. */
const jsonAssertion = z
  .object({
    path: jsonPath,
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    contains: z.string().optional(),
    exists: z.boolean().optional(),
  })
  .strict();

/** What an HTTP response must satisfy. */
const expectations = z
  .object({
    status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    keyword: z.string().min(1).optional(),
    keywordAbsent: z.string().min(1).optional(),
    json: z.array(jsonAssertion).default([]),
    maxResponseTime: duration.optional(),
  })
  .strict()
  .default({ json: [] });

const headers = z.record(z.string(), z.string()).default({});
const body = z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional();
const method = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET');

const common = {
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected 1-64 lower-case letters, digits, ".", "_" or "-"'),
  name: z.string().min(1).max(200),
  system: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a system name such as rms or lms').default('default'),
  description: z.string().max(2000).default(''),
  enabled: z.boolean().default(true),
  interval: minDuration(10_000, 'interval').default('60s'),
  timeout: duration.default('10s'),
  retries: z.number().int().min(0).max(10).default(0),
  retryInterval: minDuration(5_000, 'retryInterval').optional(),
};

const httpRequest = {
  url: z.string().url('expected an absolute http(s) URL'),
  method,
  headers,
  body,
};

const httpMonitor = z
  .object({
    ...common,
    type: z.literal('http'),
    ...httpRequest,
    expect: expectations,
    followRedirects: z.boolean().default(true),
    maxRedirects: z.number().int().min(0).max(20).default(5),
    tls: z
      .object({ insecure: z.boolean().default(false), expiryWarningDays: z.number().int().min(0).max(365).default(14) })
      .strict()
      .default({ insecure: false, expiryWarningDays: 14 }),
  })
  .strict();

const workflowStep = z
  .object({
    name: z.string().min(1),
    // Templated: the URL may be `{{lms}}/api/login`, so it is checked as a URL only after rendering.
    url: z.string().min(1),
    method,
    headers,
    body,
    expect: expectations,
    extract: z.record(z.string().regex(/^[A-Za-z_][\w.-]*$/, 'expected a variable name'), jsonPath).default({}),
  })
  .strict();

const workflowMonitor = z
  .object({
    ...common,
    type: z.literal('workflow'),
    vars: z.record(z.string(), z.string()).default({}),
    steps: z.array(workflowStep).min(1, 'expected at least one step'),
    tls: z.object({ insecure: z.boolean().default(false) }).strict().default({ insecure: false }),
  })
  .strict();

const tcpMonitor = z.object({ ...common, type: z.literal('tcp'), host, port }).strict();

const dnsMonitor = z
  .object({
    ...common,
    type: z.literal('dns'),
    hostname: host,
    recordType: z.enum(['A', 'AAAA', 'CNAME']).default('A'),
    expected: z.string().optional(),
    // A resolver to ask instead of the system's: an IP address, optionally with a port. It must pass the outbound policy.
    server: z
      .string()
      .refine((s) => parseDnsServer(s) !== undefined, 'expected a resolver IP address, optionally with a port: 10.0.0.2, 10.0.0.2:5353, [2001:db8::53]:53')
      .optional(),
  })
  .strict();

const postgresMonitor = z
  .object({
    ...common,
    type: z.literal('postgres'),
    host: host.default('127.0.0.1'),
    port: port.default(5432),
    database: z.string().default('postgres'),
    user: z.string().default('postgres'),
    password: z.string().optional(),
    query: z.string().default('SELECT 1'),
  })
  .strict();

const mysqlMonitor = z
  .object({
    ...common,
    type: z.literal('mysql'),
    host: host.default('127.0.0.1'),
    port: port.default(3306),
    // With a user the check authenticates (mysql_native_password) and sends COM_PING; without, the handshake is enough.
    user: z.string().optional(),
    password: z.string().default(''),
  })
  .strict();

const redisMonitor = z
  .object({ ...common, type: z.literal('redis'), host: host.default('127.0.0.1'), port: port.default(6379), password: z.string().optional() })
  .strict();

const pushMonitor = z.object({ ...common, type: z.literal('push'), grace: duration.default('30s') }).strict();

/** Any monitor definition. */
export const monitorSpecSchema = z.discriminatedUnion('type', [httpMonitor, workflowMonitor, tcpMonitor, dnsMonitor, postgresMonitor, mysqlMonitor, redisMonitor, pushMonitor]);

/** A validated monitor definition. */
export type MonitorSpec = z.infer<typeof monitorSpecSchema>;
/** The monitor types. */
export type MonitorType = MonitorSpec['type'];
/** An HTTP monitor. */
export type HttpSpec = z.infer<typeof httpMonitor>;
/** A multi-step workflow monitor. */
export type WorkflowSpec = z.infer<typeof workflowMonitor>;
/** What an HTTP response must satisfy. */
export type Expectations = z.infer<typeof expectations>;
/** A TCP monitor. */
export type TcpSpec = z.infer<typeof tcpMonitor>;
/** A DNS monitor. */
export type DnsSpec = z.infer<typeof dnsMonitor>;
/** A PostgreSQL monitor. */
export type PostgresSpec = z.infer<typeof postgresMonitor>;
/** A MySQL/MariaDB monitor. */
export type MysqlSpec = z.infer<typeof mysqlMonitor>;
/** A Redis monitor. */
export type RedisSpec = z.infer<typeof redisMonitor>;
/** A heartbeat (push) monitor. */
export type PushSpec = z.infer<typeof pushMonitor>;

/** Formats zod issues as `field.path: message` lines. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const key = i.path.map(String).join('.') || '(monitor)';
    const msg = i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message;
    return `${key}: ${msg}`;
  });
}
