import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVigil, type TestVigil } from '../../test/helpers/vigil.ts';
import type { DiagnosisResponse } from '../api/contract.ts';

describe('diagnosis through the API', () => {
  let v: TestVigil;
  const call = async (method: string, path: string, body?: unknown, token = v.adminToken) => {
    const res = await fetch(`${v.server.urls.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  beforeAll(async () => {
    v = await startTestVigil();
  });
  afterAll(async () => v.stop());

  it('diagnoses an incident as it opens, stores the report and puts it on the timeline', async () => {
    const opened = await call('POST', '/api/v1/incidents', { title: 'checkout fails', services: ['checkout'], startedAt: new Date(Date.now() - 5 * 60_000).toISOString() });
    expect(opened.status).toBe(201);
    const id = opened.body.id as number;
    await v.server.diagnosis.idle();
    const r = await call('GET', `/api/v1/incidents/${id}/diagnosis`);
    expect(r.status).toBe(200);
    const report = r.body as unknown as DiagnosisResponse;
    expect(report).toMatchObject({ incidentId: id, state: 'ready', trigger: 'opened' });
    expect(report.scope.services).toEqual(['checkout']);
    expect(Date.parse(report.scope.baseline.to)).toBe(Date.parse(report.scope.window.from));
    expect(Date.parse(report.scope.window.from)).toBeLessThan(Date.parse(report.scope.onsetAt));
    expect(report.detectors.map((d) => d.name).sort()).toContain('operations');
    expect(report.detectors.every((d) => d.state === 'ok')).toBe(true);
    const detail = await call('GET', `/api/v1/incidents/${id}`);
    const kinds = (detail.body.timeline as { kind: string }[]).map((e) => e.kind);
    expect(kinds).toContain('diagnosis');
  });

  it('runs again on demand (write access), answers 202 with the running report, and 404 for unknown incidents', async () => {
    const opened = await call('POST', '/api/v1/incidents', { title: 'ledger slow' });
    const id = opened.body.id as number;
    await v.server.diagnosis.idle();
    const again = await call('POST', `/api/v1/incidents/${id}/diagnosis`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ incidentId: id, state: 'running', trigger: 'manual' });
    await v.server.diagnosis.idle();
    const r = await call('GET', `/api/v1/incidents/${id}/diagnosis`);
    expect(r.body).toMatchObject({ id: again.body.id, state: 'ready' });
    expect((await call('GET', '/api/v1/incidents/99999/diagnosis')).status).toBe(404);
    expect((await call('POST', '/api/v1/incidents/99999/diagnosis')).status).toBe(404);
    const reader = await v.server.tokens.create('reader', 'read');
    expect((await call('POST', `/api/v1/incidents/${id}/diagnosis`, undefined, reader)).status).toBe(403);
    expect((await call('GET', `/api/v1/incidents/${id}/diagnosis`, undefined, reader)).status).toBe(200);
  });
});
