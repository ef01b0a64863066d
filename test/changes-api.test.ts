/**
 * Changes through a real server: `POST /api/v1/changes` as the demo and pipelines send it (ingest or
 * write tokens), refusals naming the field, `GET /api/v1/changes` filters; and detection — spans sent
 * over OTLP with service.version 1.0 then 1.1 record one detected deploy, a restart does not record it
 * again, and a posted deploy makes the detected one redundant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEntry, ChangesResponse } from '../src/api/contract.ts';
import { loadConfig } from '../src/config/config.ts';
import { startVigil, type VigilServer } from '../src/server/app.ts';
import { tempDir } from './helpers/vigil.ts';

const dirs = tempDir('vigil-changes-api-');
let server: VigilServer;
let base: string;
const tokens: Record<'ingest' | 'write' | 'read' | 'admin', string> = { ingest: '', write: '', read: '', admin: '' };

async function start(): Promise<void> {
  const config = loadConfig({ env: {}, flags: { dataDir: dirs.dir, port: 0, otlpPort: 0, hecPort: 0, logLevel: 'silent', demo: { enabled: false }, agent: { selfMonitor: false }, alerting: { defaultRules: false } } });
  server = await startVigil(config);
  base = server.urls.api;
}

beforeAll(async () => {
  await start();
  for (const scope of ['ingest', 'write', 'read', 'admin'] as const) tokens[scope] = await server.tokens.create(`changes-${scope}`, scope);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  dirs.cleanup();
});

async function post(body: unknown, token: string | null = tokens.ingest): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/api/v1/changes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function list(query: string, token = tokens.read): Promise<ChangesResponse> {
  const res = await fetch(`${base}/api/v1/changes?${query}`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as ChangesResponse;
}

/** One server span of `service` at `version` over OTLP/HTTP JSON, as an SDK exports it. */
async function sendSpan(service: string, version: string, instance = 'pod-1'): Promise<void> {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', service), attr('service.namespace', 'shop'), attr('service.version', version), attr('service.instance.id', instance), attr('host.name', 'node-1')] },
        scopeSpans: [{ scope: { name: 'test' }, spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'GET /cart', kind: 2, startTimeUnixNano: String(nowNs - 5_000_000n), endTimeUnixNano: String(nowNs) }] }],
      },
    ],
  };
  const res = await fetch(`${server.urls.otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.ingest}` }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  await server.changes.idle();
}

describe('POST /api/v1/changes', () => {
  it('accepts exactly what the demo sends, with an ingest token, and lists it', async () => {
    const timestamp = new Date(Date.now() - 60_000).toISOString();
    const demo = { service: 'lms-api', namespace: 'lms', kind: 'deploy', version: '2.5.0', previousVersion: '2.4.1', description: 'lms-api deployed: 2.4.1 → 2.5.0', timestamp, source: 'vigil-demo' };
    const r = await post(demo);
    expect(r.status).toBe(201);
    expect(r.body.id).toEqual(expect.any(Number));
    const got = (await list('service=lms-api')).changes;
    expect(got).toEqual([
      {
        id: r.body.id as number,
        at: timestamp,
        service: 'lms-api',
        namespace: 'lms',
        kind: 'deploy',
        version: '2.5.0',
        previousVersion: '2.4.1',
        description: 'lms-api deployed: 2.4.1 → 2.5.0',
        author: null,
        commit: null,
        source: 'api',
        attributes: { reporter: 'vigil-demo' },
        createdAt: expect.any(String),
      } satisfies ChangeEntry,
    ]);
    const one = await fetch(`${base}/api/v1/changes/${String(r.body.id)}`, { headers: { authorization: `Bearer ${tokens.read}` } });
    expect(((await one.json()) as ChangeEntry).version).toBe('2.5.0');
  });

  it('takes author, commit and attributes; write tokens may post; read, anonymous and bad tokens may not', async () => {
    const r = await post({ service: 'checkout', kind: 'feature_flag', description: 'new-pricing on for 10%', author: 'alice', commit: '9fceb02', attributes: { flag: 'new-pricing', percent: 10, enabled: true } }, tokens.write);
    expect(r.status).toBe(201);
    const [c] = (await list('service=checkout&kind=feature_flag')).changes;
    expect(c).toMatchObject({ kind: 'feature_flag', author: 'alice', commit: '9fceb02', attributes: { flag: 'new-pricing', percent: 10, enabled: true }, source: 'api', version: null });
    expect(Date.now() - Date.parse(c!.at)).toBeLessThan(10_000);
    expect((await post({ service: 'checkout', kind: 'config' }, tokens.read)).status).toBe(403);
    expect((await post({ service: 'checkout', kind: 'config' }, null)).status).toBe(401);
    expect((await post({ service: 'checkout', kind: 'config' }, 'vgl_not_a_token')).status).toBe(401);
    // Reading needs read scope: an ingest token cannot read what it posted.
    expect((await fetch(`${base}/api/v1/changes`, { headers: { authorization: `Bearer ${tokens.ingest}` } })).status).toBe(403);
  });

  it.each([
    ['no service', { kind: 'deploy' }, 'service', 'service: is required'],
    ['a blank service', { service: '  ', kind: 'deploy' }, 'service', 'service: is required'],
    ['no kind', { service: 'a' }, 'kind', 'kind: is required'],
    ['an unknown kind', { service: 'a', kind: 'deploi' }, 'kind', 'kind: "deploi" is not one of deploy, config, feature_flag, infrastructure, rollback, restart, other'],
    ['a misspelt field', { service: 'a', kind: 'deploy', verison: '1.0' }, 'verison', 'verison: unknown field'],
    ['a number as version', { service: 'a', kind: 'deploy', version: 2 }, 'version', 'version: expected a string, got number'],
    ['a bad timestamp', { service: 'a', kind: 'deploy', timestamp: 'yesterday' }, 'timestamp', 'timestamp: "yesterday" is not an ISO-8601 time'],
    ['seconds for milliseconds', { service: 'a', kind: 'deploy', timestamp: 1764590400 }, 'timestamp', 'timestamp: before 2000-01-01'],
    ['a time next week', { service: 'a', kind: 'deploy', timestamp: Date.now() + 7 * 86_400_000 }, 'timestamp', 'timestamp: more than a day in the future'],
    ['a nested attribute', { service: 'a', kind: 'deploy', attributes: { build: { id: 1 } } }, 'attributes.build', 'attributes.build: expected a string'],
    ['a long description', { service: 'a', kind: 'deploy', description: 'x'.repeat(5000) }, 'description', 'description: at most 4096 characters'],
    ['source detected', { service: 'a', kind: 'deploy', source: 'detected' }, 'source', 'source: "detected" is reserved'],
    ['an array', [{ service: 'a', kind: 'deploy' }], 'body', 'body: expected a JSON object'],
  ])('refuses %s with 400 naming the field', async (_, body, field, message) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.body.field).toBe(field);
    expect(String(r.body.error).startsWith(message)).toBe(true);
  });

  it('refuses a body over 64 KiB and text that is not JSON', async () => {
    expect((await post({ service: 'a', kind: 'deploy', description: 'x'.repeat(70_000) })).status).toBe(413);
    expect((await post('{"service":')).status).toBe(400);
  });
});

describe('GET /api/v1/changes', () => {
  it('filters by kind and source, answers newest first, cuts at limit and refuses bad parameters', async () => {
    for (const v of ['1', '2', '3']) expect((await post({ service: 'inventory', kind: 'deploy', version: v, timestamp: Date.now() - 60_000 * (4 - Number(v)) }, tokens.write)).status).toBe(201);
    const all = await list('service=inventory&kind=deploy,rollback&source=api');
    expect(all.changes.map((c) => c.version)).toEqual(['3', '2', '1']);
    expect(all.truncated).toBe(false);
    const cut = await list('service=inventory&limit=2');
    expect(cut.changes.map((c) => c.version)).toEqual(['3', '2']);
    expect(cut.truncated).toBe(true);
    expect((await list('service=inventory&since=90s')).changes.map((c) => c.version)).toEqual(['3']);
    for (const [q, msg] of [
      ['kind=deploi', 'kind: "deploi" is not one of'],
      ['source=ci', 'source: "ci" is not one of'],
      ['limit=0', 'limit: expected a whole number'],
      ['since=forever', 'since:'],
    ]) {
      const res = await fetch(`${base}/api/v1/changes?${q}`, { headers: { authorization: `Bearer ${tokens.read}` } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(msg);
    }
    expect((await fetch(`${base}/api/v1/changes/999999`, { headers: { authorization: `Bearer ${tokens.read}` } })).status).toBe(404);
  });
});

describe('detection', () => {
  const detected = async (service: string) => (await list(`service=${service}&source=detected`)).changes;

  it('a service reporting service.version 1.1 after 1.0 records one detected deploy, once, also after a restart', async () => {
    await sendSpan('cart', '1.0');
    await sendSpan('cart', '1.0');
    expect(await detected('cart')).toEqual([]);
    await sendSpan('cart', '1.1');
    await sendSpan('cart', '1.1');
    const [deploy, ...more] = await detected('cart');
    expect(more).toEqual([]);
    expect(deploy).toMatchObject({ service: 'cart', namespace: 'shop', kind: 'deploy', version: '1.1', previousVersion: '1.0', source: 'detected', attributes: { 'service.instance.id': 'pod-1', 'host.name': 'node-1' } });
    expect(Date.now() - Date.parse(deploy!.at)).toBeLessThan(30_000);

    await server.stop();
    await start();
    await sendSpan('cart', '1.1', 'pod-2');
    await sendSpan('cart', '1.1');
    expect((await detected('cart')).map((c) => c.id)).toEqual([deploy!.id]);
  }, 60_000);

  it('a deploy posted by a pipeline makes the detected one redundant, whichever comes first', async () => {
    await sendSpan('billing', '4.0');
    // Posted first, then the new version's telemetry.
    expect((await post({ service: 'billing', kind: 'deploy', version: '4.1', previousVersion: '4.0', source: 'github-actions' })).status).toBe(201);
    await sendSpan('billing', '4.1');
    // Detected first, then posted (the pipeline reports when its rollout finished).
    await sendSpan('billing', '4.2');
    expect((await detected('billing')).map((c) => c.version)).toEqual(['4.2']);
    expect((await post({ service: 'billing', kind: 'deploy', version: '4.2', previousVersion: '4.1', source: 'github-actions' })).status).toBe(201);
    const all = (await list('service=billing')).changes;
    expect(all.map((c) => [c.version, c.source])).toEqual([
      ['4.2', 'api'],
      ['4.1', 'api'],
    ]);
  });
});
