/**
 * The demo's dashboards and monitors reach Vigil through its public API (Vigil's src/ knows no demo
 * name), once per demo data directory: what the user deletes stays deleted.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVigil, tempDir, type TestVigil } from '../test/helpers/vigil.ts';
import { installDemoContent } from './content.ts';
import { FAULTS, REMEDIATIONS, SERVICES } from './faults.ts';

let v: TestVigil;
let dir: ReturnType<typeof tempDir>;
let read: string;
let write: string;

beforeAll(async () => {
  v = await startTestVigil();
  dir = tempDir('vigil-demo-content-');
  read = await v.server.tokens.create('content-read', 'read');
  write = await v.server.tokens.create('content-write', 'write');
});

afterAll(async () => {
  await v?.stop();
  dir?.cleanup();
});

const get = async <T>(route: string): Promise<T> => (await (await fetch(`${v.server.urls.api}${route}`, { headers: { authorization: `Bearer ${read}` } })).json()) as T;
const dashboards = async () => (await get<{ dashboards: { id: string; title: string; builtin: boolean }[] }>('/api/v1/dashboards')).dashboards;

describe('demo content through the API', () => {
  it('a Vigil without the demo has only generic built-ins', async () => {
    expect((await dashboards()).map((d) => d.title)).toEqual(['Hosts and processes']);
  });

  it('creates the RMS and LMS dashboards and workflow monitors once per data directory', async () => {
    const stateFile = path.join(dir.dir, 'content.json');
    const opts = { vigilUrl: v.server.urls.api, token: write, adminUrl: 'http://127.0.0.1:4480', stateFile };
    const first = await installDemoContent(opts);
    expect(first.failed).toEqual([]);
    expect(first.created.slice(0, 4)).toEqual(['dashboard:RMS overview', 'dashboard:LMS overview', 'monitor:lms-login-register', 'monitor:rms-calculate-pay']);
    expect(first.created.filter((k) => k.startsWith('action:'))).toEqual(Object.keys(REMEDIATIONS).map((a) => `action:${a}`));
    expect(first.created.filter((k) => k.startsWith('runbook:'))).toEqual(SERVICES.map((s) => `runbook:${s}`));
    expect(existsSync(stateFile)).toBe(true);
    const list = await dashboards();
    expect(list.filter((d) => !d.builtin).map((d) => d.title).sort()).toEqual(['LMS overview', 'RMS overview']);
    const rms = await get<{ spec: { panels: { query?: string }[] } }>(`/api/v1/dashboards/${list.find((d) => d.title === 'RMS overview')!.id}`);
    expect(rms.spec.panels).toHaveLength(10);
    expect(rms.spec.panels[0]!.query).toContain('service.namespace=rms');
    const monitor = await get<{ system: string; type: string; source: string; steps: { url: string }[] }>('/api/v1/monitors/lms-login-register');
    expect(monitor).toMatchObject({ system: 'lms', type: 'workflow', source: 'api' });
    expect(monitor.steps[0]!.url).toBe('http://127.0.0.1:4480/status');

    // Deleted by the user: not created again on the next start.
    const lms = list.find((d) => d.title === 'LMS overview')!;
    await fetch(`${v.server.urls.api}/api/v1/dashboards/${lms.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${write}` } });
    expect(await installDemoContent(opts)).toEqual({ created: [], failed: [] });
    expect((await dashboards()).map((d) => d.title).sort()).toEqual(['Hosts and processes', 'RMS overview']);
  });

  it("offers every fault's remediation on its service's incidents, through the admin API", async () => {
    const actions = await get<{ actions: { name: string; url: string; services: string[] }[] }>('/api/v1/actions');
    expect(actions.actions.find((a) => a.name === 'recreate-index')).toMatchObject({ url: 'http://127.0.0.1:4480/remediate/recreate-index', services: ['rms-api'] });
    const runbooks = await get<{ runbooks: { scope: { value: string }; actions: string[]; body: string }[] }>('/api/v1/runbooks');
    expect(runbooks.runbooks.map((r) => r.scope.value).sort()).toEqual([...SERVICES].sort());
    for (const f of FAULTS) {
      const rb = runbooks.runbooks.find((r) => r.scope.value === f.target)!;
      expect(rb.actions, f.name).toContain(f.remediation);
      expect(rb.body).toContain(f.description);
    }
  });

  it('reports what Vigil refuses instead of throwing (an ingest token may not create content)', async () => {
    const report = await installDemoContent({ vigilUrl: v.server.urls.api, token: v.ingestToken, adminUrl: 'http://127.0.0.1:4480', only: 'dashboards' });
    expect(report.created).toEqual([]);
    expect(report.failed).toHaveLength(2);
    expect(report.failed[0]).toMatch(/^dashboard:RMS overview: 403/);
  });
});
