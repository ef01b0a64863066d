/**
 * Monitors through a real Vigil: monitors as code (YAML, errors with file/line/field, reload on
 * change, read-only through the API), the JSON API with access rules, checks recorded as telemetry
 * (metric points, a state-change log record) and in the state store (history, rollups, uptime,
 * downtimes), flapping absorbed by retries, and heartbeats.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
let readToken: string;
let writeToken: string;
let target: http.Server;
let targetUrl = '';
let healthy = true;
const dirs = tempDir('vigil-monitors-');
const monitorsDir = join(dirs.dir, 'monitors');

const goodYaml = (url: string) => `monitors:
  - id: file-http
    name: Catalog from a file
    system: lms
    type: http
    url: ${url}/health
    interval: 1h
`;

beforeAll(async () => {
  target = http.createServer((_req, res) => {
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ healthy }));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  mkdirSync(monitorsDir, { recursive: true });
  writeFileSync(join(monitorsDir, 'lms.yaml'), goodYaml(targetUrl));
  writeFileSync(join(monitorsDir, 'broken.yaml'), `monitors:\n  - id: broken-one\n    name: Broken\n    type: http\n    url: not a url\n    interval: 5s\n`);
  v = await startTestVigil({ monitors: { dir: monitorsDir }, demo: { enabled: false }, agent: { selfMonitor: false } });
  readToken = await v.server.tokens.create('reader', 'read');
  writeToken = await v.server.tokens.create('writer', 'write');
});

afterAll(async () => {
  await v?.stop();
  await new Promise((r) => target.close(r));
  dirs.cleanup();
});

async function api(method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${v.server.urls.api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('monitors as code', () => {
  it('loads YAML files and reports errors naming file, line and field', async () => {
    const { status, body } = await api('GET', '/api/v1/monitors', readToken);
    expect(status).toBe(200);
    expect((body.monitors as { id: string; source: string; file: string }[]).map((m) => [m.id, m.source, m.file])).toEqual([['file-http', 'file', 'lms.yaml']]);
    const errors = body.fileErrors as { file: string; line: number; field: string; message: string }[];
    expect(errors).toContainEqual({ file: 'broken.yaml', line: 5, field: 'monitors[0].url (monitor broken-one)', message: 'expected an absolute http(s) URL' });
    expect(errors).toContainEqual({ file: 'broken.yaml', line: 6, field: 'monitors[0].interval (monitor broken-one)', message: 'interval must be at least 10s' });
  });

  it('keeps file monitors read-only through the API', async () => {
    const put = await api('PUT', '/api/v1/monitors/file-http', writeToken, { name: 'x', type: 'tcp', host: 'h', port: 1 });
    expect(put.status).toBe(409);
    expect(put.body.error).toMatch(/defined in lms\.yaml/);
    expect((await api('DELETE', '/api/v1/monitors/file-http', writeToken)).status).toBe(409);
  });

  it('reloads when a file changes, and keeps the last good version of a file that breaks', async () => {
    writeFileSync(join(monitorsDir, 'rms.yaml'), `- id: file-tcp\n  name: RMS port\n  system: rms\n  type: tcp\n  host: 127.0.0.1\n  port: ${new URL(targetUrl).port}\n`);
    writeFileSync(join(monitorsDir, 'lms.yaml'), `monitors:\n  - id: file-http\n    name: [unclosed\n`);
    const deadline = Date.now() + 8000;
    let ids: string[] = [];
    let errors: { file: string }[] = [];
    while (Date.now() < deadline) {
      const { body } = await api('GET', '/api/v1/monitors', readToken);
      ids = (body.monitors as { id: string }[]).map((m) => m.id);
      errors = body.fileErrors as { file: string }[];
      if (ids.includes('file-tcp') && errors.some((e) => e.file === 'lms.yaml')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(ids).toEqual(['file-http', 'file-tcp']);
    expect((errors.find((e) => e.file === 'lms.yaml') as { line: number } | undefined)?.line).toBeGreaterThanOrEqual(3);
    writeFileSync(join(monitorsDir, 'lms.yaml'), goodYaml(targetUrl));
  });
});

describe('monitors API', () => {
  const monitor = () => ({ id: 'api-http', name: 'LMS health', system: 'lms', type: 'http', url: `${targetUrl}/health`, interval: '1h', retries: 1, expect: { json: [{ path: 'healthy', equals: true }] } });

  it('enforces access: read to list, write to change, nothing anonymous', async () => {
    expect((await api('GET', '/api/v1/monitors', undefined)).status).toBe(401);
    expect((await api('POST', '/api/v1/monitors', readToken, monitor())).status).toBe(403);
    expect((await api('POST', '/api/v1/monitors', v.ingestToken, monitor())).status).toBe(403);
  });

  it('validates bodies naming the field', async () => {
    const r = await api('POST', '/api/v1/monitors', writeToken, { ...monitor(), interval: '2s', url: 'nope' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/url: expected an absolute http\(s\) URL/);
    expect(r.body.error).toMatch(/interval: interval must be at least 10s/);
  });

  it('creates, checks, absorbs a flap with retries, goes down, recovers — recorded everywhere', async () => {
    const created = await api('POST', '/api/v1/monitors', writeToken, monitor());
    expect(created.status).toBe(201);
    expect((await api('POST', '/api/v1/monitors', writeToken, monitor())).status).toBe(409);
    const checkNow = async () => (await api('POST', '/api/v1/monitors/api-http/check', writeToken)).body as { state: string; result: { status: string } };

    healthy = true;
    expect((await checkNow()).state).toBe('up');
    healthy = false;
    expect(await checkNow()).toMatchObject({ state: 'up', result: { status: 'down' } }); // retry 1 of 1: still up
    healthy = true;
    expect((await checkNow()).state).toBe('up'); // the flap never became an outage
    healthy = false;
    await checkNow();
    expect((await checkNow()).state).toBe('down');
    healthy = true;
    expect((await checkNow()).state).toBe('up');

    const got = await api('GET', '/api/v1/monitors/api-http', readToken);
    expect(got.body).toMatchObject({ id: 'api-http', source: 'api', status: { state: 'up' } });

    // State changes: history in SQLite, log records in the telemetry store.
    const down = await api('GET', '/api/v1/monitors/api-http/downtimes?since=1h', readToken);
    const periods = down.body.downtimes as { start: string; end: string | null; error: string }[];
    expect(periods).toHaveLength(1);
    expect(periods[0]!.end).not.toBeNull();
    expect(periods[0]!.error).toMatch(/healthy is false, expected true|status 503/);
    await v.server.monitoring.scheduler.flushTelemetry();
    await v.server.monitoring.scheduler.flushState();
    expect(await countRows(v.server, 'otel_logs', `ServiceName = 'vigil-monitors' AND json_extract_string(LogAttributes, '$."monitor.id"') = 'api-http' AND json_extract_string(LogAttributes, '$."monitor.state.to"') = 'down' AND SeverityText = 'ERROR'`)).toBe(1);

    // Every check as metric points; the results endpoint reads them back.
    const results = await api('GET', '/api/v1/monitors/api-http/results?since=1h', readToken);
    const list = results.body.results as { up: boolean; status: string; durationMs: number }[];
    expect(list.map((r) => r.up)).toEqual([true, false, false, true, false, true]);
    expect(list.every((r) => r.durationMs > 0)).toBe(true);
    expect(await countRows(v.server, 'otel_metrics_gauge', `MetricName = 'vigil.check.phase_ms' AND json_extract_string(Attributes, '$."monitor.id"') = 'api-http' AND json_extract_string(Attributes, '$.phase') = 'connect'`)).toBe(6);

    // Uptime from rollups: 3 of 6 checks were down.
    const up = await api('GET', '/api/v1/monitors/api-http/uptime', readToken);
    const windows = up.body.windows as Record<string, { uptime: number; checks: number }>;
    for (const w of ['24h', '7d', '30d', '90d']) expect(windows[w]).toMatchObject({ uptime: 0.5, checks: 6 });
    expect((up.body.responseTime as { points: { checks: number }[] }).points.at(-1)!.checks).toBe(6);
    const systems = await api('GET', '/api/v1/systems/uptime', readToken);
    expect(systems.body.systems).toContainEqual(expect.objectContaining({ system: 'lms' }));
  });

  it('replaces and deletes API monitors', async () => {
    const put = await api('PUT', '/api/v1/monitors/api-http', writeToken, { ...monitor(), name: 'LMS health v2' });
    expect(put.status).toBe(200);
    expect((await api('GET', '/api/v1/monitors/api-http', readToken)).body.name).toBe('LMS health v2');
    expect((await api('DELETE', '/api/v1/monitors/api-http', writeToken)).status).toBe(204);
    expect((await api('GET', '/api/v1/monitors/api-http', readToken)).status).toBe(404);
  });
});

describe('credentials in definitions', () => {
  it('are sealed at rest and write-only for every role', async () => {
    const db = { id: 'rms-db', name: 'RMS database', system: 'rms', type: 'postgres', database: 'test', password: 'hunter2-secret', interval: '1h' };
    expect((await api('POST', '/api/v1/monitors', writeToken, db)).status).toBe(201);
    const wf = { id: 'api-flow', name: 'Flow', type: 'workflow', interval: '1h', vars: { apiKey: 'k-secret' }, steps: [{ name: 's', url: `${targetUrl}/x`, headers: { Authorization: 'Bearer t-secret', accept: 'application/json' } }] };
    expect((await api('POST', '/api/v1/monitors', writeToken, wf)).status).toBe(201);
    const asReader = JSON.stringify((await api('GET', '/api/v1/monitors', readToken)).body);
    for (const secret of ['hunter2-secret', 'k-secret', 't-secret']) expect(asReader).not.toContain(secret);
    expect(asReader).toContain('application/json');
    // Write-only: not even principals who may change the monitor read a saved secret back.
    for (const token of [writeToken, v.adminToken]) expect(JSON.stringify((await api('GET', '/api/v1/monitors', token)).body)).not.toMatch(/hunter2-secret|k-secret|t-secret/);
    expect((await api('GET', '/api/v1/monitors/rms-db', v.adminToken)).body.password).toBe('********');
    const raw = await v.server.state.selectFrom('monitors').select('spec').where('id', 'in', ['rms-db', 'api-flow']).execute();
    for (const r of raw) expect(r.spec).not.toMatch(/secret/);
  });
});

describe('heartbeat monitors', () => {
  it('is up while the job pushes and down once a beat is missed past interval + grace', async () => {
    const created = await api('POST', '/api/v1/monitors', writeToken, { id: 'nightly-backup', name: 'Nightly backup', system: 'rms', type: 'push', interval: '60s', grace: '30s' });
    expect(created.status).toBe(201);
    const token = String(created.body.pushToken);
    expect(token.length).toBeGreaterThan(20);
    // The token is the credential; read access does not reveal it.
    expect((await api('GET', '/api/v1/monitors/nightly-backup', readToken)).body.pushToken).toBeUndefined();

    const beat = await fetch(`${v.server.urls.api}/api/v1/push/${token}`, { method: 'POST' });
    expect(beat.status).toBe(200);
    expect(v.server.monitoring.scheduler.status('nightly-backup')?.state).toBe('up');
    expect((await fetch(`${v.server.urls.api}/api/v1/push/not-a-real-token-at-all`, { method: 'POST' })).status).toBe(404);

    const later = Date.now() + 91_000;
    const missed = await v.server.monitoring.scheduler.runNow('nightly-backup', later);
    expect(missed).toMatchObject({ state: 'down', result: { status: 'down' } });
    expect(missed!.result.error).toMatch(/last heartbeat \d+ s ago/);

    // A job reporting its own failure is down at once; a good beat recovers.
    await fetch(`${v.server.urls.api}/api/v1/push/${token}?status=up`);
    expect(v.server.monitoring.scheduler.status('nightly-backup')?.state).toBe('up');
    await fetch(`${v.server.urls.api}/api/v1/push/${token}?status=down&msg=disk%20full`);
    expect(v.server.monitoring.scheduler.status('nightly-backup')?.state).toBe('down');
  });
});
