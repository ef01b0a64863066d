/**
 * Every checker against real local targets: HTTP servers started here (flapping, slow, hanging,
 * redirecting), TLS with a self-signed and an expired certificate made with openssl, DNS, TCP, and the
 * PostgreSQL, MariaDB and Redis servers of this machine — up, and on a closed port, down.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOUND_POLICY } from '../src/net/outbound.ts';
import { runCheck } from '../src/monitors/checkers.ts';
import { monitorSpecSchema, type MonitorSpec } from '../src/monitors/spec.ts';
import type { CheckContext } from '../src/monitors/result.ts';
import { tempDir } from './helpers/vigil.ts';

const ctx = (timeoutMs = 3000, policy = DEFAULT_OUTBOUND_POLICY): CheckContext => ({ policy, timeoutMs, now: () => new Date() });
const spec = (o: Record<string, unknown>): MonitorSpec => monitorSpecSchema.parse({ id: 't', name: 't', ...o });
const check = (o: Record<string, unknown>, timeoutMs?: number) => runCheck(spec(o), ctx(timeoutMs));

let base = '';
let server: http.Server;
let flip = 0;
const tls: { server: https.Server; url: string }[] = [];
const tmp = tempDir('vigil-certs-');

async function listen(s: net.Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

function cert(name: string, days: number): { key: Buffer; cert: Buffer } {
  const key = join(tmp.dir, `${name}.key`);
  const csr = join(tmp.dir, `${name}.csr`);
  const crt = join(tmp.dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost'], { stdio: 'ignore' });
  // Negative days give a certificate that expired before it was made.
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-signkey', key, '-days', String(days), '-out', crt], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(crt) };
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const url = req.url ?? '/';
      if (url === '/ok') return json(200, { status: 'ok', data: { items: [{ id: 1, name: 'first' }] } });
      if (url === '/slow') return void setTimeout(() => json(200, { status: 'ok' }), 300);
      if (url === '/hang') return; // never answers
      if (url === '/flap') return json(flip++ % 2 ? 500 : 200, { flip });
      if (url === '/redirect') {
        res.writeHead(302, { location: '/ok' });
        return res.end();
      }
      if (url === '/login' && req.method === 'POST') {
        const b = JSON.parse(body || '{}') as { user?: string };
        return b.user === 'ada' ? json(200, { token: 'tok-123' }) : json(401, { error: 'bad' });
      }
      if (url === '/courses/7/registrations' && req.method === 'POST') {
        return req.headers.authorization === 'Bearer tok-123' ? json(201, { id: 99, course: 7 }) : json(401, { error: 'no token' });
      }
      json(404, { error: 'not found' });
    });
  });
  base = `http://127.0.0.1:${await listen(server)}`;
  for (const days of [30, -1]) {
    const s = https.createServer(cert(`c${days}`, days), (_req, res) => res.end('secure ok'));
    tls.push({ server: s, url: `https://127.0.0.1:${await listen(s)}/` });
  }
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  for (const t of tls) await new Promise((r) => t.server.close(r));
  tmp.cleanup();
});

describe('HTTP checks', () => {
  it('passes keyword and JSON assertions and reports phases', async () => {
    const r = await check({ type: 'http', url: `${base}/ok`, expect: { status: [200], keyword: '"ok"', json: [{ path: 'data.items[0].name', equals: 'first' }, { path: 'status', exists: true }] } });
    expect(r).toMatchObject({ ok: true, status: 'up', details: { statusCode: 200 } });
    expect(r.phases.connectMs).not.toBeNull();
    expect(r.phases.firstByteMs).toBeGreaterThan(0);
  });

  it('fails on a missing keyword, a JSON mismatch, an unexpected status', async () => {
    expect(await check({ type: 'http', url: `${base}/ok`, expect: { keyword: 'welcome' } })).toMatchObject({ status: 'down', error: 'keyword "welcome" not found' });
    expect((await check({ type: 'http', url: `${base}/ok`, expect: { json: [{ path: 'data.items[0].id', equals: 2 }] } })).error).toMatch(/data.items\[0\].id is 1, expected 2/);
    expect((await check({ type: 'http', url: `${base}/nope` })).error).toMatch(/status 404/);
  });

  it('is degraded over the response-time budget and down past the time-out', async () => {
    expect((await check({ type: 'http', url: `${base}/slow`, expect: { maxResponseTime: '100ms' } })).status).toBe('degraded');
    const t0 = Date.now();
    const r = await check({ type: 'http', url: `${base}/hang` }, 400);
    expect(r.status).toBe('down');
    expect(r.error).toMatch(/timed out/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('follows redirects through the guard, or reports the 3xx when told not to', async () => {
    const r = await check({ type: 'http', url: `${base}/redirect`, expect: { keyword: 'first' } });
    expect(r.status).toBe('up');
    expect(r.details.redirects).toEqual([`${base}/ok`]);
    expect((await check({ type: 'http', url: `${base}/redirect`, followRedirects: false, expect: { status: [200] } })).error).toMatch(/status 302/);
  });

  it('flaps with the target', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await check({ type: 'http', url: `${base}/flap` })).status);
    expect(new Set(statuses)).toEqual(new Set(['up', 'down']));
  });

  it('is down when the connection is refused, the name does not resolve, or the outbound policy refuses', async () => {
    expect((await check({ type: 'http', url: `http://127.0.0.1:${await closedPort()}/` })).error).toMatch(/ECONNREFUSED/);
    // Names under .invalid fail without a DNS query (RFC 6761), so this sends no traffic.
    expect((await check({ type: 'http', url: 'http://no-such-host.invalid/' })).error).toMatch(/ENOTFOUND/);
    expect((await check({ type: 'tcp', host: 'db.invalid', port: 5432 })).error).toMatch(/ENOTFOUND/);
    const r = await runCheck(spec({ type: 'http', url: `${base}/ok` }), ctx(2000, { ...DEFAULT_OUTBOUND_POLICY, allowLoopback: false }));
    expect(r.error).toMatch(/loopback/);
  });

  it('refuses a self-signed certificate unless insecure, and warns before expiry', async () => {
    const selfSigned = tls[0]!.url;
    expect((await check({ type: 'http', url: selfSigned })).error).toMatch(/self[- ]signed/i);
    const ok = await check({ type: 'http', url: selfSigned, tls: { insecure: true } });
    expect(ok.status).toBe('up');
    expect(ok.phases.connectMs).not.toBeNull();
    expect((ok.details.certificate as { subject: string }).subject).toBe('localhost');
    const soon = await check({ type: 'http', url: selfSigned, tls: { insecure: true, expiryWarningDays: 60 } });
    expect(soon).toMatchObject({ status: 'degraded' });
    expect(soon.error).toMatch(/certificate expires in 29 day/);
  });

  it('is down on an expired certificate, degraded when insecure is allowed', async () => {
    const expired = tls[1]!.url;
    expect((await check({ type: 'http', url: expired })).status).toBe('down');
    const r = await check({ type: 'http', url: expired, tls: { insecure: true } });
    expect(r.status).toBe('degraded');
    expect(r.error).toMatch(/certificate expired/);
  });
});

describe('workflow checks', () => {
  const steps = (password: string) => [
    { name: 'log in', method: 'POST', url: '{{base}}/login', body: { user: password }, expect: { status: [200] }, extract: { token: 'token' } },
    { name: 'register', method: 'POST', url: '{{base}}/courses/7/registrations', headers: { authorization: 'Bearer {{token}}' }, expect: { status: [201], json: [{ path: 'course', equals: 7 }] } },
  ];
  it('runs steps in sequence, sharing extracted variables', async () => {
    const r = await check({ type: 'workflow', vars: { base }, steps: steps('ada') });
    expect(r.status).toBe('up');
    expect((r.details.steps as { name: string; statusCode: number }[]).map((s) => [s.name, s.statusCode])).toEqual([
      ['log in', 200],
      ['register', 201],
    ]);
  });

  it('names the failing step', async () => {
    const r = await check({ type: 'workflow', vars: { base }, steps: steps('eve') });
    expect(r.status).toBe('down');
    expect(r.error).toBe('step "log in": status 401, expected 200');
  });
});

describe('TCP and DNS checks', () => {
  it('TCP: up on a listening port, down on a closed one', async () => {
    const port = Number(new URL(base).port);
    expect((await check({ type: 'tcp', host: '127.0.0.1', port })).status).toBe('up');
    expect((await check({ type: 'tcp', host: 'localhost', port: await closedPort() })).error).toMatch(/ECONNREFUSED/);
  });

  it('DNS: resolves, compares with the expected value, fails for .invalid', async () => {
    expect(await check({ type: 'dns', hostname: 'localhost', expected: '127.0.0.1' })).toMatchObject({ status: 'up', details: { answers: ['127.0.0.1'] } });
    expect((await check({ type: 'dns', hostname: 'localhost', expected: '10.1.2.3' })).error).toMatch(/expected 10.1.2.3/);
    expect((await check({ type: 'dns', hostname: 'vigil-test.invalid' })).error).toMatch(/ENOTFOUND/);
  });
});

describe('database checks on this machine', () => {
  it('PostgreSQL: SELECT 1 on db test; down on a closed port', async () => {
    const r = await check({ type: 'postgres', database: 'test' });
    expect(r).toMatchObject({ status: 'up', details: { rows: 1 } });
    expect(String(r.details.version)).toMatch(/^\d+/);
    expect((await check({ type: 'postgres', database: 'test', port: await closedPort() })).status).toBe('down');
  });

  it('MariaDB: handshake version, and authenticated COM_PING as root; down on a closed port', async () => {
    expect(String((await check({ type: 'mysql' })).details.version)).toMatch(/MariaDB|^\d/);
    expect(await check({ type: 'mysql', user: 'root' })).toMatchObject({ status: 'up', details: { ping: 'ok' } });
    expect((await check({ type: 'mysql', user: 'nobody-here', password: 'x' })).error).toMatch(/authentication failed|Access denied/);
    expect((await check({ type: 'mysql', port: await closedPort() })).status).toBe('down');
  });

  it('Redis: PING → PONG; down on a closed port', async () => {
    expect((await check({ type: 'redis' })).status).toBe('up');
    expect((await check({ type: 'redis', port: await closedPort() })).status).toBe('down');
  });
});
