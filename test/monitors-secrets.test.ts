/**
 * Monitor secrets and the outbound guard, attacked through real servers: credentials must not follow a
 * redirect to another origin (HTTP and workflow monitors, two loopback servers on different ports);
 * saved secrets are write-only for every role (API and file monitors), a change that sends the mask
 * back keeps them but cannot take them to a new destination; check results, state history and the
 * searchable `vigil-monitors` logs hold no URL credentials or response secrets; DNS checks pass the
 * outbound policy (their resolver and their answers).
 */
import dgram from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../src/monitors/checkers.ts';
import type { CheckContext } from '../src/monitors/result.ts';
import { monitorSpecSchema } from '../src/monitors/spec.ts';
import { DEFAULT_OUTBOUND_POLICY, type OutboundPolicy } from '../src/net/outbound.ts';
import { countRows, startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';

const MASK = '********';
const ctx = (policy: OutboundPolicy = DEFAULT_OUTBOUND_POLICY): CheckContext => ({ policy, timeoutMs: 3000, now: () => new Date() });
const check = (o: Record<string, unknown>, policy?: OutboundPolicy) => runCheck(monitorSpecSchema.parse({ id: 't', name: 't', ...o }), ctx(policy));

/** What each server received, by "server path". */
const seen = new Map<string, http.IncomingHttpHeaders>();
let first: http.Server;
let second: http.Server;
let firstBase = '';
let secondBase = '';

async function listen(s: http.Server): Promise<string> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const json = (res: http.ServerResponse, code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));

beforeAll(async () => {
  second = http.createServer((req, res) => {
    seen.set(`second ${req.url}`, req.headers);
    json(res, 200, { ok: true });
  });
  secondBase = await listen(second);
  first = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.set(`first ${path}`, req.headers);
    if (path === '/away') return res.writeHead(302, { location: `${secondBase}/landed` }).end();
    if (path === '/here') return res.writeHead(302, { location: '/landed' }).end();
    if (path === '/leaky') return json(res, 200, { status: 'degraded', data: { token: 'tok-abc-999' } });
    json(res, 200, { ok: true, token: 'session-from-login' });
  });
  firstBase = await listen(first);
});

afterAll(async () => {
  for (const s of [first, second]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const CREDENTIALS = { Authorization: 'Bearer cred-auth-1', Cookie: 'session=cred-cookie-2', 'X-Api-Key': 'cred-key-3', 'X-Vault-Token': 'cred-vault-4', 'Proxy-Authorization': 'Basic Y3JlZC01' };
const noCredentials = (h: http.IncomingHttpHeaders | undefined) => {
  expect(h).toBeDefined();
  expect(JSON.stringify(h)).not.toMatch(/cred-|Y3JlZC01/);
  expect(h!.accept).toBe('application/json');
};

describe('credentials on redirects (issue 10.3)', () => {
  it('an HTTP monitor sends none of its credentials to the second origin of a redirect', async () => {
    const r = await check({ type: 'http', url: `${firstBase}/away`, headers: { ...CREDENTIALS, accept: 'application/json' } });
    expect(r.status).toBe('up');
    expect(seen.get('first /away')).toMatchObject({ authorization: 'Bearer cred-auth-1', 'x-vault-token': 'cred-vault-4' });
    noCredentials(seen.get('second /landed'));
  });

  it('an HTTP monitor keeps its credentials on a same-origin redirect', async () => {
    seen.delete('first /landed');
    expect((await check({ type: 'http', url: `${firstBase}/here`, headers: { ...CREDENTIALS, accept: 'application/json' } })).status).toBe('up');
    expect(seen.get('first /landed')).toMatchObject({ authorization: 'Bearer cred-auth-1', cookie: 'session=cred-cookie-2', 'x-api-key': 'cred-key-3', 'x-vault-token': 'cred-vault-4' });
  });

  it('credentials in the URL become Basic authentication, which does not follow to another origin either', async () => {
    seen.delete('second /landed');
    const r = await check({ type: 'http', url: `${firstBase.replace('//', '//ada:cred-url-6@')}/away`, headers: { accept: 'application/json' } });
    expect(r.status).toBe('up');
    expect(seen.get('first /away')?.authorization).toBe(`Basic ${Buffer.from('ada:cred-url-6').toString('base64')}`);
    noCredentials(seen.get('second /landed'));
    expect(JSON.stringify(r)).not.toContain('cred-url-6');
  });

  it('a workflow step sends none of its credentials (nor an extracted token) to another origin', async () => {
    seen.delete('second /landed');
    const r = await check({
      type: 'workflow',
      vars: { base: firstBase, key: 'cred-key-3' },
      steps: [
        { name: 'log in', url: '{{base}}/login', extract: { token: 'token' } },
        { name: 'follow', url: '{{base}}/away', headers: { authorization: 'Bearer {{token}}', 'x-api-key': '{{key}}', cookie: 'session=cred-cookie-2', accept: 'application/json' } },
        { name: 'same origin', url: '{{base}}/here', headers: { authorization: 'Bearer {{token}}', accept: 'application/json' } },
      ],
    });
    expect(r.status).toBe('up');
    expect(seen.get('first /away')).toMatchObject({ authorization: 'Bearer session-from-login', 'x-api-key': 'cred-key-3' });
    noCredentials(seen.get('second /landed'));
    expect(JSON.stringify(seen.get('second /landed'))).not.toContain('session-from-login');
    expect(seen.get('first /landed')?.authorization).toBe('Bearer session-from-login');
  });
});

describe('DNS checks pass the outbound policy (issue 10.10)', () => {
  let resolver: dgram.Socket;
  let server = '';
  beforeAll(async () => {
    // A tiny authoritative server: meta.test. is the metadata address, anything else 10.1.2.3.
    resolver = dgram.createSocket('udp4');
    resolver.on('message', (msg, from) => {
      let i = 12;
      const labels: string[] = [];
      while (msg[i]) {
        labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString());
        i += msg[i]! + 1;
      }
      const question = msg.subarray(12, i + 5);
      const address = labels.join('.') === 'meta.test' ? [169, 254, 169, 254] : [10, 1, 2, 3];
      const header = Buffer.from([msg[0]!, msg[1]!, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
      const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address]);
      resolver.send(Buffer.concat([header, question, answer]), from.port, from.address);
    });
    await new Promise<void>((r) => resolver.bind(0, '127.0.0.1', r));
    server = `127.0.0.1:${resolver.address().port}`;
  });
  afterAll(() => resolver.close());

  it('asks the monitor’s own resolver when its address is allowed', async () => {
    expect(await check({ type: 'dns', hostname: 'lms.test', server, expected: '10.1.2.3' })).toMatchObject({ status: 'up', details: { answers: ['10.1.2.3'], server } });
  });

  it('refuses a resolver address the policy refuses, including IPv6 forms of it, without sending a query', async () => {
    expect((await check({ type: 'dns', hostname: 'lms.test', server: '169.254.169.254' })).error).toMatch(/DNS server 169\.254\.169\.254 is link-local/);
    expect((await check({ type: 'dns', hostname: 'lms.test', server: '[::ffff:a9fe:a9fe]:53' })).error).toMatch(/carries the IPv4 address 169\.254\.169\.254/);
    const strict = { ...DEFAULT_OUTBOUND_POLICY, allowLoopback: false };
    expect((await check({ type: 'dns', hostname: 'lms.test', server }, strict)).error).toMatch(/DNS server 127\.0\.0\.1 is loopback/);
  });

  it('refuses answers the policy refuses, as any outbound request to that name would be', async () => {
    expect((await check({ type: 'dns', hostname: 'meta.test', server })).error).toMatch(/meta\.test: 169\.254\.169\.254 is link-local/);
    expect((await check({ type: 'dns', hostname: 'lms.test', server }, { ...DEFAULT_OUTBOUND_POLICY, allowPrivate: false })).error).toMatch(/10\.1\.2\.3 is a private address/);
    expect((await check({ type: 'dns', hostname: 'localhost' }, { ...DEFAULT_OUTBOUND_POLICY, allowLoopback: false })).error).toMatch(/loopback/);
  });

  it('validates the resolver field, naming it', () => {
    const r = monitorSpecSchema.safeParse({ id: 'd', name: 'd', type: 'dns', hostname: 'x', server: 'dns.example:53' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues[0]?.path)).toBe('["server"]');
  });
});

describe('saved secrets and results through a real Vigil (issues 10.5, 11.9)', () => {
  let v: TestVigil;
  const tokens: Record<string, string> = {};
  const dirs = tempDir('vigil-secrets-');
  const monitorsDir = join(dirs.dir, 'monitors');

  beforeAll(async () => {
    mkdirSync(monitorsDir, { recursive: true });
    writeFileSync(
      join(monitorsDir, 'db.yaml'),
      `monitors:\n  - id: file-db\n    name: File DB\n    type: redis\n    password: file-secret-redis\n    interval: 1h\n  - id: file-http\n    name: File HTTP\n    type: http\n    url: ${firstBase}/x?api_key=file-secret-query\n    headers: { X-Vault-Token: file-secret-vault }\n    interval: 1h\n`,
    );
    v = await startTestVigil({ monitors: { dir: monitorsDir }, agent: { selfMonitor: false } });
    tokens.read = await v.server.tokens.create('reader', 'read');
    tokens.write = await v.server.tokens.create('writer', 'write');
    tokens.admin = v.adminToken;
  });
  afterAll(async () => {
    await v?.stop();
    dirs.cleanup();
  });

  async function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${v.server.urls.api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
  const saved = async (id: string) => (await v.server.monitoring.store.get(id))!.spec as unknown as Record<string, unknown>;

  // Functions: the servers' addresses are known only once beforeAll has run.
  const httpMonitor = () => ({
    id: 'leaky-api',
    name: 'Leaky API',
    type: 'http',
    interval: '1h',
    url: `${firstBase.replace('//', '//ada:pw-url-secret@')}/leaky?api_key=key-url-secret&page=2`,
    headers: { Authorization: 'Bearer hdr-auth-secret', 'X-Vault-Token': 'hdr-vault-secret', accept: 'application/json' },
    body: { user: 'ada', password: 'body-pw-secret' },
    method: 'POST',
    expect: { json: [{ path: 'data.token', equals: 'expected-token-secret' }, { path: 'status', equals: 'ok' }] },
  });
  const workflow = () => ({
    id: 'lms-flow',
    name: 'LMS flow',
    type: 'workflow',
    interval: '1h',
    vars: { base: firstBase, password: 'var-pw-secret' },
    steps: [
      { name: 'log in', method: 'POST', url: '{{base}}/login', body: { email: 'ada@uni.example', password: '{{password}}' }, extract: { token: 'token' } },
      { name: 'use', url: '{{base}}/use', headers: { authorization: 'Bearer {{token}}' } },
    ],
  });
  const SECRETS = /pw-url-secret|key-url-secret|hdr-auth-secret|hdr-vault-secret|body-pw-secret|expected-token-secret|var-pw-secret|db-pw-secret|file-secret|tok-abc-999/;

  it('are never returned, to any role, for API and file monitors alike', async () => {
    for (const m of [httpMonitor(), workflow(), { id: 'rms-db', name: 'RMS DB', type: 'postgres', database: 'test', password: 'db-pw-secret', interval: '1h' }]) {
      const created = await api('POST', '/api/v1/monitors', tokens.write!, m);
      expect(created.body.error).toBeUndefined();
      expect(created.status).toBe(201);
      expect(JSON.stringify(created.body)).not.toMatch(SECRETS);
    }
    for (const role of ['read', 'write', 'admin']) {
      const list = JSON.stringify((await api('GET', '/api/v1/monitors', tokens[role]!)).body);
      expect(list).not.toMatch(SECRETS);
      for (const id of ['leaky-api', 'lms-flow', 'rms-db', 'file-db', 'file-http']) expect(JSON.stringify((await api('GET', `/api/v1/monitors/${id}`, tokens[role]!)).body)).not.toMatch(SECRETS);
    }
    const got = (await api('GET', '/api/v1/monitors/leaky-api', tokens.admin!)).body;
    expect(got.url).toBe(`${firstBase.replace('//', `//ada:${MASK}@`)}/leaky?api_key=${MASK}&page=2`);
    expect(got.headers).toEqual({ Authorization: MASK, 'X-Vault-Token': MASK, accept: 'application/json' });
    expect(got.body).toEqual({ user: 'ada', password: MASK });
    const flow = (await api('GET', '/api/v1/monitors/lms-flow', tokens.admin!)).body as { vars: Record<string, string>; steps: { body?: unknown; headers: Record<string, string> }[] };
    expect(flow.vars).toEqual({ base: MASK, password: MASK });
    // A value that only names a variable holds no secret and stays readable.
    expect(flow.steps[0]!.body).toEqual({ email: 'ada@uni.example', password: '{{password}}' });
    expect(flow.steps[1]!.headers).toEqual({ authorization: 'Bearer {{token}}' });
    expect((await api('GET', '/api/v1/monitors/file-db', tokens.admin!)).body.password).toBe(MASK);
  });

  it('a change that sends the mask back, or leaves out the password, keeps the saved secret; a new value replaces it', async () => {
    const shown = (await api('GET', '/api/v1/monitors/leaky-api', tokens.write!)).body;
    const { source: _s, file: _f, createdAt: _c, updatedAt: _u, status: _st, ...definition } = shown;
    expect((await api('PUT', '/api/v1/monitors/leaky-api', tokens.write!, { ...definition, name: 'Leaky API v2' })).status).toBe(200);
    expect(await saved('leaky-api')).toMatchObject({ name: 'Leaky API v2', url: httpMonitor().url, headers: httpMonitor().headers, body: httpMonitor().body, expect: httpMonitor().expect });

    const flow = (await api('GET', '/api/v1/monitors/lms-flow', tokens.write!)).body as Record<string, unknown> & { vars: Record<string, string> };
    const { source: _s2, file: _f2, createdAt: _c2, updatedAt: _u2, status: _st2, ...flowDef } = flow;
    expect((await api('PUT', '/api/v1/monitors/lms-flow', tokens.write!, { ...flowDef, vars: { ...flow.vars, password: 'new-var-pw' } })).status).toBe(200);
    expect((await saved('lms-flow')).vars).toEqual({ base: firstBase, password: 'new-var-pw' });

    const db = { id: 'rms-db', name: 'RMS DB', type: 'postgres', database: 'test', interval: '1h' };
    expect((await api('PUT', '/api/v1/monitors/rms-db', tokens.write!, db)).status).toBe(200);
    expect((await saved('rms-db')).password).toBe('db-pw-secret');
    expect((await api('PUT', '/api/v1/monitors/rms-db', tokens.write!, { ...db, password: MASK })).status).toBe(200);
    expect((await saved('rms-db')).password).toBe('db-pw-secret');
    expect((await api('PUT', '/api/v1/monitors/rms-db', tokens.write!, { ...db, password: 'db-pw-secret-2' })).status).toBe(200);
    expect((await saved('rms-db')).password).toBe('db-pw-secret-2');
    expect((await api('PUT', '/api/v1/monitors/rms-db', tokens.write!, { ...db, password: null })).status).toBe(200);
    expect((await saved('rms-db')).password).toBeUndefined();
  });

  it('refuses the mask where nothing is saved, and refuses to take a kept secret to a new destination (400 naming the field)', async () => {
    const mask = await api('POST', '/api/v1/monitors', tokens.write!, { id: 'new-one', name: 'N', type: 'http', url: `${firstBase}/`, headers: { Authorization: MASK } });
    expect(mask.status).toBe(400);
    expect(mask.body.error).toMatch(/^headers\.Authorization: "\*{8}" stands for a saved secret, and none is saved here/);

    const shown = (await api('GET', '/api/v1/monitors/leaky-api', tokens.write!)).body;
    const { source: _s, file: _f, createdAt: _c, updatedAt: _u, status: _st, ...definition } = shown;
    const moved = await api('PUT', '/api/v1/monitors/leaky-api', tokens.write!, { ...definition, url: `${secondBase}/collect` });
    expect(moved.status).toBe(400);
    expect(moved.body.error).toMatch(/^headers\.Authorization: the saved secret cannot be kept while the monitor now connects to http:\/\/127\.0\.0\.1:\d+: type the secret again/);
    expect((await saved('leaky-api')).url).toBe(httpMonitor().url);

    const flow = (await api('GET', '/api/v1/monitors/lms-flow', tokens.write!)).body as Record<string, unknown> & { vars: Record<string, string> };
    const { source: _s2, file: _f2, createdAt: _c2, updatedAt: _u2, status: _st2, ...flowDef } = flow;
    const newBase = await api('PUT', '/api/v1/monitors/lms-flow', tokens.write!, { ...flowDef, vars: { ...flow.vars, base: secondBase } });
    expect(newBase.status).toBe(400);
    expect(newBase.body.error).toMatch(/^vars\.password: the saved secret cannot be kept/);

    const db = await api('PUT', '/api/v1/monitors/rms-db', tokens.write!, { id: 'rms-db', name: 'RMS DB', type: 'postgres', host: 'collector.example', password: MASK });
    expect(db.status).toBe(400);
  });

  it('results, state history and the searchable monitor logs hold no URL credentials or response secrets', async () => {
    const r = (await api('POST', '/api/v1/monitors/leaky-api/check', tokens.write!)).body as { result: { status: string; error: string; details: { url: string } } };
    expect(r.result.status).toBe('down');
    expect(r.result.error).toContain('data.token does not equal the expected value (values not shown: the path looks secret)');
    expect(r.result.error).toContain('status is "degraded", expected "ok"');
    expect(r.result.details.url).toContain(`ada:${MASK}@`);
    expect(JSON.stringify(r)).not.toMatch(SECRETS);
    // The request itself still carried the credentials.
    expect(seen.get('first /leaky')).toMatchObject({ authorization: 'Bearer hdr-auth-secret', 'x-vault-token': 'hdr-vault-secret' });

    await v.server.monitoring.scheduler.flushTelemetry();
    await v.server.monitoring.scheduler.flushState();
    for (const role of ['read', 'admin']) {
      expect(JSON.stringify((await api('GET', '/api/v1/monitors/leaky-api', tokens[role]!)).body)).not.toMatch(SECRETS);
      expect(JSON.stringify((await api('GET', '/api/v1/monitors/leaky-api/downtimes', tokens[role]!)).body)).not.toMatch(SECRETS);
    }
    const status = await v.server.state.selectFrom('monitor_status').select('last_result').where('monitor_id', '=', 'leaky-api').executeTakeFirst();
    expect(status?.last_result).toContain('does not equal the expected value');
    expect(status?.last_result).not.toMatch(SECRETS);
    const changes = await v.server.state.selectFrom('monitor_state_changes').select('error').where('monitor_id', '=', 'leaky-api').execute();
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) expect(c.error ?? '').not.toMatch(SECRETS);
    expect(await countRows(v.server, 'otel_logs', `ServiceName = 'vigil-monitors' AND json_extract_string(LogAttributes, '$."monitor.id"') = 'leaky-api'`)).toBe(1);
    expect(await countRows(v.server, 'otel_logs', `ServiceName = 'vigil-monitors' AND regexp_matches(Body || CAST(LogAttributes AS VARCHAR), $1)`, [SECRETS.source])).toBe(0);
  });
});
